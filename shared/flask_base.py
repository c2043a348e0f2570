"""What every service's ``create_app`` shares: settings, logging, JSON errors, auth, OpenAPI, health.

A service calls :func:`create_service_app` and then registers its own blueprints and tasks.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, jsonify
from flask_smorest import Api
from sqlalchemy import MetaData, text

from shared import auth, errors, logging as hrd_logging, metrics
from shared.config import load_settings
from shared.db import make_engine, make_session_factory


class Database:
    """Flask extension holding one service's engine and session factory."""

    def __init__(self, metadata: MetaData, migrations: Path):
        self.metadata = metadata
        self.migrations = migrations
        self.engine = None
        self.session_factory = None

    def init_app(self, app: Flask) -> None:
        self.engine = make_engine(app.config["DATABASE_URL"])
        self.session_factory = make_session_factory(self.engine)
        app.extensions["db"] = self

        @app.cli.command("migrate")
        def migrate_command():
            """Apply this service's Alembic migrations."""
            self.upgrade(app.config["DATABASE_URL"])
            print(f"{app.config['SERVICE_NAME']}: database at head")

    def upgrade(self, url: str) -> None:
        from shared.migrations import upgrade
        upgrade(self.migrations, url)


def create_service_app(service: str, import_name: str, config: dict[str, Any] | None,
                       database: Database) -> tuple[Flask, Api]:
    app = Flask(import_name)
    load_settings(app, service, config)
    app.json.ensure_ascii = False
    hrd_logging.configure_logging(service)
    hrd_logging.init_flask(app)
    metrics.init_flask(app)
    auth.init_flask(app)
    database.init_app(app)

    api = Api(app, spec_kwargs={
        "info": {"description": f"HRD training platform — {service} service. All /api/ routes need "
                                "`Authorization: Bearer <JWT>` (roles: admin, operator, trainee)."},
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                                          "bearerFormat": "JWT"}}},
        "security": [{"bearerAuth": []}],
    })
    errors.init_flask(app)  # after Api(): flask-smorest installs its own HTTPException handler

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok", service=service)

    @app.get("/readyz")
    def readyz():
        checks = {}
        try:
            with database.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - report, don't crash the probe
            checks["database"] = f"error: {exc.__class__.__name__}"
        try:
            celery_app = app.extensions.get("celery")
            with celery_app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            checks["broker"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["broker"] = f"error: {exc.__class__.__name__}"
        ready = all(v == "ok" for v in checks.values())
        return jsonify(status="ready" if ready else "not_ready", service=service, checks=checks), (200 if ready else 503)

    return app, api
