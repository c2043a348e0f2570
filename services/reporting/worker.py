"""Celery entrypoint: ``celery -A services.reporting.worker worker -Q reporting,reporting.events``."""
from services.reporting.app import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
