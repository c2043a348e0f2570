"""Transactional outbox: events are rows written in the same transaction as the change they describe.

After the transaction commits, the writer's process publishes those rows at once (the fast path) and
marks them published. Anything left unpublished (the process died after commit, Redis was down) is
picked up by ``sweep``, which a short-interval beat task runs. Publishing may therefore happen twice
(crash between publish and mark): delivery is at-least-once, and consumers de-duplicate by event id
(see ``shared.inbox``).

Each subscriber receives *batches* of envelopes as one Celery task (``<service>.consume_events`` on
``<service>.events``): a bare task costs ~1.5 ms here, so one task per event would cap throughput.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from typing import Iterable, Sequence

from sqlalchemy import (JSON, BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table,
                        select, update)
from sqlalchemy.engine import Engine

from shared.clock import utcnow
from shared.events.catalogue import consumer_queue, consumer_task_name, subscribers_for
from shared.events.envelope import Envelope

log = logging.getLogger(__name__)

#: How many envelopes one consumer task carries at most.
PUBLISH_BATCH = 500


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox", metadata,
        Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("event_type", String(120), nullable=False),
        Column("source", String(60), nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("correlation_id", String(64)),
        Column("payload", JSON, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, default=utcnow),
        Column("published_at", DateTime(timezone=True)),
        Column("publish_attempts", Integer, nullable=False, default=0),
        # Set once every subscriber has receipted the event (shared.receipts); until then the sweep
        # re-sends it to the subscribers that have not.
        Column("receipted_at", DateTime(timezone=True)),
        Index("ix_outbox_unpublished", "published_at", "seq"),
        Index("ix_outbox_unreceipted", "receipted_at", "published_at"),
    )


def outbox_rows(envelopes: Iterable[Envelope]) -> list[dict]:
    now = utcnow()
    return [{"event_id": e.id, "event_type": e.type, "source": e.source,
             "occurred_at": dt.datetime.fromisoformat(e.occurred_at), "correlation_id": e.correlation_id,
             "payload": e.payload, "created_at": now, "publish_attempts": 0} for e in envelopes]


def write(connection_or_session, table: Table, envelopes: Sequence[Envelope]) -> None:
    """Insert the envelopes into the outbox inside the caller's open transaction."""
    if envelopes:
        connection_or_session.execute(table.insert(), outbox_rows(envelopes))


def _row_to_envelope(row) -> dict:
    occurred = row.occurred_at
    if occurred.tzinfo is None:  # SQLite returns naive datetimes
        occurred = occurred.replace(tzinfo=dt.timezone.utc)
    return {"id": row.event_id, "type": row.event_type, "source": row.source,
            "occurred_at": occurred.isoformat(), "correlation_id": row.correlation_id,
            "specversion": "1.0", "payload": row.payload}


def publish(celery_app, envelopes: Sequence[dict], retry: bool = True) -> int:
    """Send envelopes to every subscriber's queue, in batches. Raises if the broker is unreachable."""
    by_subscriber: dict[str, list[dict]] = defaultdict(list)
    for env in envelopes:
        for svc in subscribers_for(env["type"]):
            by_subscriber[svc].append(env)
    return sum(publish_to(celery_app, svc, items, retry=retry) for svc, items in by_subscriber.items())


def replay_task_name(service: str) -> str:
    """The task a subscriber registers to receive replayed history (``<service>.consume_replay``)."""
    return f"{service}.consume_replay"


def publish_to(celery_app, service: str, envelopes: Sequence[dict], *, task_name: str | None = None,
               kwargs: dict | None = None, batch_size: int | None = PUBLISH_BATCH, retry: bool = True) -> int:
    """Send envelopes to ONE subscriber's event queue (``<service>.events``), in batches.

    For replays and targeted re-sends: ``task_name`` defaults to the subscriber's consumer task; pass
    ``replay_task_name(service)`` (with ``kwargs`` describing the page) so the subscriber can tell a
    replay from live traffic. ``batch_size=None`` sends everything as one message; an empty list still
    sends one (empty) message, so a replay can say "nothing more". Returns the number of messages.
    """
    items = list(envelopes)
    size = batch_size or max(1, len(items))
    batches = [items[i:i + size] for i in range(0, len(items), size)] or [[]]
    # Fail fast when the broker is down: the rows stay in the outbox and the sweep sends them later.
    policy = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
    with celery_app.producer_or_acquire() as producer:
        for batch in batches:
            celery_app.send_task(task_name or consumer_task_name(service), args=[batch], kwargs=kwargs or {},
                                 queue=consumer_queue(service), producer=producer, retry=retry,
                                 retry_policy=policy,
                                 headers={"correlation_id": batch[0].get("correlation_id") if batch else None})
    return len(batches)


