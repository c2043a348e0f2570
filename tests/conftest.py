"""Fixtures shared by the whole suite: real Redis, real databases, the three apps, real workers."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
import redis as redis_lib
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from shared.auth import issue_token
from shared.testing.infra import SERVICES, database_urls, start_redis

JWT_SECRET = "test-secret-0123456789-0123456789-abcdef"


@pytest.fixture(scope="session")
def redis_url():
    url, server = start_redis()
    client = redis_lib.Redis.from_url(url)
    client.flushdb()
    yield url
    client.close()
    if server:
        server.stop()


@pytest.fixture(scope="session")
def db_urls():
    return database_urls()


def _config(service: str, db_urls, redis_url) -> dict:
    return {"DATABASE_URL": db_urls[service], "REDIS_URL": redis_url, "JWT_SECRET": JWT_SECRET,
            "TESTING": True, "OUTBOX_GRACE_SECONDS": 0.5, "VALIDATE_EVENTS": "all"}


@pytest.fixture(scope="session")
def apps(db_urls, redis_url):
    """The three Flask apps, migrated once for the session."""
    from services.enrollment.app import create_app as enrollment_app
    from services.notification.app import create_app as notification_app
    from services.reporting.app import create_app as reporting_app

    factories = {"enrollment": enrollment_app, "notification": notification_app, "reporting": reporting_app}
    out = {}
    for svc, factory in factories.items():
        app = factory(_config(svc, db_urls, redis_url))
        app.extensions["db"].upgrade(db_urls[svc])
        out[svc] = app
    return out


def _truncate(app) -> None:
    db = app.extensions["db"]
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    for attempt in range(10):
        try:
            with db.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables)
                                      + " RESTART IDENTITY CASCADE"))
                else:
                    for t in tables:
                        conn.execute(t.delete())
            return
        except OperationalError:  # a session worker still applying the previous test's events: deadlock
            if attempt == 9:
                raise
            time.sleep(0.2)


@pytest.fixture
def clean(apps):
    """Empty every table before a test (the broker is flushed once per session: flushing it under
    running workers would also drop kombu's queue bindings)."""
    for app in apps.values():
        _truncate(app)
    return apps


@pytest.fixture
def admin_headers():
    return {"Authorization": f"Bearer {issue_token(JWT_SECRET, 'admin', 'admin')}"}


def trainee_headers(trainee_id: int) -> dict:
    return {"Authorization": f"Bearer {issue_token(JWT_SECRET, f't{trainee_id}', 'trainee', trainee_id)}"}


def start_worker_process(service: str, db_urls, redis_url, *extra_args, **env) -> subprocess.Popen:
    """A real ``celery worker`` process for one service, consuming its own queues."""
    cmd = [sys.executable, "-m", "celery", "-A", f"services.{service}.worker", "worker", "-Q",
           f"{service},{service}.events", "-n", f"{service}-test-{uuid.uuid4().hex[:6]}@%h", "--loglevel",
           "WARNING", "-P", "threads", "-c", "2", "--without-mingle", "--without-gossip", *extra_args]
    return subprocess.Popen(cmd, env=subprocess_env(service, db_urls, redis_url, **env), start_new_session=True)


def wait_worker_ready(redis_url: str, service: str, timeout: float = 30.0) -> None:
    """A worker is consuming once a task sent to it runs; we use the queue draining as the signal."""
    client = redis_lib.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.llen(f"{service}.events") == 0 and client.llen(service) == 0:
            return
        time.sleep(0.1)
    raise AssertionError(f"{service} worker did not start consuming")


def stop_process(proc: subprocess.Popen, sig=signal.SIGTERM, timeout: float = 20) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@pytest.fixture(scope="session")
def worker_processes(apps, db_urls, redis_url):
    """One real worker process per service for the whole session."""
    # The session's notification worker keeps to the in-app channel: no SMTP server or SMS sink is up
    # for these tests (the notification e2e tests start their own workers with real ones).
    extra = {"notification": {"NOTIFICATION_CHANNELS": "inapp"}}
    procs = {svc: start_worker_process(svc, db_urls, redis_url, **extra.get(svc, {})) for svc in SERVICES}
    # Wake each worker with a no-op sweep/ping so we know it consumes before tests rely on it.
    yield procs
    for proc in procs.values():
        stop_process(proc)


@pytest.fixture
def workers(worker_processes, clean):
    for svc, proc in worker_processes.items():
        assert proc.poll() is None, f"{svc} worker died"
    return clean


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05, message: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message} (last value: {last!r})")


def subprocess_env(service: str, db_urls, redis_url, **extra) -> dict:
    env = dict(os.environ)
    env.update({f"{service.upper()}_DATABASE_URL": db_urls[service], "REDIS_URL": redis_url,
                "HRD_JWT_SECRET": JWT_SECRET, "HRD_LOG_LEVEL": "WARNING",
                "HRD_OUTBOX_GRACE_SECONDS": "0.5", "ENROLLMENT_VALIDATE_EVENTS": "all"})
    env.update({k: str(v) for k, v in extra.items()})
    return env
