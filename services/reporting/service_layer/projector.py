"""Applies enrollment-service events to the read model, a whole batch at a time.

Idempotent through the inbox (the caller claims the batch's event ids in the same transaction), and
order-proof:

* catalogue snapshots (course/session) only overwrite a row with an older ``occurred_at``;
* an enrollment event is applied only if its ``version`` is higher than the row's; the row's stored
  status is the ``previous`` of ``domain.rollup.status_deltas``, so however the events of one
  enrollment are delivered (late, twice, reversed) the counters end at ``contribution(latest status)``;
* dimension values (course, session, area, delivery, organisation type, grade, job series, month of
  the session start) are frozen when an enrollment is first seen and reused for every later delta;
* a survey answer is stored on its enrollment (a correction replaces the earlier score, the newest by
  ``occurred_at`` wins); one that arrives before its enrollment waits in ``rm_pending_surveys``.

Batching: the batch's enrollment rows are loaded once (``FOR UPDATE`` on PostgreSQL, in id order, so
two workers touching the same enrollment serialise instead of both reading the same previous status),
deltas are summed in memory, then written with a few multi-row statements (rollups upserted as
``value = value + excluded.value``, sorted by key so concurrent batches lock rows in the same order).
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import bindparam, delete, select, text, update
from sqlalchemy.orm import Session

from services.reporting.adapters import orm
from services.reporting.service_layer import maintenance
from services.reporting.domain.rollup import (EnrollmentDimensions, parse_status, satisfaction_deltas,
                                              score_x100, status_deltas)
from shared import inbox
from shared.clock import as_utc as _aware
from shared.db import dialect_name, upsert_insert

log = logging.getLogger(__name__)

COURSE_EVENTS = ("hrd.enrollment.course.created.v1", "hrd.enrollment.course.updated.v1")
SESSION_EVENTS = ("hrd.enrollment.session.created.v1", "hrd.enrollment.session.updated.v1",
                  "hrd.enrollment.session.rescheduled.v1", "hrd.enrollment.session.cancelled.v1")
ENROLLMENT_EVENTS = tuple(f"hrd.enrollment.enrollment.{t}.v1" for t in (
    "created", "requested", "pending_prerequisite", "confirmed", "waitlisted", "attended", "no_show",
    "completed", "failed", "cancelled", "promoted"))
SURVEY_EVENT = "hrd.enrollment.survey.submitted.v1"
SNAPSHOT_EVENT = "hrd.enrollment.counts.snapshot.v1"

R = orm.rm_rollups
E = orm.rm_enrollments


def _ts(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    out = dt.datetime.fromisoformat(value)
    return out if out.tzinfo else out.replace(tzinfo=dt.timezone.utc)


def _month_of(starts_on: str | None) -> int | None:
    try:
        return int(starts_on[5:7]) if starts_on else None
    except ValueError:
        return None


def dimensions_of(row: dict) -> EnrollmentDimensions:
    month = row.get("month")
    return EnrollmentDimensions(
        year=row["year"], course_code=str(row["course_id"]), session_id=str(row["session_id"]),
        competency_area=row.get("competency_area"), delivery=row.get("delivery"),
        organisation_type=row.get("organisation_type"), grade=row.get("grade"), job_series=row.get("job_series"),
        month=int(month) if month and month.isdigit() else None)


class BatchProjection:
    """The state of one batch: the enrollment rows it touches and the counter deltas it produces."""

    def __init__(self, session: Session):
        self.s = session
        self.rows: dict[int, dict] = {}
        self.new_ids: set[int] = set()
        self.dirty: set[int] = set()
        self.pending: dict[int, dict] = {}           # surveys waiting for their enrollment
        self.pending_dirty: set[int] = set()
        self.pending_gone: set[int] = set()
        self.deltas: dict[tuple[int, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.keys: dict[int, list[tuple[int, str, str]]] = {}
        self.courses: dict[int, dict] = {}   # catalogue snapshots of the batch, newest per id
        self.sessions: dict[int, dict] = {}

    # -- loading ---------------------------------------------------------------------------------
    def preload(self, envelopes: list[dict]) -> None:
        ids = sorted({env["payload"]["enrollment_id"] for env in envelopes
                      if env["type"] in ENROLLMENT_EVENTS or env["type"] == SURVEY_EVENT}
                     - set(self.rows))
        if not ids:
            return
        lock = dialect_name(self.s) == "postgresql"
        for i in range(0, len(ids), 900):
            chunk = ids[i:i + 900]
            q = select(E).where(E.c.enrollment_id.in_(chunk)).order_by(E.c.enrollment_id)
            if lock:
                q = q.with_for_update()
            for r in self.s.execute(q).mappings():
                self.rows[r["enrollment_id"]] = dict(r)
            q = select(orm.rm_pending_surveys).where(orm.rm_pending_surveys.c.enrollment_id.in_(chunk))
            if lock:
                q = q.with_for_update()
            for r in self.s.execute(q).mappings():
                self.pending[r["enrollment_id"]] = dict(r)

    # -- counters --------------------------------------------------------------------------------
    def add(self, row: dict, deltas) -> None:
        if not deltas:
            return
        eid = row["enrollment_id"]
        keys = self.keys.get(eid)
        if keys is None:  # dimensions are frozen per enrollment, so its rollup keys can be cached
            keys = self.keys[eid] = [(k.year, k.dimension.value, k.value) for k in dimensions_of(row).keys()]
        changes = [(str(counter), change) for counter, change in deltas.items()]
        for key in keys:
            bucket = self.deltas[key]
            for counter, change in changes:
                bucket[counter] += change

    # -- events ----------------------------------------------------------------------------------
    def enrollment(self, env: dict) -> None:
        p = env["payload"]
        eid, version = int(p["enrollment_id"]), int(p["version"])
        new_status = parse_status(p["status"]).value  # an unknown status raises: dead-lettered, not guessed
        cur = self.rows.get(eid)
        if cur is not None and cur["version"] >= version:
            return  # older than (or the same as) what the read model already shows
        if cur is None:
            course, trainee, sess = p["course"], p["trainee"], p["session"]
            month = _month_of(sess.get("starts_on"))
            cur = {"enrollment_id": eid, "version": version, "status": new_status, "year": int(course["year"]),
                   "course_id": int(course["id"]), "session_id": int(sess["id"]), "trainee_id": int(trainee["id"]),
                   "competency_area": course.get("competency_area"), "delivery": course.get("delivery"),
                   "organisation_type": trainee.get("organisation_type"), "grade": trainee.get("grade"),
                   "job_series": trainee.get("job_series"), "month": f"{month:02d}" if month else None,
                   "satisfaction_x100": None, "survey_occurred_at": None}
            self.rows[eid] = cur
            self.new_ids.add(eid)
            self.add(cur, status_deltas(None, new_status))
            waiting = self.pending.get(eid)
            if waiting is not None:
                self._set_score(cur, waiting["satisfaction_x100"], _aware(waiting["occurred_at"]))
                self.pending_gone.add(eid)
                self.pending_dirty.discard(eid)
            return
        previous = cur["status"]
        cur["version"], cur["status"] = version, new_status
        self.dirty.add(eid)
        self.add(cur, status_deltas(previous, new_status))

    def survey(self, env: dict) -> None:
        p = env["payload"]
        eid = int(p["enrollment_id"])
        value = score_x100(p["score"])  # validates 0..100
        at = _ts(env.get("occurred_at")) or dt.datetime.now(dt.timezone.utc)
        cur = self.rows.get(eid)
        if cur is None:
            waiting = self.pending.get(eid)
            if waiting is None or _aware(waiting["occurred_at"]) <= at:
                self.pending[eid] = {"enrollment_id": eid, "satisfaction_x100": value, "occurred_at": at}
                self.pending_dirty.add(eid)
            return
        if cur["survey_occurred_at"] is not None and _aware(cur["survey_occurred_at"]) > at:
            return  # an older answer than the one already counted
        self._set_score(cur, value, at)
        if eid not in self.new_ids:
            self.dirty.add(eid)

    def _set_score(self, row: dict, value: int, at: dt.datetime | None) -> None:
        previous = row["satisfaction_x100"]
        self.add(row, satisfaction_deltas(Decimal(value) / 100,
                                          None if previous is None else Decimal(previous) / 100))
        row["satisfaction_x100"], row["survey_occurred_at"] = value, at

    # -- writing ---------------------------------------------------------------------------------
    def flush(self) -> None:
        s = self.s
        pg = dialect_name(s) == "postgresql"
        guarded_upsert(s, orm.rm_courses, "course_id", [self.courses[k] for k in sorted(self.courses)])
        guarded_upsert(s, orm.rm_sessions, "session_id", [self.sessions[k] for k in sorted(self.sessions)])
        self.courses, self.sessions = {}, {}
        if self.new_ids:
            rows = [self.rows[i] for i in sorted(self.new_ids)]
            if pg:
                pg_insert(s, E, [c.name for c in E.columns], rows)
            else:
                s.execute(E.insert(), rows)
        if self.dirty and pg:
            cols = ["enrollment_id", "version", "status", "satisfaction_x100", "survey_occurred_at"]
            s.execute(text(
                f"UPDATE rm_enrollments AS e SET version = u.version, status = u.status, "
                f"satisfaction_x100 = u.satisfaction_x100, survey_occurred_at = u.survey_occurred_at "
                f"FROM {_unnest(cols)} AS u({', '.join(cols)}) WHERE e.enrollment_id = u.enrollment_id"),
                _arrays(cols, [self.rows[i] for i in sorted(self.dirty)]))
        elif self.dirty:
            stmt = (update(E).where(E.c.enrollment_id == bindparam("b_id"))
                    .values(version=bindparam("b_version"), status=bindparam("b_status"),
                            satisfaction_x100=bindparam("b_score"), survey_occurred_at=bindparam("b_at")))
            s.execute(stmt, [{"b_id": i, "b_version": self.rows[i]["version"], "b_status": self.rows[i]["status"],
                              "b_score": self.rows[i]["satisfaction_x100"],
                              "b_at": self.rows[i]["survey_occurred_at"]} for i in sorted(self.dirty)])
        if self.pending_gone:
            s.execute(delete(orm.rm_pending_surveys).where(
                orm.rm_pending_surveys.c.enrollment_id.in_(sorted(self.pending_gone))))
        if self.pending_dirty:
            insert = upsert_insert(s)
            stmt = insert(orm.rm_pending_surveys)
            s.execute(stmt.on_conflict_do_update(
                index_elements=["enrollment_id"],
                set_={"satisfaction_x100": stmt.excluded.satisfaction_x100,
                      "occurred_at": stmt.excluded.occurred_at}),
                [self.pending[i] for i in sorted(self.pending_dirty)])
        self._flush_rollups()
        self.new_ids, self.dirty, self.pending_gone, self.pending_dirty = set(), set(), set(), set()

    def _flush_rollups(self) -> None:
        items = [(k, v) for k, v in sorted(self.deltas.items()) if any(v.values())]
        self.deltas = defaultdict(lambda: defaultdict(int))
        if not items:
            return
        rows = [{"year": y, "dimension": d, "key": key,
                 **{name: int(counters.get(name, 0)) for name in orm.COUNTER_NAMES}}
                for (y, d, key), counters in items]
        if dialect_name(self.s) == "postgresql":
            cols = ["year", "dimension", "key", *orm.COUNTER_NAMES]
            pg_insert(self.s, R, cols, rows, "ON CONFLICT (year, dimension, key) DO UPDATE SET " + ", ".join(
                f"{n} = rm_rollups.{n} + EXCLUDED.{n}" for n in orm.COUNTER_NAMES))
            return
        insert = upsert_insert(self.s)
        stmt = insert(R)
        stmt = stmt.on_conflict_do_update(  # one cached statement, executemany (batched by the driver/SA)
            index_elements=["year", "dimension", "key"],
            set_={name: getattr(R.c, name) + getattr(stmt.excluded, name) for name in orm.COUNTER_NAMES})
        self.s.execute(stmt, rows)


# -- PostgreSQL bulk statements ------------------------------------------------------------------
# psycopg's executemany sends one statement per row (pipelined): ~100 µs a row in Python. On PostgreSQL a
# page of rows goes as ONE statement over unnest(arrays) instead; SQLite's executemany is a C loop already.

_PG_TYPES = {"enrollment_id": "integer", "version": "integer", "status": "text", "year": "integer",
             "course_id": "integer", "session_id": "integer", "trainee_id": "integer", "competency_area": "text",
             "delivery": "text", "organisation_type": "text", "grade": "text", "job_series": "text",
             "month": "text", "satisfaction_x100": "integer", "survey_occurred_at": "timestamptz",
             "dimension": "text", "key": "text", "event_id": "text", "event_type": "text",
             "processed_at": "timestamptz", **{name: "bigint" for name in orm.COUNTER_NAMES}}


def _unnest(columns: list[str]) -> str:
    return "unnest(" + ", ".join(f"CAST(:{c} AS {_PG_TYPES[c]}[])" for c in columns) + ")"


def _arrays(columns: list[str], rows: list[dict]) -> dict[str, list]:
    return {c: [r[c] for r in rows] for c in columns}


def pg_insert(session: Session, table, columns: list[str], rows: list[dict], suffix: str = ""):
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM {_unnest(columns)} {suffix}"
    return session.execute(text(sql), _arrays(columns, rows))


def claim_new(session: Session, envelopes: list[dict]) -> list[dict]:
    """``shared.inbox.claim_new`` for big pages: on PostgreSQL one INSERT .. ON CONFLICT DO NOTHING RETURNING
    (a concurrent claim of the same id waits for the other transaction, then skips it)."""
    if dialect_name(session) != "postgresql":
        return inbox.claim_new(session, orm.inbox, envelopes)
    now = dt.datetime.now(dt.timezone.utc)
    first: dict[str, dict] = {}
    for env in envelopes:
        first.setdefault(env["id"], env)
    rows = [{"event_id": i, "event_type": e["type"], "processed_at": now} for i, e in first.items()]
    cols = ["event_id", "event_type", "processed_at"]
    sql = (f"INSERT INTO inbox (event_id, event_type, processed_at, status) SELECT *, 'processed' FROM {_unnest(cols)} "
           "ON CONFLICT (event_id) DO NOTHING RETURNING event_id")
    fresh_ids = set(session.execute(text(sql), _arrays(cols, rows)).scalars())
    return [env for i, env in first.items() if i in fresh_ids]


# -- catalogue -----------------------------------------------------------------------------------

def guarded_upsert(session: Session, table, key: str, rows: list[dict]) -> None:
    """Insert, or overwrite only when the snapshot is not older than the stored one (one executemany)."""
    if not rows:
        return
    insert = upsert_insert(session)
    stmt = insert(table)
    stored, incoming = table.c.source_occurred_at, stmt.excluded.source_occurred_at
    session.execute(stmt.on_conflict_do_update(
        index_elements=[key], set_={k: stmt.excluded[k] for k in rows[0] if k != key},
        where=(stored.is_(None) | (stored <= incoming))), rows)


def _newest(pending: dict[int, dict], key: str, values: dict) -> None:
    """Keep, per id, the newest snapshot of the batch (the upsert's guard handles older stored rows)."""
    old = pending.get(values[key])
    if old is None or (old["source_occurred_at"] or _EPOCH) <= (values["source_occurred_at"] or _EPOCH):
        pending[values[key]] = values


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def course_row(env: dict) -> dict:
    p = env["payload"]
    return {
        "course_id": p["id"], "year": p["year"], "code": p["code"], "name_ko": p["name_ko"],
        "name_en": p.get("name_en"), "delivery": p["delivery"], "competency_area": p["competency_area"],
        "status": p.get("status"), "planned_sessions": p.get("planned_sessions") or 0,
        "planned_seats": p["planned_seats"], "source_occurred_at": _ts(env.get("occurred_at")),
        "updated_at": dt.datetime.now(dt.timezone.utc)}


def session_row(env: dict) -> dict:
    p = env["payload"]
    status = p.get("status") or "scheduled"
    if env["type"] == "hrd.enrollment.session.cancelled.v1":
        status = "cancelled"
    return {
        "session_id": p["id"], "course_id": p["course_id"], "year": p["year"], "seq_no": p.get("seq_no"),
        "starts_on": dt.date.fromisoformat(p["starts_on"]), "ends_on": dt.date.fromisoformat(p["ends_on"]),
        "capacity": p["capacity"], "venue": p.get("venue"), "status": status,
        "source_occurred_at": _ts(env.get("occurred_at"))}


# -- entry point -----------------------------------------------------------------------------------

def apply(session: Session, envelopes: list[dict]) -> None:
    """``shared.consumer`` apply function: project a batch of (already de-duplicated) envelopes."""
    batch = BatchProjection(session)
    batch.preload(envelopes)
    for env in envelopes:
        t = env["type"]
        if t in ENROLLMENT_EVENTS:
            batch.enrollment(env)
        elif t == SURVEY_EVENT:
            batch.survey(env)
        elif t in COURSE_EVENTS:
            _newest(batch.courses, "course_id", course_row(env))
        elif t in SESSION_EVENTS:
            _newest(batch.sessions, "session_id", session_row(env))
        elif t == SNAPSHOT_EVENT:
            batch.flush()  # compare against a read model that includes the events before the snapshot
            maintenance.on_snapshot(session, env)
        # other types (trainees, completions, plan imported, bulk jobs) are recorded in the inbox only
    batch.flush()
