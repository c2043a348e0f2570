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
