"""Celery entrypoints of the enrollment service (thin: each calls one use case)."""
from __future__ import annotations

from flask import current_app

from services.enrollment.adapters import orm
from shared import outbox

OUTBOX_SWEEP = "enrollment.outbox_sweep"


def register_tasks(celery_app) -> None:
    @celery_app.task(name=OUTBOX_SWEEP, ignore_result=True)
    def outbox_sweep() -> int:
        """Publish outbox rows the fast path did not (process died after commit, broker was down)."""
        db = current_app.extensions["db"]
        cfg = current_app.config
        return outbox.sweep(db.engine, orm.outbox, celery_app, grace_seconds=cfg["OUTBOX_GRACE_SECONDS"],
                            batch_size=cfg["OUTBOX_BATCH_SIZE"])

    from services.enrollment import replay  # issue 6: history replays and counts snapshots for consumers
    replay.register(celery_app)

    celery_app.conf.beat_schedule.update({
        "enrollment-outbox-sweep": {"task": OUTBOX_SWEEP,
                                    "schedule": current_app.config["OUTBOX_SWEEP_SECONDS"]
                                    if current_app else 2.0},
    })
