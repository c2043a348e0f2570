"""Celery entrypoints of the enrollment service (thin: each calls one use case)."""
from __future__ import annotations

import random

from flask import current_app
from sqlalchemy.exc import OperationalError

from services.enrollment.adapters import orm
from services.enrollment.service_layer import enrollments, prerequisites
from services.enrollment.service_layer.unit_of_work import from_app
from shared import outbox, receipts
from shared.errors import AppError

OUTBOX_SWEEP = "enrollment.outbox_sweep"
CHECK_PREREQUISITES = enrollments.CHECK_PREREQUISITES_TASK
PREREQUISITE_SWEEP = "enrollment.prerequisite_sweep"


def register_tasks(celery_app) -> None:
    @celery_app.task(name=OUTBOX_SWEEP, ignore_result=True)
    def outbox_sweep() -> int:
        """Publish outbox rows the fast path did not (process died after commit, broker was down), and
        re-send events a subscriber never receipted (a task lost in Redis when a worker died)."""
        db = current_app.extensions["db"]
        cfg = current_app.config
        published = outbox.sweep(db.engine, orm.outbox, celery_app, grace_seconds=cfg["OUTBOX_GRACE_SECONDS"],
                                 batch_size=cfg["OUTBOX_BATCH_SIZE"])
        receipts.resend_unreceipted(db.engine, orm.outbox, orm.outbox_receipts, celery_app,
                                    timeout_seconds=cfg["OUTBOX_RECEIPT_TIMEOUT_SECONDS"],
                                    batch_size=cfg["OUTBOX_BATCH_SIZE"])
        return published

    receipts.register_receipts_task(celery_app, "enrollment", lambda: (orm.outbox, orm.outbox_receipts))

    @celery_app.task(name=CHECK_PREREQUISITES, bind=True, ignore_result=True, max_retries=10)
    def check_prerequisites(self, enrollment_id: int) -> str | None:
        """Decide a 'requested' enrollment against its prerequisite e-learning (idempotent)."""
        try:
            return enrollments.check_prerequisites(from_app(current_app), enrollment_id)
        except (OperationalError, AppError) as exc:  # lock timeout / a concurrent transition: try again
            if isinstance(exc, AppError) and exc.code != "concurrent_update":
                raise
            raise self.retry(exc=exc, countdown=0.2 + random.random())

    @celery_app.task(name=PREREQUISITE_SWEEP, ignore_result=True)
    def prerequisite_sweep() -> dict:
        """Cancel enrollments whose prerequisite deadline passed; re-check requests whose task was lost."""
        app = current_app._get_current_object()
        uow = from_app(app)
        expired = 0
        while True:
            n = prerequisites.expire_deadlines(from_app(app))
            expired += n
            if n < 200:
                break
        stuck = prerequisites.recheck_stuck_requests(lambda: from_app(app), uow.settings["STUCK_REQUEST_SECONDS"])
        return {"expired": expired, "rechecked": stuck}

    cfg = current_app.config if current_app else {}
    from services.enrollment.bulk import tasks as bulk_tasks
    bulk_tasks.register(celery_app)

    from services.enrollment import replay  # issue 6: history replays and counts snapshots for consumers
    replay.register(celery_app)

    celery_app.conf.beat_schedule.update({
        "enrollment-outbox-sweep": {"task": OUTBOX_SWEEP, "schedule": cfg.get("OUTBOX_SWEEP_SECONDS", 2.0)},
        "enrollment-prerequisite-sweep": {"task": PREREQUISITE_SWEEP,
                                          "schedule": float(cfg.get("DEADLINE_SWEEP_SECONDS", 30.0))},
    })
