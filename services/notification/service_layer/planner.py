"""Planned-message rows: add (immediate or future), re-plan with ``diff_plans``, withdraw.

Every message goes through ``planned_messages`` — an enrollment confirmation is a row due now, a D-7
reminder a row due in a week — so there is one dispatch path. A row is one (enrollment, kind,
occurrence, channel); its ``delivery_key`` is unique. Rows are planned for every default channel of the
kind that is enabled for the deployment; whether a channel is actually used (opt-outs, missing e-mail or
mobile number) is decided at send time, so a preference changed in between is honoured.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.notification.adapters import orm, pg_bulk
from services.notification.domain import occurrence as occ
from services.notification.domain.idempotency import delivery_key
from services.notification.domain.kinds import ChannelType, MessageKind, spec_for
from services.notification.domain.kst import at_kst
from services.notification.domain.planning import PlannedMessage, diff_plans
from services.notification.service_layer.settings import NotificationSettings
from shared.clock import as_utc as _aware
from shared.db import dialect_name, upsert_insert

T = orm.planned_messages
LIVE = ("pending", "deferred")  # not yet handed to a channel: may still be withdrawn
#: Session.info flag: this transaction planned something due now (the worker then starts a dispatch
#: right after commit instead of waiting for the next beat tick).
DUE_NOW = "notification_due_now"
#: Ids per IN list (SQLite allows 999 bound parameters per statement in old builds).
CHUNK = 900


def planned_channels(kind: MessageKind | str, st: NotificationSettings) -> list[ChannelType]:
    return [c for c in spec_for(kind).default_channels if c in st.channels or c is ChannelType.INAPP]


def _json_ready(context: dict[str, Any] | None) -> dict[str, Any] | None:
    if not context:
        return None
    out = {}
    for k, v in context.items():
        out[k] = v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v
    return out


def add(s: Session, st: NotificationSettings, *, enrollment_id: int, trainee_id: int, kind: MessageKind | str,
        occurrence: str, due_at: dt.datetime, context: dict[str, Any] | None = None) -> int:
    """Plan ``kind`` on each channel. A withdrawn row with the same key is revived (a session moved
    back to its old date); a row already sent or in flight is left alone (never sent twice)."""
    rows = planned_rows(st, enrollment_id=enrollment_id, trainee_id=trainee_id, kind=kind, occurrence=occurrence,
                        due_at=due_at, context=context, now=st.now())
    if not rows:
        return 0
    s.execute(_revive_or_insert(s), rows)
    return len(rows)


def planned_rows(st: NotificationSettings, *, enrollment_id: int, trainee_id: int, kind: MessageKind | str,
                 occurrence: str, due_at: dt.datetime, context: dict[str, Any] | None = None,
                 now: dt.datetime) -> list[dict]:
    """The ``planned_messages`` rows of one plan: one per planned channel of ``kind``."""
    kind = MessageKind(kind)
    due_at = due_at.astimezone(dt.timezone.utc)  # stored as UTC (SQLite keeps no offset)
    return [{"delivery_key": delivery_key(enrollment_id, kind, ch, occurrence), "enrollment_id": enrollment_id,
             "trainee_id": trainee_id, "kind": str(kind), "occurrence": occurrence, "channel": str(ch),
             "due_at": due_at, "status": "pending", "attempts": 0, "next_attempt_at": due_at,
             "context": _json_ready(context), "created_at": now, "updated_at": now}
            for ch in planned_channels(kind, st)]


def add_rows(s: Session, rows: list[dict]) -> int:
    """Insert (or revive) many planned rows with the effect of ``add`` on each, in order: on PostgreSQL
    one statement (``adapters.pg_bulk``), elsewhere one executemany."""
    now = pg_bulk.fresh_plans(rows) if dialect_name(s) == "postgresql" else None
    if now is not None:
        pg_bulk.revive_or_insert(s, rows, now)
    elif rows:
        s.execute(_revive_or_insert(s), rows)
    return len(rows)


_REVIVE_OR_INSERT: dict[str, Any] = {}


def _revive_or_insert(s: Session):
    """The upsert ``add`` runs, built once per dialect (building it per call was a third of a batch)."""
    name = dialect_name(s)
    stmt = _REVIVE_OR_INSERT.get(name)
    if stmt is None:
        base = upsert_insert(s)(T)
        stmt = _REVIVE_OR_INSERT[name] = base.on_conflict_do_update(
            index_elements=["delivery_key"],
            set_={"status": "pending", "due_at": base.excluded.due_at, "next_attempt_at": base.excluded.next_attempt_at,
                  "attempts": 0, "context": base.excluded.context, "detail": None,
                  "updated_at": base.excluded.updated_at},
            where=T.c.status == "withdrawn")
    return stmt


def add_immediate(s: Session, st: NotificationSettings, state, kind: MessageKind, occurrence: str = occ.ONCE,
                  context: dict[str, Any] | None = None) -> int:
    s.info[DUE_NOW] = True
    return add(s, st, enrollment_id=state["enrollment_id"], trainee_id=state["trainee_id"], kind=kind,
               occurrence=occurrence, due_at=st.now(), context=context)


def withdraw(s: Session, st: NotificationSettings, enrollment_ids: Sequence[int],
             kinds: Iterable[MessageKind | str] | None = None, detail: str = "withdrawn") -> int:
    ids = list(enrollment_ids)
    kinds = None if kinds is None else [str(MessageKind(k)) for k in kinds]
    done = 0
    for i in range(0, len(ids), CHUNK):  # one statement unless a batch withdraws for very many enrollments
        q = update(T).where(T.c.enrollment_id.in_(ids[i:i + CHUNK]), T.c.status.in_(LIVE))
        if kinds is not None:
            q = q.where(T.c.kind.in_(kinds))
        done += s.execute(q.values(status="withdrawn", detail=detail, updated_at=st.now())).rowcount
    return done


@dataclass
class _Group:
    """The rows (one per channel) of one (kind, occurrence): what diff_plans compares."""
    kind: str
    occurrence: str
    due_at: dt.datetime
    ids: list[int] = field(default_factory=list)


def replan(s: Session, st: NotificationSettings, *, enrollment_id: int, trainee_id: int,
           kinds: Sequence[MessageKind], desired: Sequence[PlannedMessage],
           context: dict[str, Any] | None = None) -> tuple[int, int]:
    """Bring the enrollment's rows of ``kinds`` to ``desired``; returns (withdrawn, added) plans.

    Rows already sent (or in flight) whose key is still desired are kept, so they are never planned
    twice; rows no longer desired are withdrawn if still pending (sent ones stay as history).
    """
    rows = s.execute(select(T.c.id, T.c.kind, T.c.occurrence, T.c.due_at, T.c.status).where(
        T.c.enrollment_id == enrollment_id, T.c.kind.in_([str(k) for k in kinds]),
        T.c.status.notin_(REPLANNED_OUT))).all()
    diff = diff_plans(_groups(rows).values(), desired, kinds=kinds)
    _withdraw_replanned(s, st, [i for g in diff.withdraw for i in g.ids])
    for p in diff.add:
        add(s, st, enrollment_id=enrollment_id, trainee_id=trainee_id, kind=p.kind, occurrence=p.occurrence,
            due_at=p.due_at, context=context)
    return len(diff.withdraw), len(diff.add)


#: Rows ``replan`` does not look at: what was withdrawn or skipped can be planned again.
REPLANNED_OUT = ("withdrawn", "skipped")


def _groups(rows) -> dict[tuple[str, str], _Group]:
    groups: dict[tuple[str, str], _Group] = {}
    for r in rows:
        g = groups.setdefault((r.kind, r.occurrence), _Group(r.kind, r.occurrence, _aware(r.due_at)))
        g.ids.append(r.id)
    return groups


def _withdraw_replanned(s: Session, st: NotificationSettings, ids: list[int]) -> None:
    for i in range(0, len(ids), CHUNK):
        s.execute(update(T).where(T.c.id.in_(ids[i:i + CHUNK]), T.c.status.in_(LIVE))
                  .values(status="withdrawn", detail="re-planned", updated_at=st.now()))


def replan_many(s: Session, st: NotificationSettings, *, kinds: Sequence[MessageKind],
                desired: dict[int, Sequence[PlannedMessage]]) -> dict[int, list[PlannedMessage]]:
    """``replan`` for many enrollments (enrollment id -> its desired plans) with one read and one write.

    Withdraws what is no longer wanted and returns, per enrollment, the plans to add: the caller
    inserts them (``planned_rows`` + ``add_rows``), in the order it wants the rows created.
    """
    ids = sorted(desired)
    by_enrollment: dict[int, list] = {}
    for i in range(0, len(ids), CHUNK):
        for r in s.execute(select(T.c.id, T.c.enrollment_id, T.c.kind, T.c.occurrence, T.c.due_at, T.c.status)
                           .where(T.c.enrollment_id.in_(ids[i:i + CHUNK]), T.c.kind.in_([str(k) for k in kinds]),
                                  T.c.status.notin_(REPLANNED_OUT)).order_by(T.c.id)):
            by_enrollment.setdefault(r.enrollment_id, []).append(r)
    stale: list[int] = []
    adds: dict[int, list[PlannedMessage]] = {}
    for eid, plans in desired.items():
        diff = diff_plans(_groups(by_enrollment.get(eid, ())).values(), plans, kinds=kinds)
        stale += [i for g in diff.withdraw for i in g.ids]
        adds[eid] = diff.add
    _withdraw_replanned(s, st, sorted(stale))
    return adds


def session_start(starts_on: dt.date, st: NotificationSettings) -> dt.datetime:
    return at_kst(starts_on, st.session_start_time)


def session_end(ends_on: dt.date, st: NotificationSettings) -> dt.datetime:
    return at_kst(ends_on, st.session_end_time)
