"""Celery entrypoints of the notification service."""
from services.notification.adapters import orm
from services.notification.service_layer.handlers import handlers
from shared.consumer import register_consumer


def register_tasks(celery_app) -> None:
    register_consumer(celery_app, "notification", orm.inbox, handlers.apply)
