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


def test_sigkill_mid_batch_then_recovery(clean, db_urls, redis_url):
    # Earlier tests' events still being applied by the session workers would land after the truncation.
    wait_for(lambda: queues_drained(redis_url), timeout=120, interval=0.2, message="earlier events consumed")
    _truncate(clean["reporting"])
    # A broker namespace of its own (another Redis db) so the session's workers do not interfere.
    base, db = redis_url.rsplit("/", 1)
    url = f"{base}/{(int(db or 0) + 8) % 16}"
    r = redis_lib.Redis.from_url(url)
    r.flushdb()
    publisher = Celery("test-publisher", broker=url)
    publisher.conf.update(task_serializer="json", accept_content=["json"])

    outbox.publish(publisher, _course_events(N_EVENTS))
    assert r.llen("reporting.events") == N_EVENTS // outbox.PUBLISH_BATCH

    env = {"HRD_CELERY_VISIBILITY_TIMEOUT": "3", "HRD_CELERY_UNACKED_RESTORE_INTERVAL": "1"}
    victim = start_worker_process("reporting", db_urls, url, **env)
    wait_for(lambda: r.hlen("unacked") > 0, timeout=30, interval=0.01, message="worker took tasks")
    time.sleep(0.3)
    stop_process(victim, signal.SIGKILL)
    processed_at_kill = _counts(clean["reporting"])[0]
    assert processed_at_kill < N_EVENTS, "the worker finished before it could be killed; raise N_EVENTS"
    assert r.hlen("unacked") > 0, "the killed worker's tasks must still be held by Redis"

    survivor = start_worker_process("reporting", db_urls, url, **env)
    try:
        wait_for(lambda: _counts(clean["reporting"])[0] == N_EVENTS, timeout=120, interval=0.2,
                 message="every event applied after recovery")
        wait_for(lambda: r.llen("reporting.events") == 0 and r.hlen("unacked") == 0, timeout=60,
                 message="queue drained")
    finally:
        stop_process(survivor)
    courses, seats, inbox = _counts(clean["reporting"])
    assert (courses, seats, inbox) == (N_EVENTS, 10 * N_EVENTS, N_EVENTS)
    r.flushdb()
