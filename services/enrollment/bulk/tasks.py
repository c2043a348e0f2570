"""Celery entrypoints of bulk enrollment (thin: each calls one use case).

All are short: ``bulk_prepare`` reads the file and checkpoints every chunk it writes, ``bulk_chunk`` does
one chunk in one transaction, ``bulk_redispatch`` (beat) re-sends whatever stalled. Delivery is
at-least-once (acks_late); every task is idempotent.
"""
from __future__ import annotations

import random

from flask import current_app
from sqlalchemy.exc import IntegrityError, OperationalError

from services.enrollment.bulk import service
from services.enrollment.bulk.service import TASK_CHUNK, TASK_PREPARE, TASK_REDISPATCH, Deps, SeatRace


def register(celery_app) -> None:
    @celery_app.task(name=TASK_PREPARE, bind=True, ignore_result=True, max_retries=5)
    def bulk_prepare(self, job_id: str) -> str:
        try:
            return service.prepare(Deps.from_app(current_app), job_id)
        except IntegrityError:  # another delivery of this task is writing the same chunks: let it
            return "concurrent reader"
        except OperationalError as exc:
            raise self.retry(exc=exc, countdown=1 + random.random())

    @celery_app.task(name=TASK_CHUNK, bind=True, ignore_result=True, max_retries=20)
    def bulk_chunk(self, job_id: str, seq: int) -> str:
        try:
            return service.process_chunk(Deps.from_app(current_app), job_id, seq)
        except (SeatRace, IntegrityError, OperationalError) as exc:
            raise self.retry(exc=exc, countdown=0.5 + random.random())

    @celery_app.task(name=TASK_REDISPATCH, ignore_result=True)
    def bulk_redispatch() -> dict:
        return service.redispatch(Deps.from_app(current_app))

    celery_app.conf.beat_schedule["enrollment-bulk-redispatch"] = {
        "task": TASK_REDISPATCH,
        "schedule": float(current_app.config.get("BULK_REDISPATCH_SECONDS", 5.0)) if current_app else 5.0}
