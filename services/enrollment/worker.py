"""Celery entrypoint: ``celery -A services.enrollment.worker worker -Q enrollment,enrollment.events``."""
from services.enrollment.app import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
