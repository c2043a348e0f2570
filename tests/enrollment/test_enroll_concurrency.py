"""200 concurrent requests race for the last 10 seats through the Flask app: never overbooked, FIFO waitlist,
no errors (run against PostgreSQL with TEST_DATABASE_URL, SQLite otherwise)."""
from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from services.enrollment.adapters import orm
from tests.e2e.helpers import make_course, make_session

pytestmark = pytest.mark.integration

N_REQUESTS, SEATS = 200, 10


def test_two_hundred_requests_for_ten_seats(clean, admin_headers):
    app = clean["enrollment"]
    c = app.test_client()
    course = make_course(c, admin_headers)
    session = make_session(c, admin_headers, course["id"], capacity=SEATS)
    db = app.extensions["db"]
    now = dt.datetime(2019, 1, 1, tzinfo=dt.timezone.utc)
    with db.engine.begin() as conn:
        conn.execute(orm.trainees.insert(), [{"employee_no": f"R{i:05d}", "name": f"경쟁{i}", "organisation_type": "city_hq",
                                              "grade": "7급", "created_at": now, "updated_at": now}
                                             for i in range(N_REQUESTS)])
        ids = conn.execute(select(orm.trainees.c.id).order_by(orm.trainees.c.id)).scalars().all()
    barrier = threading.Barrier(50)

    def attempt(trainee_id):
        client = app.test_client()
        try:
            barrier.wait(timeout=5)
        except threading.BrokenBarrierError:
            pass
        r = client.post("/api/v1/enrollments", json={"trainee_id": trainee_id, "session_id": session["id"]},
                        headers=admin_headers)
        return r.status_code, r.get_json()

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(attempt, ids))
    assert {code for code, _ in results} == {201}, [b for code, b in results if code != 201][:3]
    statuses = [body["status"] for _, body in results]
    assert statuses.count("confirmed") == SEATS and statuses.count("waitlisted") == N_REQUESTS - SEATS
    with db.engine.connect() as conn:
        taken = conn.execute(select(orm.sessions.c.seats_taken).where(orm.sessions.c.id == session["id"])).scalar()
        held = conn.execute(select(func.count()).select_from(orm.enrollments).where(orm.enrollments.c.holds_seat)).scalar()
        waitlist = conn.execute(select(orm.enrollments.c.id).where(orm.enrollments.c.status == "waitlisted")
                                .order_by(orm.enrollments.c.waitlisted_at, orm.enrollments.c.id)).scalars().all()
    assert taken == held == SEATS
    # cancelling a confirmed seat promotes the head of the (FIFO) waitlist
    first = next(body for _, body in results if body["status"] == "confirmed")
    c.post(f"/api/v1/enrollments/{first['id']}/cancel", json={}, headers=admin_headers)
    assert c.get(f"/api/v1/enrollments/{waitlist[0]}", headers=admin_headers).get_json()["status"] == "confirmed"
    assert c.get(f"/api/v1/enrollments/{waitlist[1]}", headers=admin_headers).get_json()["status"] == "waitlisted"


def test_one_trainee_racing_for_overlapping_sessions_gets_exactly_one(clean, admin_headers):
    """The calendar check cannot be raced: concurrent requests of one trainee for 20 overlapping sessions."""
    app = clean["enrollment"]
    c = app.test_client()
    course = make_course(c, admin_headers)
    sessions = [make_session(c, admin_headers, course["id"], capacity=5, seq_no=n + 1) for n in range(20)]
    trainee = c.post("/api/v1/trainees", json={"employee_no": "RACE1", "name": "한강"}, headers=admin_headers).get_json()
    barrier = threading.Barrier(20)

    def attempt(session_id):
        client = app.test_client()
        barrier.wait(timeout=5)
        r = client.post("/api/v1/enrollments", json={"trainee_id": trainee["id"], "session_id": session_id},
                        headers=admin_headers)
        return r.status_code, r.get_json().get("code")

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(attempt, [s["id"] for s in sessions]))
    assert sorted(results, key=str)[0][0] == 201
    assert [code for code, _ in results].count(201) == 1
    assert {code for status, code in results if status != 201} == {"schedule_conflict"}
    taken = [c.get(f"/api/v1/sessions/{s['id']}", headers=admin_headers).get_json()["seats_taken"] for s in sessions]
    assert sorted(taken) == [0] * 19 + [1]  # the 19 refused requests gave their seats back
