"""Event payloads built from rows: the state consumers need, so they never read our database."""
from __future__ import annotations

import datetime as dt


def _iso(value):
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.isoformat()
    return value.isoformat()


def course_ref(c) -> dict:
    return {"id": c.id, "code": c.code, "year": c.year, "name_ko": c.name_ko, "name_en": c.name_en,
            "delivery": c.delivery, "competency_area": c.competency_area, "status": c.status}


def course_snapshot(c, prerequisite_ids=()) -> dict:
    return {**course_ref(c), "planned_sessions": c.planned_sessions, "planned_seats": c.planned_seats,
            "duration_days": c.duration_days, "duration_hours": c.duration_hours,
            "prerequisite_course_ids": list(prerequisite_ids),
            "reminder_offsets_days": c.reminder_offsets_days}


def session_ref(s) -> dict:
    return {"id": s.id, "starts_on": _iso(s.starts_on), "ends_on": _iso(s.ends_on), "venue": s.venue,
            "seq_no": s.seq_no}


def session_snapshot(s, year: int, previous: tuple | None = None) -> dict:
    out = {**session_ref(s), "course_id": s.course_id, "year": year, "capacity": s.capacity,
           "status": s.status}
    if previous:
        out["previous_starts_on"], out["previous_ends_on"] = _iso(previous[0]), _iso(previous[1])
    return out


def trainee_ref(t) -> dict:
    return {"id": t.id, "employee_no": t.employee_no, "name": t.name, "organisation_type": t.organisation_type,
            "organisation": t.organisation, "grade": t.grade, "job_series": t.job_series, "email": t.email,
            "mobile": t.mobile, "preferred_language": t.preferred_language or "ko"}


def trainee_snapshot(t) -> dict:
    return {**trainee_ref(t), "department": t.department, "appointed_on": _iso(t.appointed_on),
            "accessibility_needs": t.accessibility_needs}


def enrollment_event(e, trainee, course, session, previous_status, actor, reason=None,
                     missing_prerequisites=()) -> dict:
    return {"enrollment_id": e.id, "version": e.version, "status": e.status,
            "previous_status": previous_status, "reason": reason, "actor": actor,
            "requested_at": _iso(e.requested_at), "prerequisite_deadline": _iso(e.prerequisite_deadline),
            "missing_prerequisites": [course_ref(c) for c in missing_prerequisites],
            "trainee": trainee_ref(trainee), "course": course_ref(course), "session": session_ref(session)}
