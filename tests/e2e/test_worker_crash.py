"""A worker killed with SIGKILL in the middle of a batch loses nothing and doubles nothing:
Redis keeps the unacknowledged tasks (acks_late) and hands them to the next worker after the
visibility timeout; the inbox makes the re-run of any half-seen batch a no-op."""
from __future__ import annotations

import signal
import time
import uuid

import pytest
import redis as redis_lib
from celery import Celery
from sqlalchemy import func, select

from services.enrollment.adapters import orm as eorm
from services.enrollment.service_layer.unit_of_work import UnitOfWork
from services.reporting.adapters import orm as rorm
from shared import outbox
from shared.events import make_envelope
from tests.conftest import _truncate, start_worker_process, stop_process, wait_for
from tests.e2e.helpers import queues_drained

pytestmark = pytest.mark.integration

N_EVENTS = 20_000


def _course_events(n: int) -> list[dict]:
    return [make_envelope("hrd.enrollment.course.created.v1", "enrollment", {
        "id": 900_000 + i, "code": f"X99-{i:05d}", "year": 2099, "name_ko": f"부하 과정 {i}",
        "delivery": "classroom" if i % 2 else "elearning", "competency_area": "job", "planned_seats": 10,
        "planned_sessions": 1}, correlation_id=uuid.uuid4().hex, validate=False).to_dict() for i in range(n)]


def _counts(app):
    with app.extensions["db"].engine.connect() as conn:
        courses = conn.execute(select(func.count(), func.sum(rorm.rm_courses.c.planned_seats))
                               .where(rorm.rm_courses.c.year == 2099)).one()
        inbox = conn.execute(select(func.count()).select_from(rorm.inbox)).scalar_one()
    return courses[0], courses[1] or 0, inbox


def _unreceipted(app) -> int:
    with app.extensions["db"].engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(eorm.outbox)
                            .where(eorm.outbox.c.receipted_at.is_(None))).scalar_one()


def test_sigkill_mid_batch_then_recovery(clean, db_urls, redis_url):
    """Events go out through the enrollment outbox; a reporting worker is SIGKILLed mid-batch. Redis
    re-delivers what the dead worker had reserved; anything kombu lost in flight (popped, not yet
    recorded as unacked) is re-sent because the reporting service never receipted it. In the end every
    event is applied exactly once and every outbox row is receipted by both subscribers."""
    # Earlier tests' events still being applied by the session workers would land after the truncation.
    wait_for(lambda: queues_drained(redis_url), timeout=120, interval=0.2, message="earlier events consumed")
    for svc in ("enrollment", "notification", "reporting"):
        _truncate(clean[svc])
    # A broker namespace of its own (another Redis db) so the session's workers do not interfere.
    base, db = redis_url.rsplit("/", 1)
    url = f"{base}/{(int(db or 0) + 8) % 16}"
    r = redis_lib.Redis.from_url(url)
    r.flushdb()
    publisher = Celery("test-publisher", broker=url)
    publisher.conf.update(task_serializer="json", accept_content=["json"])

    # Commit N events in the enrollment outbox; the fast path publishes them at once.
    app = clean["enrollment"]
    edb = app.extensions["db"]
    with app.app_context():
        uow = UnitOfWork(edb.session_factory, edb.engine, publisher, validate_events=False)
        with uow:
            for env in _course_events(N_EVENTS):
                uow.emit(env["type"], env["payload"])
            uow.commit()
    assert r.llen("reporting.events") == N_EVENTS // outbox.PUBLISH_BATCH

    env = {"HRD_CELERY_VISIBILITY_TIMEOUT": "3", "HRD_CELERY_UNACKED_RESTORE_INTERVAL": "1",
           "HRD_OUTBOX_RECEIPT_TIMEOUT_SECONDS": "6"}
    victim = start_worker_process("reporting", db_urls, url, **env)
    wait_for(lambda: r.hlen("unacked") > 0, timeout=30, interval=0.01, message="worker took tasks")
    time.sleep(0.3)
    stop_process(victim, signal.SIGKILL)
    processed_at_kill = _counts(clean["reporting"])[0]
    assert processed_at_kill < N_EVENTS, "the worker finished before it could be killed; raise N_EVENTS"

    others = [start_worker_process(svc, db_urls, url, **env) for svc in ("reporting", "notification", "enrollment")]
    try:
        def swept_and_done():
            publisher.send_task("enrollment.outbox_sweep", queue="enrollment")  # what beat does every 2 s
            return _counts(clean["reporting"])[0] == N_EVENTS and _unreceipted(app) == 0
        wait_for(swept_and_done, timeout=180, interval=2, message="every event applied and receipted")
    finally:
        for p in others:
            stop_process(p)
    courses, seats, inbox = _counts(clean["reporting"])
    assert (courses, seats, inbox) == (N_EVENTS, 10 * N_EVENTS, N_EVENTS)
    r.flushdb()
