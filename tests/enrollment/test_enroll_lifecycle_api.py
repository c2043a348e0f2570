"""Enrollment rules through the HTTP API: eligibility, schedule conflicts, windows, lifecycle with history,
attendance, surveys, session reschedule/cancel, promotion that skips a trainee with a conflict."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from services.enrollment.adapters import orm
from tests.conftest import trainee_headers
from tests.e2e.helpers import make_course, make_session, make_trainee

pytestmark = pytest.mark.integration


def _enroll(c, headers, trainee_id, session_id, **extra):
    return c.post("/api/v1/enrollments", json={"trainee_id": trainee_id, "session_id": session_id, **extra},
                  headers=headers)


def _events(app, prefix="hrd.enrollment.enrollment."):
    with app.extensions["db"].engine.connect() as conn:
        return [(r.event_type, r.payload) for r in conn.execute(
            select(orm.outbox).where(orm.outbox.c.event_type.startswith(prefix)).order_by(orm.outbox.c.seq))]


def test_eligibility_conflict_and_window_refusals(clean, admin_headers):
    app = clean["enrollment"]
    c = app.test_client()
    course = make_course(c, admin_headers, code="C-LEAD", target_grades=["5급"], competency_area="leadership")
    s1 = make_session(c, admin_headers, course["id"], starts_on="2019-03-11", ends_on="2019-03-13")
    other = make_course(c, admin_headers, code="C-OTHER")
    s2 = make_session(c, admin_headers, other["id"], starts_on="2019-03-13", ends_on="2019-03-14")
    closed = make_session(c, admin_headers, other["id"], starts_on="2019-05-01", ends_on="2019-05-02",
                          enroll_opens_on="2019-04-01", enroll_closes_on="2019-04-20")
    seventh = make_trainee(c, admin_headers, 1, grade="7급")
    fifth = make_trainee(c, admin_headers, 2, grade="5급")

    r = _enroll(c, admin_headers, seventh["id"], s1["id"])
    assert r.status_code == 422
    body = r.get_json()
    assert body["code"] == "eligibility_grade" and "5급" in body["message"] and "7급" in body["message"]
    assert "trainee_id" in body["errors"]
    assert _enroll(c, admin_headers, seventh["id"], s1["id"], ).get_json()["message_en"].startswith("'")

    assert _enroll(c, admin_headers, fifth["id"], s1["id"]).status_code == 201
    r = _enroll(c, admin_headers, fifth["id"], s1["id"])
    assert r.status_code == 409 and r.get_json()["code"] == "already_enrolled"
    r = c.post("/api/v1/enrollments?lang=en", json={"trainee_id": fifth["id"], "session_id": s2["id"]},
               headers=admin_headers)
    assert r.status_code == 409 and r.get_json()["code"] == "schedule_conflict"
    assert "2019-03-11" in r.get_json()["message"] and "overlaps" in r.get_json()["message"]
    after = c.get(f"/api/v1/sessions/{s2['id']}", headers=admin_headers).get_json()
    # the refused request's seat (taken with the calendar read on PostgreSQL) was rolled back, dates untouched
    assert (after["seats_taken"], after["starts_on"], after["ends_on"]) == (0, "2019-03-13", "2019-03-14")

    # the window of a past session is closed (the clock is 'now'); staff may override, a trainee may not
    r = _enroll(c, trainee_headers(seventh["id"]), seventh["id"], closed["id"])
    assert r.status_code == 409 and r.get_json()["code"] == "enrollment_closed"
    r = _enroll(c, trainee_headers(seventh["id"]), seventh["id"], closed["id"], override_window=True)
    assert r.status_code == 403
    r = _enroll(c, admin_headers, seventh["id"], closed["id"], override_window=True)
    assert r.status_code == 201 and r.get_json()["status"] == "confirmed"
    h = c.get(f"/api/v1/enrollments/{r.get_json()['id']}/history", headers=admin_headers).get_json()["items"]
    assert "window overridden" in h[0]["reason"]
    with app.extensions["db"].engine.connect() as conn:  # nothing half-written by the refusals
        assert conn.execute(select(orm.enrollments.c.id)).all().__len__() == 2


def test_lifecycle_attendance_survey_and_history(clean, admin_headers):
    app = clean["enrollment"]
    c = app.test_client()
    course = make_course(c, admin_headers)
    session = make_session(c, admin_headers, course["id"], capacity=5)
    trainees = [make_trainee(c, admin_headers, n) for n in range(1, 5)]
    ids = [_enroll(c, admin_headers, t["id"], session["id"]).get_json()["id"] for t in trainees]

    r = c.post(f"/api/v1/enrollments/{ids[0]}/survey", json={"score": 90}, headers=trainee_headers(trainees[0]["id"]))
    assert r.status_code == 409 and r.get_json()["code"] == "not_attended"

    r = c.post(f"/api/v1/enrollments/{ids[0]}/attendance", json={"outcome": "completed"}, headers=admin_headers)
    assert r.status_code == 200 and r.get_json()["status"] == "completed" and r.get_json()["version"] == 3
    r = c.post(f"/api/v1/enrollments/{ids[0]}/attendance", json={"outcome": "no_show"}, headers=admin_headers)
    assert r.status_code == 409 and r.get_json()["code"] == "illegal_transition"
    r = c.post(f"/api/v1/enrollments/{ids[0]}/attendance", json={"outcome": "attended"},
               headers=trainee_headers(trainees[0]["id"]))
    assert r.status_code == 403

    # batch: one bad record (unknown trainee) → nothing saved, the record is named
    bad = c.post(f"/api/v1/sessions/{session['id']}/attendance", headers=admin_headers, json={"records": [
        {"enrollment_id": ids[1], "outcome": "attended"}, {"trainee_id": 999999, "outcome": "no_show"}]})
    assert bad.status_code == 422 and list(bad.get_json()["errors"]["records"]) == ["1"]
    assert c.get(f"/api/v1/enrollments/{ids[1]}", headers=admin_headers).get_json()["status"] == "confirmed"
    ok = c.post(f"/api/v1/sessions/{session['id']}/attendance", headers=admin_headers, json={"records": [
        {"enrollment_id": ids[1], "outcome": "attended"}, {"trainee_id": trainees[2]["id"], "outcome": "no_show"},
        {"enrollment_id": ids[3], "outcome": "failed", "reason": "평가 미달"}]})
    assert ok.status_code == 200, ok.get_json()
    assert [e["status"] for e in ok.get_json()["items"]] == ["attended", "no_show", "failed"]

    r = c.post(f"/api/v1/enrollments/{ids[0]}/survey", json={"score": 92.5, "comment": "유익했습니다"},
               headers=trainee_headers(trainees[0]["id"]))
    assert r.status_code == 201, r.get_json()
    assert c.post(f"/api/v1/enrollments/{ids[0]}/survey", json={"score": 10},
                  headers=trainee_headers(trainees[0]["id"])).status_code == 409
    assert c.post(f"/api/v1/enrollments/{ids[1]}/survey", json={"score": 101},
                  headers=admin_headers).status_code == 422
    assert c.post(f"/api/v1/enrollments/{ids[1]}/survey", json={"score": 80},
                  headers=trainee_headers(trainees[0]["id"])).status_code == 403

    hist = c.get(f"/api/v1/enrollments/{ids[0]}/history", headers=admin_headers).get_json()["items"]
    assert [(h["from_status"], h["to_status"]) for h in hist] == [
        (None, "requested"), ("requested", "confirmed"), ("confirmed", "attended"), ("attended", "completed")]
    assert all(h["actor"] == "admin:admin" for h in hist)

    events = _events(app)
    mine = [(t.split(".")[3], p["version"]) for t, p in events if p["enrollment_id"] == ids[0]]
    assert mine == [("created", 1), ("attended", 2), ("completed", 3)]
    assert ("hrd.enrollment.survey.submitted.v1" in {t for t, _ in _events(app, "hrd.enrollment.survey")})
    # a classroom completion is a completion record too
    comp = c.get(f"/api/v1/completions?trainee_id={trainees[0]['id']}", headers=admin_headers).get_json()
    assert comp["total"] == 1 and comp["items"][0]["course_id"] == course["id"]


def test_promotion_skips_trainee_with_a_new_conflict_and_session_changes(clean, admin_headers):
    app = clean["enrollment"]
    c = app.test_client()
    course = make_course(c, admin_headers)
    full = make_session(c, admin_headers, course["id"], capacity=1, starts_on="2019-06-03", ends_on="2019-06-05")
    other_course = make_course(c, admin_headers, code="C-OTHER2")
    clash = make_session(c, admin_headers, other_course["id"], capacity=5, starts_on="2019-06-05",
                         ends_on="2019-06-06")
    a, b, d = (make_trainee(c, admin_headers, n) for n in (1, 2, 3))
    ea = _enroll(c, admin_headers, a["id"], full["id"]).get_json()
    eb = _enroll(c, admin_headers, b["id"], full["id"]).get_json()
    ed = _enroll(c, admin_headers, d["id"], full["id"]).get_json()
    assert (ea["status"], eb["status"], ed["status"]) == ("confirmed", "waitlisted", "waitlisted")
    # b, while waiting, takes an overlapping session elsewhere: waitlisted entries do not block the calendar
    assert _enroll(c, admin_headers, b["id"], clash["id"]).get_json()["status"] == "confirmed"

    c.post(f"/api/v1/enrollments/{ea['id']}/cancel", json={"reason": "개인 사정"}, headers=admin_headers)
    get = lambda e: c.get(f"/api/v1/enrollments/{e['id']}", headers=admin_headers).get_json()  # noqa: E731
    assert get(eb)["status"] == "waitlisted"   # skipped: conflict
    assert get(ed)["status"] == "confirmed"    # next in line
    promoted = [p for t, p in _events(app) if t.endswith(".promoted.v1")]
    assert [(p["enrollment_id"], p["status"], p["version"]) for p in promoted] == [(ed["id"], "confirmed", 2)]

    # a bigger capacity promotes at once; below the seats taken is refused
    r = c.patch(f"/api/v1/sessions/{full['id']}", json={"capacity": 2}, headers=admin_headers)
    assert r.status_code == 200 and r.get_json()["seats_taken"] == 1  # b still clashes
    r = c.patch(f"/api/v1/sessions/{full['id']}", json={"capacity": 0}, headers=admin_headers)
    assert r.status_code == 422
    r = c.patch(f"/api/v1/sessions/{clash['id']}", json={"starts_on": "2019-07-01", "ends_on": "2019-07-02",
                                                          "capacity": 0}, headers=admin_headers)
    assert r.status_code == 422
    r = c.patch(f"/api/v1/sessions/{clash['id']}", json={"starts_on": "2019-07-01", "ends_on": "2019-07-02"},
                headers=admin_headers)
    assert r.status_code == 200 and r.get_json()["starts_on"] == "2019-07-01"
    resched = [p for t, p in _events(app, "hrd.enrollment.session.rescheduled")]
    assert resched[-1]["previous_starts_on"] == "2019-06-05" and resched[-1]["starts_on"] == "2019-07-01"

    r = c.post(f"/api/v1/sessions/{full['id']}/cancel", json={"reason": "강사 사정"}, headers=admin_headers)
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    assert r.get_json()["cancelled_enrollments"] == 2
    assert get(eb)["status"] == "cancelled" and get(ed)["status"] == "cancelled"
    assert _events(app, "hrd.enrollment.session.cancelled")
    with app.extensions["db"].engine.connect() as conn:
        reasons = conn.execute(select(orm.enrollment_history.c.reason).where(
            orm.enrollment_history.c.enrollment_id == eb["id"]).order_by(orm.enrollment_history.c.id)).scalars().all()
    assert reasons[-1].startswith("session_cancelled")
    assert _enroll(c, admin_headers, a["id"], full["id"]).get_json()["code"] == "session_cancelled"


def test_lists_filter_and_paginate(clean, admin_headers):
    c = clean["enrollment"].test_client()
    course = make_course(c, admin_headers)
    session = make_session(c, admin_headers, course["id"], capacity=2)
    ts = [make_trainee(c, admin_headers, n, job_series="토목" if n % 2 else "행정") for n in range(1, 6)]
    for t in ts:
        _enroll(c, admin_headers, t["id"], session["id"])
    page = c.get("/api/v1/enrollments?status=waitlisted&per_page=2&page=2", headers=admin_headers).get_json()
    assert page["total"] == 3 and page["page"] == 2 and len(page["items"]) == 1
    assert c.get("/api/v1/trainees?job_series=토목", headers=admin_headers).get_json()["total"] == 3
    assert c.get("/api/v1/enrollments?year=2019", headers=admin_headers).get_json()["total"] == 5
    assert c.get("/api/v1/enrollments?year=2020", headers=admin_headers).get_json()["total"] == 0
    mine = c.get("/api/v1/enrollments", headers=trainee_headers(ts[0]["id"])).get_json()
    assert mine["total"] == 1
    assert c.get("/api/v1/enrollments?status=bogus", headers=admin_headers).status_code == 422
    spec = c.get("/openapi.json").get_json()
    for path in ("/api/v1/plans/import", "/api/v1/plans/{year}/export", "/api/v1/completions",
                 "/api/v1/enrollments/{enrollment_id}/history", "/api/v1/sessions/{session_id}/cancel",
                 "/api/v1/trainees/import", "/api/v1/completions/import"):
        assert path in spec["paths"], path
    assert dt.date.today()  # keep the import used
