"""Enrollment service: catalogue and annual plan, sessions, trainees, enrollments, waitlists."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from services.enrollment.adapters.orm import metadata
from shared.celery_factory import celery_init_app
from shared.flask_base import Database, create_service_app

SERVICE = "enrollment"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    database = Database(metadata, Path(__file__).parent / "migrations")
    app, api = create_service_app(SERVICE, __name__, config, database)

    from services.enrollment.api import catalogue, enrollments
    api.register_blueprint(catalogue.blp)
    api.register_blueprint(enrollments.blp)
    api.register_blueprint(__import__("services.enrollment.bulk.api", fromlist=["blp"]).blp)  # issue 4

    celery_app = celery_init_app(app)
    with app.app_context():
        from services.enrollment.tasks import register_tasks
        register_tasks(celery_app)
    return app
