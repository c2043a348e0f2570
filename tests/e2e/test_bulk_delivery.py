"""Delivery of a bulk job's events (at-least-once, through the transactional outbox) when the relay after
commit does not get them to the subscribers.

A chunk writes its outbox rows already marked published (no second UPDATE of every row after the relay);
these tests show that nothing is lost that way: events the broker never delivered (the worker died between
commit and publish, or Redis dropped them) are re-sent by the receipt sweep, and a broker that is down at
relay time hands the rows back to the outbox sweep at once."""
from __future__ import annotations

import io
import uuid

import pytest
import redis as redis_lib
from celery import Celery
from sqlalchemy import func, select

from services.enrollment.adapters import orm as eorm
from services.enrollment.bulk import service
from services.enrollment.bulk.service import Deps
from services.notification.adapters import orm as norm
from services.reporting.adapters import orm as rorm
from shared import outbox, receipts
from shared.celery_factory import task_routes
from tests.conftest import wait_for
from tests.enrollment.bulk.helpers import install_track_courses, new_hire_csv, pending_chunks

pytestmark = pytest.mark.integration

ROWS = 60
EVENTS = ROWS + 3 * ROWS + 1  # trainee.registered, enrollment.created ×3, bulk_job.finished


def _publisher(broker: str, **transport) -> Celery:
    app = Celery(f"bulk-delivery-{uuid.uuid4().hex[:6]}", broker=broker, set_as_current=False)
    app.conf.update(task_serializer="json", accept_content=["json"], task_routes=task_routes(),
                    broker_transport_options=transport, broker_connection_retry=False,
                    broker_connection_max_retries=1)
    return app


def _run(app, publisher) -> str:
    db = app.extensions["db"]
    deps = Deps(db.session_factory, db.engine, publisher, chunk_size=25, stall_seconds=0)
    data, _ = new_hire_csv(ROWS)
    with app.app_context():
        job_id = service.create_job(deps, io.BytesIO(data), "hires.csv", dry_run=False, actor="admin:test")["id"]
        service.prepare(deps, job_id)
        for seq in pending_chunks(app, job_id):
            assert service.process_chunk(deps, job_id, seq) == "processed"
        assert service.get_job(deps, job_id)["state"] == "done"
    return job_id


def _count(app, table, *where) -> int:
    with app.extensions["db"].engine.connect() as c:
        return c.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def _last_seq(app) -> int:
    with app.extensions["db"].engine.connect() as c:
        return c.execute(select(func.coalesce(func.max(eorm.outbox.c.seq), 0))).scalar_one()


def _bulk_rows(app, after: int, *where) -> int:
    """Outbox rows written by the bulk job (after the track's catalogue events)."""
    return _count(app, eorm.outbox, eorm.outbox.c.seq > after, *where)


def _all_delivered(apps, after: int) -> bool:
    app = apps["enrollment"]
    with app.extensions["db"].engine.connect() as c:
        ids = set(c.execute(select(eorm.outbox.c.event_id).where(eorm.outbox.c.seq > after)).scalars())
    for svc, table in (("notification", norm.inbox), ("reporting", rorm.inbox)):
        with apps[svc].extensions["db"].engine.connect() as c:
            if not ids <= set(c.execute(select(table.c.event_id)).scalars()):
                return False
    return _bulk_rows(app, after, eorm.outbox.c.receipted_at.is_(None)) == 0


def test_events_the_broker_never_delivered_are_resent_until_receipted(workers, redis_url):
    apps = workers
    app = apps["enrollment"]
    install_track_courses(app)
    # The relay publishes into a key prefix nobody consumes: as if the worker died right after commit or
    # Redis lost the tasks. The rows say "published"; nobody receipts them.
    prefix = f"lost-{uuid.uuid4().hex[:8]}:"
    after = _last_seq(app)
    _run(app, _publisher(redis_url, global_keyprefix=prefix))
    client = redis_lib.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    assert _bulk_rows(app, after) == EVENTS
    assert _bulk_rows(app, after, eorm.outbox.c.published_at.is_(None)) == 0

    db = app.extensions["db"]
    celery_app = app.extensions["celery"]  # the suite's broker: the real consumer workers
    # (the catalogue's events may still be queued for the consumers: the sweep must not wait for them here)
    resent = receipts.resend_unreceipted(db.engine, eorm.outbox, eorm.outbox_receipts, celery_app,
                                         timeout_seconds=0, backlogged=lambda subscriber: False)
    assert resent >= 2 * EVENTS  # (+ the catalogue's own events, never published here)
    wait_for(lambda: _all_delivered(apps, after), timeout=60, message="every bulk event applied and receipted")


def test_broker_down_at_relay_time_leaves_the_events_to_the_outbox_sweep(workers):
    apps = workers
    app = apps["enrollment"]
    install_track_courses(app)
    after = _last_seq(app)
    _run(app, _publisher("redis://127.0.0.1:1/0"))  # nothing listens there
    db = app.extensions["db"]
    # handed back: not marked published, so the outbox sweep sends them (no receipt timeout to wait for)
    assert _bulk_rows(app, after, eorm.outbox.c.published_at.is_(None)) == EVENTS

    assert outbox.sweep(db.engine, eorm.outbox, app.extensions["celery"], grace_seconds=0) >= EVENTS
    wait_for(lambda: _all_delivered(apps, after), timeout=60, message="every bulk event applied and receipted")
