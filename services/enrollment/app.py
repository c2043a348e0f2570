"""Enrollment service: catalogue and annual plan, sessions, trainees, enrollments, waitlists."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from services.enrollment.adapters.orm import metadata
from services.enrollment.service_layer.unit_of_work import DEFAULT_SETTINGS
from shared.celery_factory import celery_init_app
from shared.flask_base import Database, create_service_app

SERVICE = "enrollment"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    database = Database(metadata, Path(__file__).parent / "migrations")
    app, api = create_service_app(SERVICE, __name__, config, database)
    for key, value in DEFAULT_SETTINGS.items():  # below ENROLLMENT_* env and create_app(config)
        app.config.setdefault(key, value)

    from services.enrollment.api import catalogue, enrollments, plans
    from services.enrollment.bulk import api as bulk_api
    api.register_blueprint(catalogue.blp)
    api.register_blueprint(enrollments.blp)
    api.register_blueprint(plans.blp)
    api.register_blueprint(bulk_api.blp)

    from services.enrollment.cli import register_cli
    register_cli(app)

    celery_app = celery_init_app(app)
    if app.config["OUTBOX_RELAY"] == "background":
        from services.enrollment.adapters import orm
        from shared.outbox_relay import BackgroundRelay
        app.extensions["outbox_relay"] = BackgroundRelay(database.engine, orm.outbox, celery_app,
                                                         linger_seconds=float(app.config["OUTBOX_RELAY_LINGER_SECONDS"]))
    with app.app_context():
        from services.enrollment.tasks import register_tasks
        register_tasks(celery_app)
    return app
