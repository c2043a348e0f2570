"""Celery entrypoints of the reporting service (thin: each calls one use case).

* ``reporting.consume_events`` (on ``reporting.events``): live events, batched, idempotent (inbox).
* ``reporting.consume_replay`` (on ``reporting.events``): one page of replayed history for a rebuild.
* ``reporting.reconcile`` (beat, hourly by default): ask enrollment for counts snapshots.
* ``reporting.rebuild_watchdog`` (beat): re-ask for the page of a rebuild that stopped moving.
"""
from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy.exc import IntegrityError, OperationalError

from services.reporting.adapters import orm
from services.reporting.service_layer import maintenance, projector
from shared import outbox
from shared.consumer import register_consumer

RECONCILE = "reporting.reconcile"
WATCHDOG = "reporting.rebuild_watchdog"


def register_tasks(celery_app) -> None:
    register_consumer(celery_app, "reporting", orm.inbox, projector.apply)

    @celery_app.task(name=outbox.replay_task_name("reporting"), bind=True, max_retries=None, ignore_result=True)
    def consume_replay(self, envelopes: list[dict], request_id: str | None = None, after_seq: int = 0,
                       last_seq: int = 0, done: bool = False, limit: int | None = None) -> str:
        db, cfg = current_app.extensions["db"], current_app.config
        isolate = self.request.retries >= 3
        try:
            outcome = maintenance.apply_replay_page(db.session_factory, envelopes, request_id, after_seq, last_seq,
                                                    done, isolate=isolate)
        except (IntegrityError, OperationalError) as exc:  # raced a live batch on the inbox, deadlock, DB restart
            if self.request.retries < 20:
                raise self.retry(exc=exc, countdown=min(10, 0.2 * 2 ** self.request.retries) * random.random())
            raise
        except Exception as exc:  # noqa: BLE001 - bad data: retry, then apply event by event
            if not isolate:
                raise self.retry(exc=exc, countdown=0.5 * (self.request.retries + 1))
            raise
        if outcome == "applied":
            maintenance.request_page(celery_app, request_id, last_seq, limit or cfg["REPLAY_PAGE_SIZE"])
        return outcome

    @celery_app.task(name=RECONCILE, ignore_result=True)
    def reconcile(year: int | None = None) -> int:
        """Request a counts snapshot for ``year`` (default: every year the read model knows + this one)."""
        db = current_app.extensions["db"]
        if year is not None:
            years = [int(year)]
        else:
            this_year = dt.datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).year
            with db.session_factory() as s:
                years = maintenance.years_to_reconcile(s, this_year)
        for y in years:
            maintenance.start_reconcile(db.session_factory, celery_app, y, "beat")
        return len(years)

    @celery_app.task(name=WATCHDOG, ignore_result=True)
    def rebuild_watchdog() -> int:
        db, cfg = current_app.extensions["db"], current_app.config
        return maintenance.watchdog(db.session_factory, celery_app, cfg["REPLAY_STALL_SECONDS"],
                                    cfg["REPLAY_PAGE_SIZE"])

    cfg = current_app.config
    celery_app.conf.beat_schedule.update({
        "reporting-reconcile": {"task": RECONCILE, "schedule": float(cfg["RECONCILE_EVERY_SECONDS"])},
        "reporting-rebuild-watchdog": {"task": WATCHDOG, "schedule": float(cfg["REPLAY_STALL_SECONDS"]) / 2},
    })
