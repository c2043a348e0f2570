"""Applies enrollment events to the read model (idempotent via the inbox, order-proof via versions)."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.reporting.adapters import orm
from shared.consumer import EventHandlers
from shared.db import upsert_insert

handlers = EventHandlers()

#: Statuses that hold (or held) a seat count as "enrolled".
SEATED = {"confirmed", "attended", "no_show", "completed", "failed"}


def status_counters(status: str | None) -> list[str]:
    if status is None:
        return []
    out = [status]
    if status in SEATED:
        out.append("enrolled")
    return out


def counter_deltas(previous: str | None, new: str) -> dict[str, int]:
    deltas: dict[str, int] = defaultdict(int)
    for c in status_counters(previous):
        deltas[c] -= 1
    for c in status_counters(new):
        deltas[c] += 1
    return {k: v for k, v in deltas.items() if v}


def dimensions(row) -> list[tuple[str, str]]:
    return [("all", "all"), ("course", str(row["course_id"])), ("session", str(row["session_id"])),
            ("area", row["competency_area"] or "-"), ("delivery", row["delivery"] or "-"),
            ("org", row["organisation_type"] or "-"), ("grade", row["grade"] or "-"),
            ("job_series", row["job_series"] or "-"), ("month", row["month"] or "-")]


def bump(session: Session, year: int, dims, deltas: dict[str, int]) -> None:
    if not deltas:
        return
    insert = upsert_insert(session)
    rows = [{"year": year, "dimension": d, "key": k, "counter": c, "value": v}
            for d, k in dims for c, v in deltas.items()]
    stmt = insert(orm.rm_counters)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["year", "dimension", "key", "counter"],
        set_={"value": orm.rm_counters.c.value + stmt.excluded.value}), rows)


def _upsert(session: Session, table, key: str, values: dict) -> None:
    insert = upsert_insert(session)
    stmt = insert(table).values(**values)
    session.execute(stmt.on_conflict_do_update(index_elements=[key],
                                               set_={k: v for k, v in values.items() if k != key}))


@handlers.on("hrd.enrollment.course.created.v1", "hrd.enrollment.course.updated.v1")
def on_course(session: Session, env: dict) -> None:
    p = env["payload"]
    _upsert(session, orm.rm_courses, "course_id", {
        "course_id": p["id"], "year": p["year"], "code": p["code"], "name_ko": p["name_ko"],
        "name_en": p.get("name_en"), "delivery": p["delivery"], "competency_area": p["competency_area"],
        "status": p.get("status"), "planned_sessions": p.get("planned_sessions") or 0,
        "planned_seats": p["planned_seats"], "updated_at": dt.datetime.now(dt.timezone.utc)})


@handlers.on("hrd.enrollment.session.created.v1", "hrd.enrollment.session.updated.v1",
             "hrd.enrollment.session.rescheduled.v1", "hrd.enrollment.session.cancelled.v1")
def on_session(session: Session, env: dict) -> None:
    p = env["payload"]
    _upsert(session, orm.rm_sessions, "session_id", {
        "session_id": p["id"], "course_id": p["course_id"], "year": p["year"], "seq_no": p.get("seq_no"),
        "starts_on": dt.date.fromisoformat(p["starts_on"]), "ends_on": dt.date.fromisoformat(p["ends_on"]),
        "capacity": p["capacity"], "status": p.get("status") or "scheduled"})


def on_enrollment(session: Session, env: dict) -> None:
    p = env["payload"]
    current = session.execute(select(orm.rm_enrollments).where(
        orm.rm_enrollments.c.enrollment_id == p["enrollment_id"])).first()
    if current is not None and current.version >= p["version"]:
        return  # older than (or the same as) what the read model already shows
    trainee, course = p["trainee"], p["course"]
    requested = (p.get("requested_at") or env["occurred_at"])[:7]
    row = {"enrollment_id": p["enrollment_id"], "version": p["version"], "status": p["status"],
           "year": course["year"], "course_id": course["id"], "session_id": p["session"]["id"],
           "trainee_id": trainee["id"], "competency_area": course.get("competency_area"),
           "delivery": course.get("delivery"), "organisation_type": trainee.get("organisation_type"),
           "grade": trainee.get("grade"), "job_series": trainee.get("job_series"), "month": requested}
    previous = None
    if current is None:
        session.execute(orm.rm_enrollments.insert().values(**row))
    else:
        previous = current.status
        row = {**dict(current._mapping), "version": p["version"], "status": p["status"]}
        session.execute(update(orm.rm_enrollments).where(
            orm.rm_enrollments.c.enrollment_id == p["enrollment_id"]).values(version=p["version"], status=p["status"]))
    bump(session, row["year"], dimensions(row), counter_deltas(previous, p["status"]))


for _t in ("created", "pending_prerequisite", "confirmed", "waitlisted", "attended", "no_show", "completed",
           "failed", "cancelled", "promoted"):
    handlers.on(f"hrd.enrollment.enrollment.{_t}.v1")(on_enrollment)
