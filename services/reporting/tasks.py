"""Celery entrypoints of the reporting service."""
from services.reporting.adapters import orm
from services.reporting.service_layer.projector import handlers
from shared.consumer import register_consumer


def register_tasks(celery_app) -> None:
    register_consumer(celery_app, "reporting", orm.inbox, handlers.apply)
