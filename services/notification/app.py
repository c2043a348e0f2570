"""Notification service: automatic reminders and messages to trainees (e-mail, SMS, in-app)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from services.notification.adapters.orm import metadata
from shared.celery_factory import celery_init_app
from shared.flask_base import Database, create_service_app

SERVICE = "notification"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    database = Database(metadata, Path(__file__).parent / "migrations")
    app, api = create_service_app(SERVICE, __name__, config, database)

    from services.notification.service_layer.settings import NotificationSettings, apply_defaults
    apply_defaults(app.config)
    app.extensions["notification_settings"] = NotificationSettings.from_config(app.config)

    from services.notification.api import deliveries, messages, preferences, templates
    for module in (messages, deliveries, preferences, templates):
        api.register_blueprint(module.blp)

    celery_app = celery_init_app(app)
    with app.app_context():
        from services.notification.tasks import register_tasks
        register_tasks(celery_app)
    return app
