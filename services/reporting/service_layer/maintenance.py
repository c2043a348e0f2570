"""Rebuild the read model from the enrollment service's event history, and reconcile it with the
enrollment service's own counts. Both talk to enrollment over the bus only.

Rebuild (pull, one page at a time):

1. ``start_rebuild`` wipes the read model *and the inbox* in one transaction and records a running
   rebuild (``rm_rebuilds``, cursor 0), then asks ``enrollment.replay_events(reporting, 0, page)``.
2. Each page arrives as ``reporting.consume_replay`` (on ``reporting.events``, marked with the rebuild
   id and its ``after_seq``). ``apply_replay_page`` applies it in one transaction with the cursor move:
   events go through the same inbox claim and projector as live traffic, so an event that also
   arrives live during the rebuild (the inbox was emptied with the read model) counts once.
   A page whose ``after_seq`` is not the cursor (a redelivery, a superseded rebuild) changes nothing.
3. Then it asks for the next page; the last page (``done``) finishes the rebuild. A beat watchdog
   re-asks for the page at the cursor if a rebuild made no progress for ``REPLAY_STALL_SECONDS``.

Reconcile: ``start_reconcile`` records a request and asks ``enrollment.counts_snapshot``; the snapshot
event comes back through the normal consumer, where ``on_snapshot`` compares it, per course and status,
with ``rm_enrollments`` and, per course and counter, with ``rm_rollups`` (same transaction as the events
before it in the batch). Results are kept in ``rm_reconciliations`` / ``rm_reconciliation_rows``.
"""
from __future__ import annotations

import datetime as dt
import logging
import uuid

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from services.reporting.adapters import orm
from services.reporting.domain.rollup import CounterTotals, counters_for_status
from shared.clock import utcnow
from shared.db import dialect_name

log = logging.getLogger(__name__)

REPLAY_EVENTS = "enrollment.replay_events"
COUNTS_SNAPSHOT = "enrollment.counts_snapshot"
SERVICE = "reporting"
KEEP_RECONCILIATIONS = 20
STATUS_COUNTERS = ("requested", "pending_prerequisite", "waitlisted", "enrolled", "attended", "no_show",
                   "completed", "failed", "cancelled")


def _row(mapping) -> dict | None:
    if mapping is None:
        return None
    out = dict(mapping)
    for k, v in out.items():
        if isinstance(v, dt.datetime) and v.tzinfo is None:
            out[k] = v.replace(tzinfo=dt.timezone.utc)
    return out


# --- rebuild ---------------------------------------------------------------------------------------

def wipe(session: Session) -> None:
    if dialect_name(session) == "postgresql":
        session.execute(text("TRUNCATE " + ", ".join(t.name for t in orm.READ_MODEL_TABLES)))
    else:
        for t in orm.READ_MODEL_TABLES:
            session.execute(delete(t))


def request_page(celery_app, request_id: str, after_seq: int, page_size: int) -> None:
    celery_app.send_task(REPLAY_EVENTS, kwargs={"requester": SERVICE, "after_seq": int(after_seq),
                                                "limit": int(page_size), "request_id": request_id})


def start_rebuild(session_factory, celery_app, requested_by: str, page_size: int) -> dict:
    rid = str(uuid.uuid4())
    now = utcnow()
    with session_factory.begin() as s:
        superseded = s.execute(update(orm.rm_rebuilds).where(orm.rm_rebuilds.c.state == "running")
                               .values(state="superseded", updated_at=now)).rowcount
        wipe(s)
        s.execute(orm.rm_rebuilds.insert().values(id=rid, state="running", requested_by=requested_by, cursor_seq=0,
                                                  pages=0, events_received=0, events_applied=0, started_at=now,
                                                  updated_at=now))
    if superseded:
        log.warning("rebuild %s supersedes %d running rebuild(s)", rid, superseded)
    request_page(celery_app, rid, 0, page_size)
    with session_factory() as s:
        return get_rebuild(s, rid)


def get_rebuild(s: Session, rebuild_id: str | None = None) -> dict | None:
    q = select(orm.rm_rebuilds)
    q = q.where(orm.rm_rebuilds.c.id == rebuild_id) if rebuild_id else q.order_by(orm.rm_rebuilds.c.started_at.desc())
    return _row(s.execute(q.limit(1)).mappings().first())


