"""Enrollment-service events for reporting tests and benchmarks, shaped by the catalogue's schemas.

``demo_plan_events`` turns the enrollment service's 2019 demo plan (the same one ``load-demo-plan`` loads)
into the course/session snapshot events the loader emits, so the reporting side can be checked against
239 / 198,999 without reading another service's database.
"""
from __future__ import annotations

import datetime as dt
import uuid
from functools import lru_cache

from shared.events import make_envelope

ORG_TYPES = ("city_hq", "district", "invested_institution", "other_city")
GRADES = ("5급", "6급", "7급", "8급", "9급")
JOB_SERIES = ("행정", "기술", "전산", "사회복지", "세무")


def envelope(event_type: str, payload: dict, occurred_at: dt.datetime | None = None, validate: bool = True) -> dict:
    env = make_envelope(event_type, "enrollment", payload, correlation_id=uuid.uuid4().hex, validate=validate).to_dict()
    if occurred_at is not None:
        env["occurred_at"] = occurred_at.isoformat()
    return env


@lru_cache(maxsize=1)
def demo_plan():
    from services.enrollment.adapters.seed_csv import load_demo_plan  # test/bench side only
    return load_demo_plan()


def demo_plan_catalogue(first_course_id: int = 1, first_session_id: int = 1) -> tuple[list[dict], list[dict]]:
    """(course snapshot payloads, session snapshot payloads) of the 2019 demo plan, with ids assigned."""
    courses, sessions = [], []
    sid = first_session_id
    for i, c in enumerate(demo_plan().courses):
        cid = first_course_id + i
        courses.append({"id": cid, "code": c.code, "year": c.year, "name_ko": c.name_ko, "name_en": c.name_en,
                        "delivery": c.delivery.value, "competency_area": c.area.value, "status": c.status.value,
                        "planned_sessions": c.planned_sessions, "planned_seats": c.planned_seats,
                        "duration_days": c.duration_days, "duration_hours": c.duration_hours,
                        "prerequisite_course_ids": [], "reminder_offsets_days": None})
        for s in c.sessions:
            sessions.append({"id": sid, "course_id": cid, "year": c.year, "seq_no": s.number,
                             "starts_on": s.start.isoformat(), "ends_on": s.end.isoformat(), "capacity": s.capacity,
                             "venue": s.venue or None, "status": "scheduled"})
            sid += 1
    return courses, sessions


def demo_plan_events() -> list[dict]:
    courses, sessions = demo_plan_catalogue()
    return ([envelope("hrd.enrollment.course.created.v1", c) for c in courses]
            + [envelope("hrd.enrollment.session.created.v1", s) for s in sessions])


def course_ref(course: dict) -> dict:
    return {k: course[k] for k in ("id", "code", "year", "name_ko", "name_en", "delivery", "competency_area", "status")}


def trainee_ref(tid: int, organisation_type: str | None = None, grade: str | None = None,
                job_series: str | None = None) -> dict:
    return {"id": tid, "employee_no": f"E{tid:07d}", "name": f"교육생{tid}",
            "organisation_type": organisation_type or ORG_TYPES[tid % len(ORG_TYPES)],
            "organisation": None, "grade": grade or GRADES[tid % len(GRADES)],
            "job_series": job_series or JOB_SERIES[tid % len(JOB_SERIES)], "email": None, "mobile": None,
            "preferred_language": "ko"}


def enrollment_payload(eid: int, version: int, status: str, course: dict, session: dict, trainee: dict,
                       previous_status: str | None = None) -> dict:
    return {"enrollment_id": eid, "version": version, "status": status, "previous_status": previous_status,
            "reason": None, "actor": "test", "requested_at": None, "prerequisite_deadline": None,
            "missing_prerequisites": [], "trainee": trainee, "course": course_ref(course),
            "session": {"id": session["id"], "starts_on": session["starts_on"], "ends_on": session["ends_on"],
                        "venue": session.get("venue"), "seq_no": session.get("seq_no")}}


def enrollment_events(eid: int, statuses: list[str], course: dict, session: dict, trainee: dict,
                      validate: bool = True) -> list[dict]:
    """The events of one enrollment going through ``statuses`` (versions 1..n, in order)."""
    out, previous = [], None
    for version, status in enumerate(statuses, start=1):
        kind = "created" if version == 1 else status
        out.append(envelope(f"hrd.enrollment.enrollment.{kind}.v1",
                            enrollment_payload(eid, version, status, course, session, trainee, previous),
                            validate=validate))
        previous = status
    return out


def survey_event(eid: int, tid: int, course: dict, session: dict, score: float,
                 occurred_at: dt.datetime | None = None) -> dict:
    return envelope("hrd.enrollment.survey.submitted.v1", {
        "enrollment_id": eid, "trainee_id": tid, "course_id": course["id"], "session_id": session["id"],
        "year": course["year"], "score": score}, occurred_at=occurred_at)
