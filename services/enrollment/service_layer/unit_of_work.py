"""Unit of work: one transaction for a use case's changes *and* the events describing them.

``emit`` collects envelopes; ``commit`` writes them to the outbox in the same transaction, commits,
then relays them to the subscribers (best effort: anything not relayed is swept later).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from services.enrollment.adapters import orm
from shared import outbox
from shared.events import make_envelope
from shared.events.envelope import Envelope
from shared.logging import get_correlation_id

SOURCE = "enrollment"


class UnitOfWork:
    def __init__(self, session_factory, engine, celery_app, validate_events: bool = True):
        self._session_factory = session_factory
        self._engine = engine
        self._celery = celery_app
        self._validate = validate_events
        self.session: Session | None = None
        self.events: list[Envelope] = []

    def __enter__(self) -> "UnitOfWork":
        self.session = self._session_factory()
        self.events = []
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.session is not None:
            self.session.rollback()  # no-op after commit; undoes everything on an exception
            self.session.close()
            self.session = None

    def emit(self, event_type: str, payload: dict[str, Any]) -> Envelope:
        env = make_envelope(event_type, SOURCE, payload, correlation_id=get_correlation_id(),
                            validate=self._validate)
        self.events.append(env)
        return env

    def commit(self, relay: bool = True) -> None:
        outbox.write(self.session, orm.outbox, self.events)
        self.session.commit()
        published, self.events = self.events, []
        if relay and published and self._celery is not None:
            outbox.relay_now(self._engine, orm.outbox, self._celery, published)

    def rollback(self) -> None:
        self.session.rollback()
        self.events = []


def from_app(app) -> UnitOfWork:
    db = app.extensions["db"]
    return UnitOfWork(db.session_factory, db.engine, app.extensions.get("celery"),
                      validate_events=app.config.get("VALIDATE_EVENTS", True))