def apply_replay_page(session_factory, envelopes: list[dict], request_id: str, after_seq: int, last_seq: int,
                      done: bool, isolate: bool = False) -> str:
    """Apply one replayed page with the cursor move. Returns "applied", "finished" or "stale"."""
    from services.reporting.service_layer import projector

    with session_factory.begin() as s:
        q = select(orm.rm_rebuilds).where(orm.rm_rebuilds.c.id == request_id)
        if dialect_name(s) == "postgresql":
            q = q.with_for_update()
        row = s.execute(q).mappings().first()
        if row is None or row["state"] != "running" or int(row["cursor_seq"]) != int(after_seq):
            return "stale"
        fresh = projector.claim_new(s, envelopes)
        if fresh and not isolate:
            projector.apply(s, fresh)
        elif fresh:  # a page that failed as a whole: apply event by event, park the bad ones as dead
            for env in fresh:
                try:
                    with s.begin_nested():
                        projector.apply(s, [env])
                except Exception as exc:  # noqa: BLE001 - recorded on the event's inbox row
                    log.exception("replayed event %s (%s) could not be applied", env["id"], env["type"])
                    s.execute(update(orm.inbox).where(orm.inbox.c.event_id == env["id"])
                              .values(status="dead", error=repr(exc)[:2000]))
        now = utcnow()
        s.execute(update(orm.rm_rebuilds).where(orm.rm_rebuilds.c.id == request_id).values(
            cursor_seq=int(last_seq), pages=orm.rm_rebuilds.c.pages + 1,
            events_received=orm.rm_rebuilds.c.events_received + len(envelopes),
            events_applied=orm.rm_rebuilds.c.events_applied + len(fresh), updated_at=now,
            **({"state": "finished", "finished_at": now} if done else {})))
    return "finished" if done else "applied"


def watchdog(session_factory, celery_app, stall_seconds: float, page_size: int) -> int:
    """Re-ask for the page at the cursor of any rebuild that has not moved for ``stall_seconds``."""
    cutoff = utcnow() - dt.timedelta(seconds=stall_seconds)
    with session_factory.begin() as s:
        stalled = s.execute(select(orm.rm_rebuilds.c.id, orm.rm_rebuilds.c.cursor_seq).where(
            orm.rm_rebuilds.c.state == "running", orm.rm_rebuilds.c.updated_at < cutoff)).all()
        for rid, _ in stalled:
            s.execute(update(orm.rm_rebuilds).where(orm.rm_rebuilds.c.id == rid).values(updated_at=utcnow()))
    for rid, cursor in stalled:
        log.warning("rebuild %s stalled at seq %s: asking for the page again", rid, cursor)
        request_page(celery_app, rid, int(cursor), page_size)
    return len(stalled)


# --- reconcile -------------------------------------------------------------------------------------

def start_reconcile(session_factory, celery_app, year: int, requested_by: str) -> dict:
    rid = str(uuid.uuid4())
    with session_factory.begin() as s:
        s.execute(orm.rm_reconciliations.insert().values(id=rid, year=year, state="requested",
                                                         requested_by=requested_by, requested_at=utcnow()))
    celery_app.send_task(COUNTS_SNAPSHOT, kwargs={"year": int(year), "requester": SERVICE, "request_id": rid})
    with session_factory() as s:
        return get_reconciliation(s, rid)


def get_reconciliation(s: Session, rec_id: str | None = None, year: int | None = None,
                       compared_only: bool = False) -> dict | None:
    t = orm.rm_reconciliations
    q = select(t)
    if rec_id:
        q = q.where(t.c.id == rec_id)
    if year is not None:
        q = q.where(t.c.year == year)
    if compared_only:
        q = q.where(t.c.state != "requested")
    return _row(s.execute(q.order_by(t.c.requested_at.desc()).limit(1)).mappings().first())


def reconciliation_rows(s: Session, rec_id: str, only_differences: bool, kind: str | None = None) -> list[dict]:
    rr, c = orm.rm_reconciliation_rows, orm.rm_courses
    q = (select(rr, c.c.code, c.c.name_ko).join(c, c.c.course_id == rr.c.course_id, isouter=True)
         .where(rr.c.reconciliation_id == rec_id))
    if only_differences:
        q = q.where(rr.c.read_model != rr.c.enrollment)
    if kind:
        q = q.where(rr.c.kind == kind)
    rows = s.execute(q.order_by(rr.c.course_id, rr.c.kind.desc(), rr.c.name)).mappings().all()
    return [{"course_id": r["course_id"], "code": r["code"], "name_ko": r["name_ko"], "kind": r["kind"],
             "name": r["name"], "read_model": int(r["read_model"]), "enrollment": int(r["enrollment"]),
             "difference": int(r["read_model"]) - int(r["enrollment"])} for r in rows]


def expected_counters(by_status: dict[str, int]) -> dict[str, int]:
    out = {c: 0 for c in STATUS_COUNTERS}
    for status, n in by_status.items():
        for counter in counters_for_status(status):
            out[counter.value] += int(n)
    return out


