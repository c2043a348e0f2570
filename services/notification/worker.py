"""Celery entrypoint: ``celery -A services.notification.worker worker -Q notification,notification.events``."""
from services.notification.app import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
