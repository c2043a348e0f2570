"""Delivery receipts: the producer knows which subscriber has *applied* each event, and re-sends
what was never receipted.

Why: Celery's Redis transport takes a message off the queue (BRPOP) and only then records it as
unacknowledged. A worker SIGKILLed in between loses that message, acks_late or not (kombu#305,
celery#4354); we reproduced it by killing a consumer mid-batch. So the broker alone cannot promise
"nothing lost". The outbox can: after a consumer commits a batch (inbox + effects), it sends the
event ids back to the producer (``<source>.receipts``, on the producer's own queue). The producer's
sweep re-publishes, to the subscribers that have not receipted, any event published longer than
``OUTBOX_RECEIPT_TIMEOUT_SECONDS`` ago. A lost receipt only causes a re-send, which the consumer's
inbox drops and receipts again, so the loop converges: at-least-once delivery end to end, exactly-once
effect. Once every subscriber of an event has receipted, the outbox row is marked ``receipted_at``
and the sweep never looks at it again.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from typing import Callable, Sequence

from sqlalchemy import ARRAY, Column, DateTime, MetaData, String, Table, any_, bindparam, select, text, update
from sqlalchemy.engine import Engine

from shared.clock import utcnow
from shared.db import upsert_insert
from shared.events.catalogue import all_subscribers, consumer_queue, subscribers_for

log = logging.getLogger(__name__)


def receipts_task_name(source: str) -> str:
    return f"{source}.receipts"


def receipts_table(metadata: MetaData) -> Table:
    return Table(
        "outbox_receipts", metadata,
        Column("event_id", String(36), primary_key=True),
        Column("subscriber", String(40), primary_key=True),
        Column("received_at", DateTime(timezone=True), nullable=False),
    )


# --- consumer side -----------------------------------------------------------------------------------

def send_receipts(celery_app, subscriber: str, envelopes: Sequence[dict]) -> None:
    """Tell each producer which of its events this subscriber has applied (or already had). Best effort."""
    by_source: dict[str, list[str]] = defaultdict(list)
    for env in envelopes:
        by_source[env.get("source") or "enrollment"].append(env["id"])
    policy = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
    try:
        with celery_app.producer_or_acquire() as producer:
            for source, ids in by_source.items():
                celery_app.send_task(receipts_task_name(source), args=[subscriber, ids], queue=source,
                                     producer=producer, retry=True, retry_policy=policy)
    except Exception:  # noqa: BLE001 - the producer re-sends unreceipted events; we will receipt again
        log.warning("could not send %d receipts to %s", len(envelopes), list(by_source), exc_info=True)


# --- producer side -----------------------------------------------------------------------------------

def record(engine: Engine, receipts: Table, outbox: Table, subscriber: str, event_ids: Sequence[str]) -> int:
    """Store receipts; mark outbox rows whose every subscriber has receipted. Idempotent.

    Two subscribers' receipts committed concurrently may each miss the other, leaving the row unmarked;
    ``resend_unreceipted`` later finds every receipt present and marks it without re-sending.

    On PostgreSQL every statement takes the ids as ONE array parameter (``= ANY``, ``unnest``): a bulk job's
    hundreds of thousands of events come back as thousands of receipts tasks, and a 500-value IN list costs
    more to render and parse than the lookup itself."""
    if not event_ids:
        return 0
    now = utcnow()
    ids = list(dict.fromkeys(event_ids))
    with engine.begin() as conn:
        pg = conn.dialect.name == "postgresql"
        for i in range(0, len(ids), 500 if not pg else 10_000):
            part = ids[i:i + (500 if not pg else 10_000)]
            if pg:
                conn.execute(text(f"INSERT INTO {receipts.name} (event_id, subscriber, received_at) "
                                  "SELECT e, :sub, :now FROM unnest(CAST(:ids AS varchar[])) AS e "
                                  "ON CONFLICT DO NOTHING"), {"ids": part, "sub": subscriber, "now": now})
            else:
                conn.execute(upsert_insert(conn)(receipts).on_conflict_do_nothing(),
                             [{"event_id": e, "subscriber": subscriber, "received_at": now} for e in part])
        _mark_complete(conn, receipts, outbox, ids, now)
    return len(ids)


def _any(conn, column, values: Sequence):
    """``column IN values``; one array parameter on PostgreSQL."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))


def _receipted_by(conn, receipts: Table, event_ids: Sequence[str]) -> dict[str, set[str]]:
    """event id -> the subscribers that have receipted it."""
    got: dict[str, set[str]] = defaultdict(set)
    for event_id, sub in conn.execute(select(receipts.c.event_id, receipts.c.subscriber)
                                      .where(_any(conn, receipts.c.event_id, event_ids))):
        got[event_id].add(sub)
    return got


def _mark_complete(conn, receipts: Table, outbox: Table, event_ids: Sequence[str], now) -> None:
    done: list[str] = []
    for i in range(0, len(event_ids), 500):
        chunk = list(event_ids[i:i + 500])
        # By event id only (its unique index), receipted_at filtered here: with "receipted_at IS NULL" in the
        # WHERE, PostgreSQL also scans ix_outbox_unreceipted over every unreceipted row (slow during a backlog).
        rows = [r for r in conn.execute(select(outbox.c.event_id, outbox.c.event_type, outbox.c.receipted_at)
                                        .where(_any(conn, outbox.c.event_id, chunk))) if r.receipted_at is None]
        if not rows:
            continue
        got = _receipted_by(conn, receipts, [r.event_id for r in rows])
        done += [r.event_id for r in rows if set(subscribers_for(r.event_type)) <= got[r.event_id]]
    for i in range(0, len(done), 500):
        conn.execute(update(outbox).where(_any(conn, outbox.c.event_id, done[i:i + 500]),
                                          outbox.c.receipted_at.is_(None)).values(receipted_at=now))