def mark_published(engine: Engine, table: Table, event_ids: Sequence[str]) -> None:
    now = utcnow()
    # One UPDATE needs no transaction of its own: autocommit saves PostgreSQL's BEGIN/COMMIT round trips.
    # (SQLite keeps engine.begin(): its writers must take the lock with BEGIN IMMEDIATE.)
    begin = (engine.connect().execution_options(isolation_level="AUTOCOMMIT")
             if engine.dialect.name == "postgresql" and len(event_ids) <= 1000 else engine.begin())
    with begin as conn:
        for i in range(0, len(event_ids), 1000):
            conn.execute(update(table).where(table.c.event_id.in_(event_ids[i:i + 1000]))
                         .values(published_at=now))


def relay_now(engine: Engine, table: Table, celery_app, envelopes: Sequence[Envelope]) -> bool:
    """Fast path after commit. Never raises: a failure only leaves the rows for the sweep."""
    if not envelopes:
        return True
    try:
        publish(celery_app, [e.to_dict() for e in envelopes])
    except Exception:  # broker down or slow: the sweep will publish these rows
        log.warning("outbox relay failed; %d events left for the sweep", len(envelopes), exc_info=True)
        return False
    try:
        mark_published(engine, table, [e.id for e in envelopes])
    except Exception:  # published but not marked: the sweep re-sends, the inbox drops the duplicate
        log.warning("could not mark %d events published", len(envelopes), exc_info=True)
    return True


def claim_rows(conn, table: Table, limit: int, *conditions) -> list:
    """The oldest outbox rows matching ``conditions``, in commit order, locked until the caller's
    transaction ends: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two sweepers never take the same rows
    (SQLite serialises writers anyway)."""
    q = select(table).where(*conditions).order_by(table.c.seq).limit(limit)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    return conn.execute(q).all()


def sweep(engine: Engine, table: Table, celery_app, grace_seconds: float = 3.0,
          batch_size: int = PUBLISH_BATCH, max_batches: int = 200) -> int:
    """Publish unpublished rows older than ``grace_seconds``; returns how many were published.

    Rows are claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so two sweepers never send the same
    rows at once (SQLite serialises writers anyway).
    """
    total = 0
    for _ in range(max_batches):
        cutoff = utcnow() - dt.timedelta(seconds=grace_seconds)
        with engine.begin() as conn:
            rows = claim_rows(conn, table, batch_size, table.c.published_at.is_(None), table.c.created_at <= cutoff)
            if not rows:
                break
            seqs = [r.seq for r in rows]
            conn.execute(update(table).where(table.c.seq.in_(seqs))
                         .values(publish_attempts=table.c.publish_attempts + 1))
            publish(celery_app, [_row_to_envelope(r) for r in rows])
            conn.execute(update(table).where(table.c.seq.in_(seqs)).values(published_at=utcnow()))
        total += len(rows)
        if len(rows) < batch_size:
            break
    if total:
        log.info("outbox sweep published %d events", total)
    return total


def pending_count(engine: Engine, table: Table) -> int:
    from sqlalchemy import func
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)
                            .where(table.c.published_at.is_(None))).scalar_one()


def history(engine: Engine, table: Table, after_seq: int = 0, limit: int = 1000,
            type_prefix: str | None = None) -> list[dict]:
    """Events in commit order, for replays (e.g. a consumer rebuilding its read model)."""
    with engine.connect() as conn:
        q = select(table).where(table.c.seq > after_seq).order_by(table.c.seq).limit(limit)
        if type_prefix:
            q = q.where(table.c.event_type.startswith(type_prefix))
        return [dict(_row_to_envelope(r), seq=r.seq) for r in conn.execute(q)]
