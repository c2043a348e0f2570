"""The backbone's vertical slice, end to end through real Celery workers and a real Redis:
an enrollment on the enrollment service becomes a message on notification and a count on reporting,
exactly once, even when events are delivered twice or published late by the outbox sweep."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from services.enrollment.adapters import orm as eorm
from services.notification.adapters import orm as norm
from services.reporting.adapters import orm as rorm
from shared import outbox
from tests.conftest import trainee_headers, wait_for
from tests.e2e.helpers import make_course, make_session, make_trainee, queues_drained

pytestmark = pytest.mark.integration


def _messages(apps, trainee_id, headers):
    r = apps["notification"].test_client().get(f"/api/v1/messages?trainee_id={trainee_id}", headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["items"]


def _enrolled(apps, headers, year=2019):
    r = apps["reporting"].test_client().get(f"/api/v1/reports/summary?year={year}", headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["actual"]["enrolled"]


def _count(app, table):
    with app.extensions["db"].engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_enrollment_reaches_notification_and_reporting_once(workers, admin_headers, redis_url):
    apps = workers
    ec = apps["enrollment"].test_client()
    course = make_course(ec, admin_headers)
    session = make_session(ec, admin_headers, course["id"], capacity=1)
    t1 = make_trainee(ec, admin_headers, 1)
    t2 = make_trainee(ec, admin_headers, 2)

    # reporting learns the plan from events
    wait_for(lambda: apps["reporting"].test_client().get("/api/v1/reports/summary?year=2019", headers=admin_headers)
             .get_json()["plan"]["total"]["courses"] == 1, message="course in read model")
    assert _enrolled(apps, admin_headers) == 0

    r = ec.post("/api/v1/enrollments", json={"trainee_id": t1["id"], "session_id": session["id"]},
                headers=admin_headers)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["status"] == "confirmed"
    assert r.headers.get("X-Correlation-ID")

    msgs = wait_for(lambda: _messages(apps, t1["id"], admin_headers), message="confirmation message")
    assert [m["kind"] for m in msgs] == ["enrollment_confirmed"]
    assert "빅데이터 분석 실무" in msgs[0]["subject"]
    wait_for(lambda: _enrolled(apps, admin_headers) == 1, message="enrolled count 1")

    # the second trainee finds the session full and is waitlisted
    r = ec.post("/api/v1/enrollments", json={"trainee_id": t2["id"], "session_id": session["id"]},
                headers=admin_headers)
    assert r.get_json()["status"] == "waitlisted"
    wait_for(lambda: [m["kind"] for m in _messages(apps, t2["id"], admin_headers)] == ["waitlisted"],
             message="waitlisted message")

    # A trainee sees its own messages only.
    assert _messages(apps, t1["id"], trainee_headers(t1["id"]))
    r = apps["notification"].test_client().get(f"/api/v1/messages?trainee_id={t1['id']}",
                                               headers=trainee_headers(t2["id"]))
    assert r.status_code == 403

    # Deliver every event ever published a second time: nothing changes downstream.
    db = apps["enrollment"].extensions["db"]
    every_event = outbox.history(db.engine, eorm.outbox)
    assert len(every_event) >= 6
    wait_for(lambda: queues_drained(redis_url), message="queues drained")
    before = (_count(apps["notification"], norm.messages), _count(apps["reporting"], rorm.rm_enrollments),
              _count(apps["notification"], norm.inbox))
    outbox.publish(apps["enrollment"].extensions["celery"], every_event)
    time.sleep(0.3)
    wait_for(lambda: queues_drained(redis_url), message="duplicates consumed")
    after = (_count(apps["notification"], norm.messages), _count(apps["reporting"], rorm.rm_enrollments),
             _count(apps["notification"], norm.inbox))
    assert after == before
    assert _enrolled(apps, admin_headers) == 1


def test_cancel_promotes_waitlisted_and_counts_follow(workers, admin_headers):
    apps = workers
    ec = apps["enrollment"].test_client()
    course = make_course(ec, admin_headers)
    session = make_session(ec, admin_headers, course["id"], capacity=1)
    t1, t2 = make_trainee(ec, admin_headers, 1), make_trainee(ec, admin_headers, 2)
    e1 = ec.post("/api/v1/enrollments", json={"trainee_id": t1["id"], "session_id": session["id"]},
                 headers=admin_headers).get_json()
    e2 = ec.post("/api/v1/enrollments", json={"trainee_id": t2["id"], "session_id": session["id"]},
                 headers=admin_headers).get_json()
    assert (e1["status"], e2["status"]) == ("confirmed", "waitlisted")

    r = ec.post(f"/api/v1/enrollments/{e1['id']}/cancel", json={"reason": "개인 사정"}, headers=admin_headers)
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    assert ec.get(f"/api/v1/enrollments/{e2['id']}", headers=admin_headers).get_json()["status"] == "confirmed"
    again = ec.post(f"/api/v1/enrollments/{e1['id']}/cancel", json={}, headers=admin_headers)
    assert again.status_code == 409 and again.get_json()["code"] == "not_cancellable"

    # Two consumer threads may apply "waitlisted (v1)" after "promoted (v2)"; notification then drops the
    # stale waitlist notice rather than tell a trainee "waitlisted" after "you got a seat".
    kinds = wait_for(lambda: (k := [m["kind"] for m in _messages(apps, t2["id"], admin_headers)]) and "promoted" in k and k,
                     message="promotion message")
    assert set(kinds) <= {"promoted", "waitlisted"} and kinds[0] == "promoted"
    wait_for(lambda: apps["reporting"].test_client().get("/api/v1/reports/summary?year=2019",
                                                         headers=admin_headers).get_json()["actual"]
             == {"enrolled": 1, "confirmed": 1, "waitlisted": 0, "cancelled": 1, "pending_prerequisite": 0,
                 "attended": 0, "completed": 0, "no_show": 0, "failed": 0}, message="reporting counters")


def test_events_left_in_the_outbox_are_published_by_the_sweep(workers, admin_headers):
    """The process died after commit (or Redis was down): the periodic sweep publishes what is left."""
    apps = workers
    app = apps["enrollment"]
    from services.enrollment.service_layer import catalogue
    from services.enrollment.service_layer.unit_of_work import UnitOfWork
    db = app.extensions["db"]
    with app.app_context():
        uow = UnitOfWork(db.session_factory, db.engine, celery_app=None)  # commit, never relay
        trainee = catalogue.create_trainee(uow, {"employee_no": "E-SWEEP", "name": "이관악",
                                                 "organisation_type": "district"})
    assert outbox.pending_count(db.engine, eorm.outbox) == 1

    time.sleep(0.6)  # past the sweep's grace period
    app.extensions["celery"].send_task("enrollment.outbox_sweep")
    wait_for(lambda: outbox.pending_count(db.engine, eorm.outbox) == 0, message="outbox swept")
    wait_for(lambda: _count(apps["reporting"], rorm.inbox) == 1, message="reporting got the event")
    assert trainee["id"]


def test_relay_with_broker_down_leaves_rows_for_the_sweep(clean):
    """A broker outage never fails the use case nor loses the event: the sweep sends it later."""
    from celery import Celery

    from services.enrollment.service_layer import catalogue
    from services.enrollment.service_layer.unit_of_work import UnitOfWork

    app = clean["enrollment"]
    db = app.extensions["db"]
    dead_broker = Celery("dead", broker="redis://127.0.0.1:1/0")  # nothing listens on port 1
    with app.app_context():
        t0 = time.monotonic()
        trainee = catalogue.create_trainee(UnitOfWork(db.session_factory, db.engine, dead_broker),
                                           {"employee_no": "E-DOWN", "name": "박노원"})
        assert time.monotonic() - t0 < 10
    assert trainee["id"]
    assert outbox.pending_count(db.engine, eorm.outbox) == 1
    assert outbox.sweep(db.engine, eorm.outbox, app.extensions["celery"], grace_seconds=0) == 1
    assert outbox.pending_count(db.engine, eorm.outbox) == 0
