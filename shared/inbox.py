"""Inbox: the ids of events a consumer has processed, written in the same transaction as the effect.

A redelivered event (the relay sent it twice, Redis redelivered an unacknowledged task after a worker
died) finds its id here and is skipped, so each event has its effect once. Two workers handling the
same event at once collide on the primary key: one commits, the other rolls back and retries, then
skips it.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Callable, Sequence

from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, select
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox", metadata,
        Column("event_id", String(36), primary_key=True),
        Column("event_type", String(120), nullable=False),
        Column("status", String(16), nullable=False, default="processed"),  # processed | dead
        Column("error", Text),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )


def claim_new(session: Session, table: Table, envelopes: Sequence[dict]) -> list[dict]:
    """Record the envelopes not seen before and return them, in order (duplicates in a batch too)."""
    ids = list({e["id"] for e in envelopes})
    seen: set[str] = set()
    for i in range(0, len(ids), 900):  # stay under SQLite's bound-parameter limit
        seen.update(session.execute(select(table.c.event_id).where(table.c.event_id.in_(ids[i:i + 900])))
                    .scalars())
    fresh: list[dict] = []
    for env in envelopes:
        if env["id"] not in seen:
            seen.add(env["id"])
            fresh.append(env)
    if fresh:
        now = dt.datetime.now(dt.timezone.utc)
        session.execute(table.insert(), [{"event_id": e["id"], "event_type": e["type"],
                                          "status": "processed", "processed_at": now} for e in fresh])
    return fresh


def process_batch(session_factory, table: Table, envelopes: Sequence[dict],
                  apply: Callable[[Session, list[dict]], None]) -> int:
    """Apply the unseen envelopes and record them, all in one transaction. Returns how many were new."""
    with session_factory.begin() as session:
        fresh = claim_new(session, table, envelopes)
        if fresh:
            apply(session, fresh)
    return len(fresh)


def process_one_by_one(session_factory, table: Table, envelopes: Sequence[dict],
                       apply: Callable[[Session, list[dict]], None]) -> tuple[int, int]:
    """Fallback for a batch that keeps failing: isolate the poison event(s) and park them as ``dead``.

    Returns (processed, dead). A dead event is recorded with its error so it is visible and is not
    retried forever; the rest of the batch still takes effect.
    """
    ok = dead = 0
    for env in envelopes:
        try:
            ok += process_batch(session_factory, table, [env], apply)
        except Exception as exc:  # noqa: BLE001 - we record any failure of this one event
            log.exception("event %s (%s) could not be processed; parked as dead", env.get("id"), env.get("type"))
            with session_factory.begin() as session:
                if not session.execute(select(table.c.event_id).where(table.c.event_id == env["id"])).first():
                    session.execute(table.insert().values(
                        event_id=env["id"], event_type=env.get("type", "?"), status="dead",
                        error=repr(exc)[:2000], processed_at=dt.datetime.now(dt.timezone.utc)))
            dead += 1
    return ok, dead