def queue_depth(celery_app, queue: str) -> int:
    """Messages waiting in a broker queue (0 if it does not exist)."""
    with celery_app.connection_for_read() as conn:
        channel = conn.channel()
        try:
            return channel.queue_declare(queue=queue, passive=True).message_count
        except Exception:  # noqa: BLE001 - kombu raises ChannelError for a queue nobody declared: empty
            return 0
        finally:
            channel.close()


def broker_backlog(celery_app) -> Callable[[str], bool]:
    """``subscriber -> bool``: does its event queue still hold messages? (asked once per subscriber)"""
    seen: dict[str, bool] = {}

    def backlogged(subscriber: str) -> bool:
        if subscriber not in seen:
            try:
                seen[subscriber] = queue_depth(celery_app, consumer_queue(subscriber)) > 0
            except Exception:  # noqa: BLE001 - broker unreachable: publishing will fail and be retried anyway
                seen[subscriber] = False
        return seen[subscriber]

    return backlogged


def resend_unreceipted(engine: Engine, outbox: Table, receipts: Table, celery_app, timeout_seconds: float,
                       batch_size: int = 500, max_batches: int = 20,
                       backlogged: Callable[[str], bool] | None = None) -> int:
    """Re-publish events not receipted within the timeout, only to the subscribers that lack them.

    Returns how many (event, subscriber) deliveries were re-sent. Rows are claimed with SKIP LOCKED on
    PostgreSQL; each re-send restarts the row's timeout (``published_at``).

    A subscriber whose event queue still holds messages is behind, not missing events: what it lacks is
    most likely still queued. Re-sending then would only pile duplicates onto the backlog (a 100,000-row
    bulk job leaves consumers minutes behind, and the sweep would re-send up to 10,000 deliveries every
    round), so for such a subscriber the row's timeout is restarted instead. Once its queue has drained,
    whatever it still lacks is re-sent as usual. ``backlogged`` defaults to asking the broker.
    """
    from shared.outbox import _row_to_envelope, claim_rows, publish_to

    backlogged = backlogged or broker_backlog(celery_app)
    if all(backlogged(s) for s in all_subscribers()):
        return 0  # everyone is still working through its queue
    resent = 0
    for _ in range(max_batches):
        cutoff = utcnow() - dt.timedelta(seconds=timeout_seconds)
        with engine.begin() as conn:
            rows = claim_rows(conn, outbox, batch_size, outbox.c.receipted_at.is_(None),
                              outbox.c.published_at.is_not(None), outbox.c.published_at <= cutoff)
            if not rows:
                break
            got = _receipted_by(conn, receipts, [r.event_id for r in rows])
            missing: dict[str, list[dict]] = defaultdict(list)
            complete: list[int] = []
            sent_again: set[int] = set()
            for r in rows:
                lacking = [s for s in subscribers_for(r.event_type) if s not in got[r.event_id]]
                if not lacking:
                    complete.append(r.seq)
                for s in lacking:
                    if not backlogged(s):
                        missing[s].append(_row_to_envelope(r))
                        sent_again.add(r.seq)
            now = utcnow()
            for svc, envs in missing.items():
                publish_to(celery_app, svc, envs)
                resent += len(envs)
            if complete:
                conn.execute(update(outbox).where(outbox.c.seq.in_(complete)).values(receipted_at=now))
            if sent_again:
                conn.execute(update(outbox).where(outbox.c.seq.in_(sorted(sent_again)))
                             .values(published_at=now, publish_attempts=outbox.c.publish_attempts + 1))
            waiting = [r.seq for r in rows if r.seq not in sent_again and r.seq not in set(complete)]
            if waiting:  # only backlogged subscribers lack these: look again a timeout from now
                conn.execute(update(outbox).where(outbox.c.seq.in_(waiting)).values(published_at=now))
        if len(rows) < batch_size or not sent_again:
            break  # (a batch of nothing but waiting rows: the rest can wait for the next round too)
    if resent:
        log.warning("re-sent %d event deliveries that were never receipted", resent)
    return resent


def register_receipts_task(celery_app, service: str, get_tables):
    """The producer's ``<service>.receipts(subscriber, event_ids)`` task. ``get_tables()`` → (outbox, receipts)."""
    from flask import current_app

    @celery_app.task(name=receipts_task_name(service), bind=True, ignore_result=True, max_retries=None)
    def receipts_task(self, subscriber: str, event_ids: list[str]) -> int:
        outbox, receipts = get_tables()
        try:
            return record(current_app.extensions["db"].engine, receipts, outbox, subscriber, event_ids)
        except Exception as exc:  # noqa: BLE001 - a lock timeout; a lost receipt only means a re-send
            if self.request.retries < 5:
                raise self.retry(exc=exc, countdown=0.5 * (self.request.retries + 1))
            raise

    return receipts_task
