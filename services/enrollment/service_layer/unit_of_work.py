"""Unit of work: one transaction for a use case's changes *and* the events describing them.

``emit`` collects envelopes; ``commit`` writes them to the outbox in the same transaction, commits,
then relays them to the subscribers (best effort: anything not relayed is swept later).
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from typing import Any, Callable
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from services.enrollment.adapters import orm
from shared import outbox
from shared.events import make_envelope
from shared.events.envelope import Envelope
from shared.logging import get_correlation_id

log = logging.getLogger(__name__)

SOURCE = "enrollment"
SEOUL = ZoneInfo("Asia/Seoul")

#: Service settings the use cases read (defaults; ``ENROLLMENT_<NAME>`` env or create_app(config) override).
DEFAULT_SETTINGS: dict[str, Any] = {
    # Deadline to complete prerequisite e-learning: this many days before the classroom session (23:59:59 KST).
    "PREREQUISITE_DAYS_BEFORE": 3,
    # Pin "today" (ISO date, Asia/Seoul) for demos of a past plan year; empty = the real clock.
    "TODAY": None,
    # "background": committed events are published by a per-process thread in batches (fast requests);
    # "inline": published in the request right after commit.
    "OUTBOX_RELAY": "background",
    # How long the background relay waits after the first event for more to publish in the same batch.
    "OUTBOX_RELAY_LINGER_SECONDS": 0.05,
    # Check each event's payload against its schema before it is written: "all", "none", or "sample"
    # (the first 100 of each type in a process, then one in 100). The notification consumer validates every
    # event it receives and the test suite runs with "all", so in production a sample keeps catching a
    # payload that drifted from its schema without paying ~0.3 ms of marshmallow on every request.
    "VALIDATE_EVENTS": "sample",
    # How often the beat task looks for missed prerequisite deadlines and stuck requests (seconds).
    "DEADLINE_SWEEP_SECONDS": 30.0,
    # A 'requested' enrollment older than this is re-checked by the sweep (its task message was lost).
    "STUCK_REQUEST_SECONDS": 60.0,
}


_EMITTED: Counter = Counter()  # events emitted per type in this process (for the "sample" policy)


def should_validate(policy, event_type: str) -> bool:
    """Whether to check this event against its schema under ``VALIDATE_EVENTS`` (see DEFAULT_SETTINGS)."""
    if policy in (True, "all", "true", "1"):
        return True
    if policy in (False, None, "none", "false", "0"):
        return False
    n = _EMITTED[event_type]
    _EMITTED[event_type] = n + 1
    return n < 100 or n % 100 == 0


class UnitOfWork:
    def __init__(self, session_factory, engine, celery_app, validate_events: bool | str = True,
                 settings: dict[str, Any] | None = None, relay=None):
        self._session_factory = session_factory
        self._engine = engine
        self._celery = celery_app
        self._validate = validate_events
        self._relay = relay  # a shared.outbox_relay.BackgroundRelay, or None to relay in the caller's thread
        self.settings = {**DEFAULT_SETTINGS, **(settings or {})}
        self.session: Session | None = None
        self.events: list[Envelope] = []
        self._prewritten: set[str] = set()
        self._after_commit: list[Callable[[], None]] = []

    @property
    def celery(self):
        return self._celery

    def now(self) -> dt.datetime:
        """Aware UTC now; on the pinned ``TODAY`` date (Seoul) when that setting is given."""
        real = dt.datetime.now(dt.timezone.utc)
        pinned = self.settings.get("TODAY")
        if not pinned:
            return real
        day = pinned if isinstance(pinned, dt.date) else dt.date.fromisoformat(str(pinned))
        local = real.astimezone(SEOUL)
        return dt.datetime.combine(day, local.timetz()).astimezone(dt.timezone.utc)

    def today(self) -> dt.date:
        return self.now().astimezone(SEOUL).date()

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` once the transaction has committed (e.g. send a follow-up task)."""
        self._after_commit.append(fn)

    def __enter__(self) -> "UnitOfWork":
        self.session = self._session_factory()
        self.events = []
        self._prewritten = set()
        self._after_commit = []
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.session is not None:
            self.session.rollback()  # no-op after commit; undoes everything on an exception
            self.session.close()
            self.session = None

    def emit(self, event_type: str, payload: dict[str, Any]) -> Envelope:
        env = make_envelope(event_type, SOURCE, payload, correlation_id=get_correlation_id(),
                            validate=should_validate(self._validate, event_type))
        self.events.append(env)
        return env

    def written_to_outbox(self, envelope: Envelope) -> None:
        """The caller wrote this emitted event's outbox row itself (in a combined statement): commit
        relays it but does not insert it again."""
        self._prewritten.add(envelope.id)

    def commit(self, relay: bool = True) -> None:
        outbox.write(self.session, orm.outbox, [e for e in self.events if e.id not in self._prewritten])
        self.session.commit()
        published, self.events, self._prewritten = self.events, [], set()
        if relay and published and self._celery is not None:
            if self._relay is not None:
                self._relay.submit(published)
            else:
                outbox.relay_now(self._engine, orm.outbox, self._celery, published)
        hooks, self._after_commit = self._after_commit, []
        for fn in hooks:
            try:
                fn()
            except Exception:  # noqa: BLE001 - follow-ups are also recovered by the periodic sweep
                log.warning("after-commit hook failed", exc_info=True)

    def rollback(self) -> None:
        self.session.rollback()
        self.events = []
        self._prewritten = set()
        self._after_commit = []


def from_app(app) -> UnitOfWork:
    db = app.extensions["db"]
    return UnitOfWork(db.session_factory, db.engine, app.extensions.get("celery"),
                      validate_events=app.config.get("VALIDATE_EVENTS", DEFAULT_SETTINGS["VALIDATE_EVENTS"]),
                      settings={k: app.config[k] for k in DEFAULT_SETTINGS if k in app.config},
                      relay=app.extensions.get("outbox_relay"))
