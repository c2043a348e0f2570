"""Read-side queries over the read model."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.reporting.adapters import orm

COUNTERS = ("enrolled", "confirmed", "waitlisted", "pending_prerequisite", "attended", "completed", "no_show",
            "failed", "cancelled")


def counters(session: Session, year: int, dimension: str = "all") -> dict[str, dict[str, int]]:
    rows = session.execute(select(orm.rm_counters.c.key, orm.rm_counters.c.counter, orm.rm_counters.c.value)
                           .where(orm.rm_counters.c.year == year, orm.rm_counters.c.dimension == dimension)).all()
    out: dict[str, dict[str, int]] = {}
    for key, counter, value in rows:
        out.setdefault(key, {c: 0 for c in COUNTERS})[counter] = int(value)
    return out


def summary(session: Session, year: int) -> dict:
    c = orm.rm_courses.c
    rows = session.execute(select(c.delivery, func.count(), func.coalesce(func.sum(c.planned_seats), 0))
                           .where(c.year == year).group_by(c.delivery)).all()
    plan = {"classroom": {"courses": 0, "seats": 0}, "elearning": {"courses": 0, "seats": 0}}
    for delivery, n, seats in rows:
        plan.setdefault(delivery, {"courses": 0, "seats": 0}).update(courses=int(n), seats=int(seats))
    plan["total"] = {"courses": sum(v["courses"] for v in plan.values()),
                     "seats": sum(v["seats"] for v in plan.values())}
    actual = counters(session, year).get("all", {k: 0 for k in COUNTERS})
    by_delivery = counters(session, year, "delivery")
    return {"year": year, "plan": plan, "actual": actual,
            "actual_by_delivery": {d: by_delivery.get(d, {k: 0 for k in COUNTERS}) for d in ("classroom", "elearning")}}
