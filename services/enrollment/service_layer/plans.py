"""The annual plan: import (file or the demo plan), dry run, totals and export.

An import is an upsert keyed by course code and (course, 회차 number), applied set-based in one unit of
work: the changed courses and sessions, their ``course.*`` / ``session.*`` events and one
``plan.imported.v1`` per year all commit together, or nothing does. Importing the same plan twice
changes nothing and emits nothing. Sessions that exist in the database but not in the file are kept.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import bindparam, delete, func, select, update

from services.enrollment.adapters import orm as T
from services.enrollment.domain.model import Course
from services.enrollment.service_layer import enrollments as E
from services.enrollment.service_layer import payloads
from services.enrollment.service_layer.errors import invalid
from services.enrollment.service_layer.mappers import domain_course, domain_session
from services.enrollment.service_layer.unit_of_work import UnitOfWork

COURSE_COLUMNS = ("year", "name_ko", "name_en", "delivery", "competency_area", "status", "target_grades",
                  "target_job_series", "target_organisation_types", "duration_days", "duration_hours",
                  "planned_sessions", "planned_seats", "generated", "notes")
SESSION_COLUMNS = ("starts_on", "ends_on", "capacity", "venue", "enroll_opens_on", "enroll_closes_on")


def _sorted_or_none(values) -> list | None:
    return sorted(str(v) for v in values) or None


def course_values(c: Course) -> dict:
    return {"year": c.year, "name_ko": c.name_ko, "name_en": c.name_en or None, "delivery": c.delivery.value,
            "competency_area": c.area.value, "status": c.status.value,
            "target_grades": _sorted_or_none(c.target_grades),
            "target_job_series": _sorted_or_none(c.target_job_series),
            "target_organisation_types": _sorted_or_none(o.value for o in c.target_organisations),
            "duration_days": None if c.duration_days is None else float(c.duration_days),
            "duration_hours": None if c.duration_hours is None else float(c.duration_hours),
            "planned_sessions": c.planned_sessions, "planned_seats": c.planned_seats,
            "generated": c.is_generated, "notes": c.notes or None}


def session_values(s) -> dict:
    return {"starts_on": s.start, "ends_on": s.end, "capacity": s.capacity, "venue": s.venue or None,
            "enroll_opens_on": s.enrollment_opens, "enroll_closes_on": s.enrollment_closes}


def _norm(value):
    if isinstance(value, list):
        return sorted(value) or None
    return value


@dataclass
class PlanDiff:
    courses_new: list[Course] = field(default_factory=list)
    courses_changed: list[tuple[int, Course, dict]] = field(default_factory=list)   # id, course, changed fields
    prereqs_changed: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    sessions_new: list[tuple[str, object]] = field(default_factory=list)            # course code, Session
    sessions_changed: list[tuple[int, str, object, dict, object]] = field(default_factory=list)  # id, code, S, diff, old row
    unchanged_courses: int = 0
    unchanged_sessions: int = 0
    errors: list[dict] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.courses_new or self.courses_changed or self.prereqs_changed or self.sessions_new
                    or self.sessions_changed)


def _chunks(values: list, size: int = 900):
    for i in range(0, len(values), size):
        yield values[i:i + size]


def diff_plan(s, courses: Sequence[Course], lines: dict | None = None) -> PlanDiff:
    lines = lines or {}
    d = PlanDiff()
    codes = [c.code for c in courses]
    existing = {}
    for chunk in _chunks(codes):
        existing.update({r.code: r for r in s.execute(select(T.courses).where(T.courses.c.code.in_(chunk)))})
    ids = [r.id for r in existing.values()]
    prereqs: dict[int, set[str]] = defaultdict(set)
    sess: dict[tuple[int, int], object] = {}
    for chunk in _chunks(ids):
        req = T.courses.alias("req")
        for course_id, code in s.execute(select(T.course_prerequisites.c.course_id, req.c.code)
                                         .join(req, req.c.id == T.course_prerequisites.c.required_course_id)
                                         .where(T.course_prerequisites.c.course_id.in_(chunk))):
            prereqs[course_id].add(code)
        for r in s.execute(select(T.sessions).where(T.sessions.c.course_id.in_(chunk))):
            sess[(r.course_id, r.seq_no)] = r
    for c in courses:
        row = existing.get(c.code)
        values = course_values(c)
        if row is None:
            d.courses_new.append(c)
            d.sessions_new.extend((c.code, x) for x in c.sessions)
            if c.prerequisites:
                d.prereqs_changed.append((c.code, c.prerequisites))
            continue
        changed = {k: v for k, v in values.items() if _norm(row._mapping[k]) != _norm(v)}
        if changed:
            d.courses_changed.append((row.id, c, changed))
        else:
            d.unchanged_courses += 1
        if set(c.prerequisites) != prereqs.get(row.id, set()):
            d.prereqs_changed.append((c.code, c.prerequisites))
        for x in c.sessions:
            old = sess.get((row.id, x.number))
            if old is None:
                d.sessions_new.append((c.code, x))
                continue
            sv = session_values(x)
            sdiff = {k: v for k, v in sv.items() if old._mapping[k] != v}
            if not sdiff:
                d.unchanged_sessions += 1
                continue
            if x.capacity < old.seats_taken:
                d.errors.append({"line": lines.get((c.code, x.number)), "field": "capacity",
                                 "reason_ko": f"정원: 이미 {old.seats_taken}석이 배정되어 {x.capacity}(으)로 줄일 수 없습니다.",
                                 "reason_en": f"Capacity: {old.seats_taken} seats are already taken in "
                                              f"{c.code} session {x.number}",
                                 "value": str(x.capacity)})
            d.sessions_changed.append((old.id, c.code, x, sdiff, old))
    return d


def totals(courses: Iterable[Course]) -> dict:
    out = {"courses": 0, "sessions": 0, "seats": 0, "by_delivery": {}}
    for c in courses:
        out["courses"] += 1
        out["sessions"] += len(c.sessions) or c.planned_sessions
        out["seats"] += c.planned_seats
        b = out["by_delivery"].setdefault(c.delivery.value, {"courses": 0, "seats": 0})
        b["courses"] += 1
        b["seats"] += c.planned_seats
    return out


def summary(d: PlanDiff, courses: Sequence[Course], dry_run: bool) -> dict:
    return {"dry_run": dry_run,
            "courses": {"create": len(d.courses_new), "update": len(d.courses_changed),
                        "unchanged": d.unchanged_courses,
                        "create_codes": [c.code for c in d.courses_new][:500],
                        "update_codes": [c.code for _, c, _ in d.courses_changed][:500],
                        "prerequisites_changed": [code for code, _ in d.prereqs_changed][:500]},
            "sessions": {"create": len(d.sessions_new), "update": len(d.sessions_changed),
                         "unchanged": d.unchanged_sessions,
                         "rescheduled": sum(1 for *_, sd, _o in d.sessions_changed
                                            if "starts_on" in sd or "ends_on" in sd)},
            "totals": totals(courses)}


def import_plan(uow: UnitOfWork, courses: Sequence[Course], actor: str, dry_run: bool = False,
                lines: dict | None = None) -> dict:
    """Upsert a validated plan (domain ``Course`` objects with their sessions)."""
    with uow:
        s = uow.session
        d = diff_plan(s, courses, lines)
        if d.errors:
            raise invalid("invalid_plan", "계획 파일이 현재 데이터와 맞지 않아 아무것도 저장하지 않았습니다.",
                          "The plan conflicts with the current data; nothing was saved.", {"rows": d.errors})
        result = summary(d, courses, dry_run)
        if dry_run or d.empty:
            return result
        _apply(uow, d, actor)
        uow.commit()
        return result


def _apply(uow: UnitOfWork, d: PlanDiff, actor: str) -> None:
    s = uow.session
    now = uow.now()
    if d.courses_new:
        s.execute(T.courses.insert(), [{"code": c.code, **course_values(c), "created_at": now, "updated_at": now}
                                       for c in d.courses_new])
    if d.courses_changed:
        s.execute(update(T.courses).where(T.courses.c.id == bindparam("b_id"))
                  .values({k: bindparam(k) for k in (*COURSE_COLUMNS, "updated_at")}),
                  [{"b_id": cid, **course_values(c), "updated_at": now} for cid, c, _ in d.courses_changed])
    touched_codes = ({c.code for c in d.courses_new} | {c.code for _, c, _ in d.courses_changed}
                     | {code for code, _ in d.prereqs_changed} | {code for code, _ in d.sessions_new}
                     | {code for _, code, *_ in d.sessions_changed})
    needed = touched_codes | {p for _, reqs in d.prereqs_changed for p in reqs}
    ids: dict[str, int] = {}
    for chunk in _chunks(sorted(needed)):
        ids.update(dict(s.execute(select(T.courses.c.code, T.courses.c.id).where(T.courses.c.code.in_(chunk))).all()))
    if d.prereqs_changed:
        changed_ids = [ids[code] for code, _ in d.prereqs_changed]
        for chunk in _chunks(changed_ids):
            s.execute(delete(T.course_prerequisites).where(T.course_prerequisites.c.course_id.in_(chunk)))
        links = [{"course_id": ids[code], "required_course_id": ids[r]} for code, reqs in d.prereqs_changed for r in reqs]
        if links:
            s.execute(T.course_prerequisites.insert(), links)
    if d.sessions_new:
        s.execute(T.sessions.insert(), [{"course_id": ids[code], "seq_no": x.number, **session_values(x),
                                         "seats_taken": 0, "status": "scheduled", "created_at": now,
                                         "updated_at": now} for code, x in d.sessions_new])
    if d.sessions_changed:
        s.execute(update(T.sessions).where(T.sessions.c.id == bindparam("b_id"))
                  .values({k: bindparam(k) for k in (*SESSION_COLUMNS, "updated_at")}),
                  [{"b_id": sid, **session_values(x), "updated_at": now} for sid, _, x, _, _ in d.sessions_changed])
        resched = [(sid, x) for sid, _, x, sd, _ in d.sessions_changed if "starts_on" in sd]
        if resched:
            from services.enrollment.domain import rules
            days = int(uow.settings["PREREQUISITE_DAYS_BEFORE"])
            for sid, x in resched:
                s.execute(update(T.enrollments).where(T.enrollments.c.session_id == sid,
                                                      T.enrollments.c.status == "pending_prerequisite")
                          .values(prerequisite_deadline=rules.prerequisite_deadline(x.start, days).astimezone(dt.timezone.utc)))

    # events: re-read what changed so payloads carry database ids
    course_ids = [ids[c] for c in sorted({c.code for c in d.courses_new} | {c.code for _, c, _ in d.courses_changed}
                                         | {code for code, _ in d.prereqs_changed})]
    new_codes = {c.code for c in d.courses_new}
    links: dict[int, list[int]] = defaultdict(list)
    for chunk in _chunks(course_ids):
        for cid, rid in s.execute(select(T.course_prerequisites.c.course_id, T.course_prerequisites.c.required_course_id)
                                  .where(T.course_prerequisites.c.course_id.in_(chunk))):
            links[cid].append(rid)
    years: dict[int, int] = {}
    for chunk in _chunks(course_ids):
        for row in s.execute(select(T.courses).where(T.courses.c.id.in_(chunk)).order_by(T.courses.c.code)):
            kind = "created" if row.code in new_codes else "updated"
            uow.emit(f"hrd.enrollment.course.{kind}.v1", payloads.course_snapshot(row, sorted(links[row.id])))
            years[row.id] = row.year
    new_keys = {(ids[code], x.number) for code, x in d.sessions_new}
    changed = {sid: (old, sd) for sid, _, _, sd, old in d.sessions_changed}
    sess_course_ids = sorted({cid for cid, _ in new_keys} | {old.course_id for old, _ in changed.values()})
    course_year = dict(s.execute(select(T.courses.c.id, T.courses.c.year)
                                 .where(T.courses.c.id.in_(sess_course_ids))).all()) if sess_course_ids else {}
    for chunk in _chunks(sess_course_ids):
        for row in s.execute(select(T.sessions).where(T.sessions.c.course_id.in_(chunk))
                             .order_by(T.sessions.c.course_id, T.sessions.c.seq_no)):
            year = course_year[row.course_id]
            if (row.course_id, row.seq_no) in new_keys:
                uow.emit("hrd.enrollment.session.created.v1", payloads.session_snapshot(row, year))
            elif row.id in changed:
                old, sd = changed[row.id]
                if "starts_on" in sd or "ends_on" in sd:
                    uow.emit("hrd.enrollment.session.rescheduled.v1",
                             payloads.session_snapshot(row, year, (old.starts_on, old.ends_on)))
                else:
                    uow.emit("hrd.enrollment.session.updated.v1", payloads.session_snapshot(row, year))
                if row.capacity > old.capacity:
                    E.promote_waitlist(uow, row.id, actor="system:waitlist")
    for year in sorted(set(years.values()) | set(course_year.values())):
        t = year_totals(s, year)
        uow.emit("hrd.enrollment.plan.imported.v1", {"year": year, "courses": t["courses"], "sessions": t["sessions"],
                                                     "seats": t["seats"]})


def year_totals(s, year: int) -> dict:
    c, ss = T.courses, T.sessions
    n_sessions = (select(func.count()).select_from(ss).where(ss.c.course_id == c.c.id, ss.c.status != "cancelled")
                  .scalar_subquery())
    rows = s.execute(select(c.c.delivery, c.c.competency_area, c.c.status, func.count(), func.sum(c.c.planned_seats),
                            func.sum(n_sessions)).where(c.c.year == year)
                     .group_by(c.c.delivery, c.c.competency_area, c.c.status)).all()
    out = {"year": year, "courses": 0, "sessions": 0, "seats": 0, "by_delivery": {}, "by_area": {}, "by_status": {}}
    for delivery, area, status, n, seats, sessions in rows:
        seats, sessions = int(seats or 0), int(sessions or 0)
        out["courses"] += n
        out["seats"] += seats
        out["sessions"] += sessions
        for key, value in (("by_delivery", delivery), ("by_area", area), ("by_status", status)):
            b = out[key].setdefault(value, {"courses": 0, "sessions": 0, "seats": 0})
            b["courses"] += n
            b["seats"] += seats
            b["sessions"] += sessions
    return out


def list_years(s) -> list[dict]:
    years = s.execute(select(T.courses.c.year).distinct().order_by(T.courses.c.year.desc())).scalars().all()
    return [year_totals(s, y) for y in years]


def plan_courses(s, year: int) -> list[Course]:
    """The year's plan as domain objects (what the exporter writes)."""
    courses = s.execute(select(T.courses).where(T.courses.c.year == year).order_by(T.courses.c.code)).all()
    ids = [c.id for c in courses]
    sessions: dict[int, list] = defaultdict(list)
    prereqs: dict[int, list[str]] = defaultdict(list)
    req = T.courses.alias("req")
    for chunk in _chunks(ids):
        for r in s.execute(select(T.sessions).where(T.sessions.c.course_id.in_(chunk), T.sessions.c.status != "cancelled")
                           .order_by(T.sessions.c.seq_no)):
            sessions[r.course_id].append(r)
        for cid, code in s.execute(select(T.course_prerequisites.c.course_id, req.c.code)
                                   .join(req, req.c.id == T.course_prerequisites.c.required_course_id)
                                   .where(T.course_prerequisites.c.course_id.in_(chunk))):
            prereqs[cid].append(code)
    return [domain_course(c, prereqs[c.id], [domain_session(c.code, x) for x in sessions[c.id]]) for c in courses]