def on_snapshot(s: Session, env: dict) -> None:
    """Compare a counts snapshot with the read model (inside the consumer's transaction)."""
    p = env["payload"]
    year, rid = int(p["year"]), p.get("request_id") or env["id"]
    t, rr = orm.rm_reconciliations, orm.rm_reconciliation_rows
    if s.execute(select(t.c.id).where(t.c.id == rid)).first() is None:
        s.execute(t.insert().values(id=rid, year=year, state="requested", requested_by=p.get("requested_by"),
                                    requested_at=utcnow()))
    snap = {int(cid): {k: int(v) for k, v in statuses.items()} for cid, statuses in p["counts"].items()}
    model: dict[int, dict[str, int]] = {}
    e = orm.rm_enrollments
    for cid, status, n in s.execute(select(e.c.course_id, e.c.status, func.count()).where(e.c.year == year)
                                    .group_by(e.c.course_id, e.c.status)).all():
        model.setdefault(int(cid), {})[status] = int(n)
    rollups = {int(r["key"]): CounterTotals.from_mapping(r) for r in s.execute(
        select(orm.rm_rollups).where(orm.rm_rollups.c.year == year, orm.rm_rollups.c.dimension == "course"))
        .mappings() if r["key"].isdigit()}

    rows = []
    for cid in sorted(set(snap) | set(model) | set(rollups)):
        a, b = model.get(cid, {}), snap.get(cid, {})
        for status in sorted(set(a) | set(b)):
            rows.append({"reconciliation_id": rid, "course_id": cid, "kind": "status", "name": status,
                         "read_model": a.get(status, 0), "enrollment": b.get(status, 0)})
        want, have = expected_counters(b), rollups.get(cid, CounterTotals())
        for counter in STATUS_COUNTERS:
            got = getattr(have, counter)
            if got or want[counter]:
                rows.append({"reconciliation_id": rid, "course_id": cid, "kind": "counter", "name": counter,
                             "read_model": got, "enrollment": want[counter]})
    differences = sum(1 for r in rows if r["read_model"] != r["enrollment"])
    running = s.execute(select(func.count()).select_from(orm.rm_rebuilds)
                        .where(orm.rm_rebuilds.c.state == "running")).scalar_one()
    s.execute(delete(rr).where(rr.c.reconciliation_id == rid))
    for i in range(0, len(rows), 500):
        s.execute(rr.insert(), rows[i:i + 500])
    taken = p.get("taken_at")
    s.execute(update(t).where(t.c.id == rid).values(
        state="matched" if differences == 0 else "differences", compared_at=utcnow(),
        snapshot_taken_at=dt.datetime.fromisoformat(taken) if taken else None,
        courses_compared=len(set(snap) | set(model)), differences=differences,
        note="rebuild running: differences are expected until it finishes" if running else None))
    if differences:
        log.warning("reconciliation %s (%s): %d differences between the read model and enrollment",
                    rid, year, differences)
    old = s.execute(select(t.c.id).order_by(t.c.requested_at.desc()).offset(KEEP_RECONCILIATIONS)).scalars().all()
    if old:
        s.execute(delete(rr).where(rr.c.reconciliation_id.in_(old)))
        s.execute(delete(t).where(t.c.id.in_(old)))


def years_to_reconcile(s: Session, current_year: int) -> list[int]:
    years = set(s.execute(select(orm.rm_courses.c.year).distinct()).scalars())
    years |= set(s.execute(select(orm.rm_enrollments.c.year).distinct()).scalars())
    return sorted(years | {current_year})


def recount_rollups(session: Session, year: int | None = None) -> int:
    """Recompute ``rm_rollups`` set-based from ``rm_enrollments`` (one GROUP BY per dimension).

    Same definitions as the incremental path (``queries._count_exprs`` uses ``domain.rollup``). Used by the
    benchmark seeding and available for repairs; the rebuild itself replays events. Returns rows written.
    """
    from sqlalchemy import literal

    from services.reporting.service_layer.queries import _COLUMN, _count_exprs, _keyed

    e, r = orm.rm_enrollments, orm.rm_rollups
    q = delete(r)
    if year is not None:
        q = q.where(r.c.year == year)
    session.execute(q)
    written = 0
    dims = [("total", literal(""))] + [(d, _keyed(col)) for d, col in _COLUMN.items()]
    for dim, key in dims:
        sel = select(e.c.year, literal(dim).label("dimension"), key.label("key"), *_count_exprs())
        if year is not None:
            sel = sel.where(e.c.year == year)
        sel = sel.group_by(e.c.year, key) if dim != "total" else sel.group_by(e.c.year)
        written += session.execute(r.insert().from_select(["year", "dimension", "key", *orm.COUNTER_NAMES], sel)).rowcount
    return written
