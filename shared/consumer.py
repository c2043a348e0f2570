"""Event consumers: a Celery task per subscribing service that applies batches of envelopes.

``<service>.consume_events(envelopes)`` dedups through the inbox and applies the new events in one
transaction. Transient database errors (including the primary-key race of two workers handling the
same event) are retried with backoff; a batch that keeps failing for another reason is split so the
poison event is parked as ``dead`` and the rest still take effect.
"""
from __future__ import annotations

import logging
import random
from typing import Callable

from flask import current_app
from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from shared import inbox
from shared.events.catalogue import consumer_task_name
from shared.metrics import EVENTS_CONSUMED
from shared.receipts import send_receipts

log = logging.getLogger(__name__)

Handler = Callable[[Session, dict], None]


class EventHandlers:
    """Maps event types to handlers; unknown types are recorded as processed and ignored."""

    def __init__(self):
        self._handlers: dict[str, Handler] = {}

    def on(self, *event_types: str):
        def decorator(fn: Handler) -> Handler:
            for t in event_types:
                self._handlers[t] = fn
            return fn
        return decorator

    def apply(self, session: Session, envelopes: list[dict]) -> None:
        for env in envelopes:
            handler = self._handlers.get(env["type"])
            if handler is not None:
                handler(session, env)

    def handles(self, event_type: str) -> bool:
        return event_type in self._handlers


def register_consumer(celery_app, service: str, inbox_tbl: Table,
                      apply: Callable[[Session, list[dict]], None], poison_after: int = 3):
    @celery_app.task(name=consumer_task_name(service), bind=True, max_retries=None, ignore_result=True)
    def consume_events(self, envelopes: list[dict]) -> int:
        db = current_app.extensions["db"]
        try:
            n = inbox.process_batch(db.session_factory, inbox_tbl, envelopes, apply)
            EVENTS_CONSUMED.labels(service, "applied").inc(n)
            EVENTS_CONSUMED.labels(service, "duplicate").inc(len(envelopes) - n)
            send_receipts(self.app, service, envelopes)  # duplicates too: the producer may be re-sending
            return n
        except (IntegrityError, OperationalError) as exc:
            # Lost a race on the inbox key, a lock timeout, the DB restarting: try again soon.
            if self.request.retries < 20:
                raise self.retry(exc=exc, countdown=min(30, 0.2 * 2 ** self.request.retries) * random.random())
            raise
        except DBAPIError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug or bad data: retry a little, then isolate it
            if self.request.retries < poison_after:
                raise self.retry(exc=exc, countdown=0.5 * (self.request.retries + 1))
            ok, dead = inbox.process_one_by_one(db.session_factory, inbox_tbl, envelopes, apply)
            EVENTS_CONSUMED.labels(service, "applied").inc(ok)
            EVENTS_CONSUMED.labels(service, "dead").inc(dead)
            send_receipts(self.app, service, envelopes)  # dead ones are parked here: stop re-sending them
            return ok

    return consume_events
