"""An event the broker lost after it was published is re-sent because nobody receipted it."""
import pytest
from sqlalchemy import select

from services.enrollment.adapters import orm as eorm
from services.enrollment.service_layer import catalogue
from services.enrollment.service_layer.unit_of_work import UnitOfWork
from services.notification.adapters import orm as norm
from services.reporting.adapters import orm as rorm
from shared import outbox, receipts
from tests.conftest import wait_for

pytestmark = pytest.mark.integration


def _ids(app, table, column):
    with app.extensions["db"].engine.connect() as c:
        return set(c.execute(select(column)).scalars())


def test_published_but_lost_event_is_resent_until_both_subscribers_receipt(workers):
    apps = workers
    app = apps["enrollment"]
    db = app.extensions["db"]
    with app.app_context():
        catalogue.create_trainee(UnitOfWork(db.session_factory, db.engine, celery_app=None),
                                 {"employee_no": "LOST-1", "name": "유실된 이벤트"})
    [event_id] = _ids(app, eorm.outbox, eorm.outbox.c.event_id)
    # The relay "published" it and Redis lost the task (what a SIGKILLed consumer can cause).
    outbox.mark_published(db.engine, eorm.outbox, [event_id])
    assert outbox.pending_count(db.engine, eorm.outbox) == 0

    celery_app = app.extensions["celery"]
    # the default backlog check asks the broker: with both event queues drained it re-sends
    wait_for(lambda: all(receipts.queue_depth(celery_app, f"{s}.events") == 0 for s in ("notification", "reporting")),
             message="event queues drained")
    resent = receipts.resend_unreceipted(db.engine, eorm.outbox, eorm.outbox_receipts, celery_app, timeout_seconds=0)
    assert resent == 2  # once for notification, once for reporting

    wait_for(lambda: event_id in _ids(apps["notification"], norm.inbox, norm.inbox.c.event_id), message="notification got it")
    wait_for(lambda: event_id in _ids(apps["reporting"], rorm.inbox, rorm.inbox.c.event_id), message="reporting got it")
    wait_for(lambda: _ids(app, eorm.outbox_receipts, eorm.outbox_receipts.c.subscriber) == {"notification", "reporting"},
             message="both receipts back")
    # Two receipts committed at the same moment may each not see the other: the sweep then finds both
    # and marks the row complete instead of re-sending.
    assert receipts.resend_unreceipted(db.engine, eorm.outbox, eorm.outbox_receipts, celery_app, timeout_seconds=0) == 0
    assert all(_ids(app, eorm.outbox, eorm.outbox.c.receipted_at))


def _published_lost_event(app, employee_no: str) -> str:
    db = app.extensions["db"]
    with app.app_context():
        catalogue.create_trainee(UnitOfWork(db.session_factory, db.engine, celery_app=None),
                                 {"employee_no": employee_no, "name": "밀린 구독자"})
    [event_id] = _ids(app, eorm.outbox, eorm.outbox.c.event_id)
    outbox.mark_published(db.engine, eorm.outbox, [event_id])
    return event_id


def test_a_subscriber_still_working_through_its_queue_gets_no_resend(workers):
    """Behind is not lost: duplicates would only pile onto the backlog. Re-sent once it has drained."""
    apps = workers
    app = apps["enrollment"]
    db, celery_app = app.extensions["db"], app.extensions["celery"]
    event_id = _published_lost_event(app, "BACKLOG-1")

    assert receipts.resend_unreceipted(db.engine, eorm.outbox, eorm.outbox_receipts, celery_app, timeout_seconds=0,
                                       backlogged=lambda s: True) == 0
    resent = receipts.resend_unreceipted(db.engine, eorm.outbox, eorm.outbox_receipts, celery_app, timeout_seconds=0,
                                         backlogged=lambda s: s == "notification")
    assert resent == 1  # reporting only
    wait_for(lambda: event_id in _ids(apps["reporting"], rorm.inbox, rorm.inbox.c.event_id), message="reporting got it")
    wait_for(lambda: _ids(app, eorm.outbox_receipts, eorm.outbox_receipts.c.subscriber) == {"reporting"},
             message="reporting's receipt")
    assert event_id not in _ids(apps["notification"], norm.inbox, norm.inbox.c.event_id)
    # the row's timer restarted for notification: with a real timeout it is not due again at once
    assert receipts.resend_unreceipted(db.engine, eorm.outbox, eorm.outbox_receipts, celery_app,
                                       timeout_seconds=60, backlogged=lambda s: False) == 0
    # notification's queue drained: now it gets the event
    assert receipts.resend_unreceipted(db.engine, eorm.outbox, eorm.outbox_receipts, celery_app, timeout_seconds=0,
                                       backlogged=lambda s: False) == 1
    wait_for(lambda: event_id in _ids(apps["notification"], norm.inbox, norm.inbox.c.event_id),
             message="notification got it")


def test_queue_depth_reads_the_broker(redis_url):
    """The default backlog check asks the real broker how many messages a queue holds."""
    import uuid

    from celery import Celery

    celery_app = Celery("receipts-depth-test", broker=redis_url)
    queue = f"depth-test-{uuid.uuid4().hex}"
    assert receipts.queue_depth(celery_app, queue) == 0  # never declared
    with celery_app.producer_or_acquire() as producer:
        for n in range(3):
            celery_app.send_task("nobody.consumes.this", args=[n], queue=queue, producer=producer)
    assert receipts.queue_depth(celery_app, queue) == 3
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)
    assert receipts.queue_depth(celery_app, queue) == 0
