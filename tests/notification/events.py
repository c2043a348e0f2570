"""Envelopes built to the catalogue's schemas, for driving the notification service in tests/benches."""
from __future__ import annotations

import datetime as dt
import uuid

from shared.events import make_envelope

SOURCE = "enrollment"


def trainee(tid: int, **over) -> dict:
    return {"id": tid, "employee_no": f"E{tid:06d}", "name": f"김서울{tid}", "email": f"t{tid}@seoul.example",
            "mobile": "010-1234-5678", "preferred_language": "ko", **over}


def course(cid: int = 1, **over) -> dict:
    return {"id": cid, "code": f"C19-{cid:03d}", "year": 2019, "name_ko": "빅데이터 분석 실무",
            "name_en": "Big Data Analysis", "delivery": "classroom", "competency_area": "it", **over}


def session(sid: int = 1, starts_on: dt.date | str = "2019-03-11", ends_on: dt.date | str | None = None,
            **over) -> dict:
    starts = dt.date.fromisoformat(starts_on) if isinstance(starts_on, str) else starts_on
    ends = ends_on or (starts + dt.timedelta(days=1))
    ends = dt.date.fromisoformat(ends) if isinstance(ends, str) else ends
    return {"id": sid, "starts_on": starts.isoformat(), "ends_on": ends.isoformat(), "venue": "인재개발원 다산홀",
            "seq_no": 1, **over}


def enrollment(event: str, eid: int, version: int, status: str, *, tid: int | None = None, cid: int = 1,
               sess: dict | None = None, trainee_over: dict | None = None, **extra) -> dict:
    payload = {"enrollment_id": eid, "version": version, "status": status, "trainee": trainee(tid or eid, **(trainee_over or {})),
               "course": course(cid), "session": sess or session(), **extra}
    return make_envelope(f"hrd.enrollment.enrollment.{event}.v1", SOURCE, payload,
                         correlation_id=uuid.uuid4().hex).to_dict()


def session_event(event: str, sid: int, starts_on: dt.date, ends_on: dt.date | None = None, *, cid: int = 1,
                  status: str = "scheduled", previous: tuple[dt.date, dt.date] | None = None,
                  occurred_at: dt.datetime | None = None) -> dict:
    s = session(sid, starts_on, ends_on)
    payload = {**s, "course_id": cid, "year": 2019, "capacity": 30, "status": status}
    if previous:
        payload["previous_starts_on"], payload["previous_ends_on"] = previous[0].isoformat(), previous[1].isoformat()
    env = make_envelope(f"hrd.enrollment.session.{event}.v1", SOURCE, payload).to_dict()
    if occurred_at:
        env["occurred_at"] = occurred_at.isoformat()
    return env


def completion(tid: int, cid: int) -> dict:
    return make_envelope("hrd.enrollment.completion.recorded.v1", SOURCE, {
        "trainee_id": tid, "course_id": cid, "completed_at": dt.datetime.now(dt.timezone.utc).isoformat()}).to_dict()


def course_event(cid: int, offsets: list[int] | None, event: str = "created") -> dict:
    return make_envelope(f"hrd.enrollment.course.{event}.v1", SOURCE, {
        **course(cid), "planned_seats": 30, "reminder_offsets_days": offsets}).to_dict()
