"""Flipped learning end to end with real workers: the asynchronous prerequisite check, the automatic
e-learning enrollment, completions early and late, the deadline sweep releasing the seat to the waitlist
(the promoted trainee lacks the prerequisite too), and the reporting read model following every step."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from services.enrollment.adapters import orm as eorm
from services.reporting.adapters import orm as rorm
from tests.conftest import _truncate, wait_for
from tests.e2e.helpers import make_course, make_session, make_trainee, queues_drained

pytestmark = pytest.mark.integration
SEOUL = ZoneInfo("Asia/Seoul")


def _status(c, headers, enrollment_id):
    return c.get(f"/api/v1/enrollments/{enrollment_id}", headers=headers).get_json()["status"]


def _enroll(c, headers, trainee, session):
    r = c.post("/api/v1/enrollments", json={"trainee_id": trainee["id"], "session_id": session["id"]}, headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _rm_status(app, enrollment_id):
    with app.extensions["db"].engine.connect() as conn:
        return conn.execute(select(rorm.rm_enrollments.c.status).where(
            rorm.rm_enrollments.c.enrollment_id == enrollment_id)).scalar()


def test_prerequisite_flow_early_late_and_missed(workers, admin_headers, redis_url):
    apps = workers
    # Events of earlier tests still in flight would land in the read model after the truncation (and ids
    # restart): let the session workers drain them, then start from empty tables.
    wait_for(lambda: queues_drained(redis_url), timeout=120, interval=0.2, message="earlier events consumed")
    for each in apps.values():
        _truncate(each)
    app = apps["enrollment"]
    c = app.test_client()
    today = dt.datetime.now(SEOUL).date()
    elearn = make_course(c, admin_headers, code="E-BIGDATA", name_ko="e-빅데이터의 이해", delivery="elearning",
                         competency_area="it")
    cohort = make_session(c, admin_headers, elearn["id"], capacity=100, venue="사이버교육센터(온라인)",
                          starts_on=str(today - dt.timedelta(days=5)), ends_on=str(today + dt.timedelta(days=25)))
    course = make_course(c, admin_headers, code="C-BIGDATA", prerequisite_codes=["E-BIGDATA"])
    start = today + dt.timedelta(days=30)
    session = make_session(c, admin_headers, course["id"], capacity=3, starts_on=str(start),
                           ends_on=str(start + dt.timedelta(days=2)))
    soon = make_session(c, admin_headers, course["id"], capacity=3, starts_on=str(today + dt.timedelta(days=1)),
                        ends_on=str(today + dt.timedelta(days=1)))
    a, b, late, d, e = (make_trainee(c, admin_headers, n) for n in range(1, 6))

    # A: no completion → requested now, pending_prerequisite once the task ran, enrolled in the e-learning
    ea = _enroll(c, admin_headers, a, session)
    assert ea["status"] == "requested" and ea["holds_seat"]
    wait_for(lambda: _status(c, admin_headers, ea["id"]) == "pending_prerequisite", message="A pending")
    got = c.get(f"/api/v1/enrollments/{ea['id']}", headers=admin_headers).get_json()
    deadline = dt.datetime.fromisoformat(got["prerequisite_deadline"])
    if deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=dt.timezone.utc)
    assert deadline.astimezone(SEOUL) == dt.datetime.combine(start - dt.timedelta(days=3), dt.time(23, 59, 59),
                                                             tzinfo=SEOUL)
    el = c.get(f"/api/v1/enrollments?trainee_id={a['id']}&course_id={elearn['id']}", headers=admin_headers).get_json()
    assert el["total"] == 1 and el["items"][0]["status"] == "confirmed"
    assert el["items"][0]["session_id"] == cohort["id"] and el["items"][0]["for_enrollment_id"] == ea["id"]
    with app.extensions["db"].engine.connect() as conn:
        pending = conn.execute(select(eorm.outbox.c.payload).where(
            eorm.outbox.c.event_type == "hrd.enrollment.enrollment.pending_prerequisite.v1")).scalars().all()
    assert pending[0]["version"] == 2 and [m["code"] for m in pending[0]["missing_prerequisites"]] == ["E-BIGDATA"]
    assert pending[0]["prerequisite_deadline"]

    # B completed the e-learning before enrolling → confirmed directly
    r = c.post("/api/v1/completions", json={"employee_no": b["employee_no"], "course_code": "E-BIGDATA",
                                            "completed_at": "2019-01-20T10:00:00+09:00"}, headers=admin_headers)
    assert r.get_json() == {"received": 1, "recorded": 1, "already_recorded": 0}
    assert _enroll(c, admin_headers, b, session)["status"] == "confirmed"

    # A completes (batch with an unknown row first: nothing is written), then for real → confirmed at once
    bad = c.post("/api/v1/completions", json=[{"trainee_id": a["id"], "course_id": elearn["id"]},
                                              {"employee_no": "NOPE", "course_code": "E-BIGDATA"}], headers=admin_headers)
    assert bad.status_code == 422 and "employee_no" in bad.get_json()["errors"]["items"]["1"]
    assert _status(c, admin_headers, ea["id"]) == "pending_prerequisite"
    r = c.post("/api/v1/completions", json=[{"trainee_id": a["id"], "course_id": elearn["id"]}], headers=admin_headers)
    assert r.status_code == 200 and r.get_json()["recorded"] == 1
    assert _status(c, admin_headers, ea["id"]) == "confirmed"
    assert _status(c, admin_headers, el["items"][0]["id"]) == "completed"
    assert c.post("/api/v1/completions", json={"trainee_id": a["id"], "course_id": elearn["id"]},
                  headers=admin_headers).get_json()["already_recorded"] == 1

    # LATE takes the last seat and waits; D finds the session full
    el_ = _enroll(c, admin_headers, late, session)
    wait_for(lambda: _status(c, admin_headers, el_["id"]) == "pending_prerequisite", message="LATE pending")
    ed = _enroll(c, admin_headers, d, session)
    assert ed["status"] == "waitlisted"

    # time passes: LATE's deadline is missed → the beat task cancels it and D is promoted (D also lacks the
    # prerequisite, so it holds the seat as pending_prerequisite with its own e-learning enrollment)
    with app.extensions["db"].engine.begin() as conn:
        conn.execute(update(eorm.enrollments).where(eorm.enrollments.c.id == el_["id"]).values(
            prerequisite_deadline=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
    app.extensions["celery"].send_task("enrollment.prerequisite_sweep")
    wait_for(lambda: _status(c, admin_headers, el_["id"]) == "cancelled", message="LATE cancelled")
    hist = c.get(f"/api/v1/enrollments/{el_['id']}/history", headers=admin_headers).get_json()["items"]
    assert hist[-1]["reason"] == "prerequisite_deadline_missed" and hist[-1]["actor"].startswith("system:")
    assert _status(c, admin_headers, ed["id"]) == "pending_prerequisite"
    with app.extensions["db"].engine.connect() as conn:
        promoted = conn.execute(select(eorm.outbox.c.payload).where(
            eorm.outbox.c.event_type == "hrd.enrollment.enrollment.promoted.v1")).scalars().all()
        seats = conn.execute(select(eorm.sessions.c.seats_taken).where(eorm.sessions.c.id == session["id"])).scalar()
    assert [(p["enrollment_id"], p["status"], p["version"]) for p in promoted] == [(ed["id"], "pending_prerequisite", 2)]
    assert seats == 3

    # a late completion does not revive a cancelled enrollment
    c.post("/api/v1/completions", json={"trainee_id": late["id"], "course_id": elearn["id"]}, headers=admin_headers)
    assert _status(c, admin_headers, el_["id"]) == "cancelled"

    # a session too close to start: the deadline has already passed → cancelled by the task, seat released
    ee = _enroll(c, admin_headers, e, soon)
    wait_for(lambda: _status(c, admin_headers, ee["id"]) == "cancelled", message="too late cancelled")
    assert c.get(f"/api/v1/sessions/{soon['id']}", headers=admin_headers).get_json()["seats_taken"] == 0

    # the reporting read model followed every transition
    wait_for(lambda: (_rm_status(apps["reporting"], ea["id"]), _rm_status(apps["reporting"], el_["id"]),
                      _rm_status(apps["reporting"], ed["id"]), _rm_status(apps["reporting"], ee["id"]))
             == ("confirmed", "cancelled", "pending_prerequisite", "cancelled"), timeout=60,
             message="read model statuses")
