"""Reporting service: rolled-up statistics, plan vs actual, exports, dashboard."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from services.reporting.adapters.orm import metadata
from shared.celery_factory import celery_init_app
from shared.flask_base import Database, create_service_app

SERVICE = "reporting"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    database = Database(metadata, Path(__file__).parent / "migrations")
    app, api = create_service_app(SERVICE, __name__, config, database)

    from services.reporting.api import reports
    api.register_blueprint(reports.blp)

    celery_app = celery_init_app(app)
    with app.app_context():
        from services.reporting.tasks import register_tasks
        register_tasks(celery_app)
    return app
