"""Reporting end to end through real Celery workers and a real Redis: counts figure by figure against
what was enrolled through the enrollment API, the 2019 demo plan's exact totals, a rebuild from the event
history replayed by enrollment over the bus, and reconciliation against enrollment's own counts."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from services.enrollment.adapters import orm as eorm
from services.reporting.adapters import orm as rorm
from shared import outbox
from tests.conftest import wait_for
from tests.e2e.helpers import make_course, make_session, make_trainee, queues_drained
from tests.reporting.factories import demo_plan_events

pytestmark = pytest.mark.integration


def _get(apps, path, headers):
    r = apps["reporting"].test_client().get(path, headers=headers)
    assert r.status_code == 200, (path, r.get_json())
    return r.get_json()


def _enroll_world(apps, h):
    """2020 course with 2 seats, 4 trainees of 3 organisation types: 2 confirmed, 2 waitlisted, then a
    cancellation promotes the first waitlisted trainee."""
    ec = apps["enrollment"].test_client()
    course = make_course(ec, h, code="C20-RPT", year=2020, delivery="classroom", competency_area="leadership",
                         planned_seats=40)
    session = make_session(ec, h, course["id"], capacity=2, starts_on="2020-09-07", ends_on="2020-09-08")
    orgs = ["district", "district", "city_hq", "invested_institution"]
    trainees = [make_trainee(ec, h, n, organisation_type=org) for n, org in enumerate(orgs, start=1)]
    ids = []
    for t in trainees:
        r = ec.post("/api/v1/enrollments", json={"trainee_id": t["id"], "session_id": session["id"]}, headers=h)
        assert r.status_code == 201, r.get_json()
        ids.append(r.get_json())
    assert [e["status"] for e in ids] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    r = ec.post(f"/api/v1/enrollments/{ids[0]['id']}/cancel", json={"reason": "출장"}, headers=h)
    assert r.status_code == 200
    return course, session


def _figures(apps, h, year=2020):
    summary = _get(apps, f"/api/v1/reports/summary?year={year}", h)
    orgs = _get(apps, f"/api/v1/reports/organisations?year={year}", h)["items"]
    courses = _get(apps, f"/api/v1/reports/courses?year={year}", h)["items"]
    months = _get(apps, f"/api/v1/reports/months?year={year}", h)["items"]
    return {"counters": summary["counters"], "plan": summary["plan"],
            "orgs": {o["key"]: (o["enrolled"], o["waitlisted"], o["cancelled"]) for o in orgs},
            "courses": {c["code"]: (c["planned_seats"], c["enrolled"], c["waitlisted"], c["cancelled"]) for c in courses},
            "september": next(m for m in months if m["month"] == 9)["enrollments"]}


def test_counts_match_what_was_enrolled_and_the_demo_plan(workers, admin_headers, redis_url):
    apps, h = workers, admin_headers
    _enroll_world(apps, h)
    expected_counters = {"enrolled": 2, "waitlisted": 1, "cancelled": 1, "enrollments": 4}
    wait_for(lambda: {k: _figures(apps, h)["counters"][k] for k in expected_counters} == expected_counters,
             message="2020 counters")
    f = _figures(apps, h)
    # trainee 1 (district) cancelled, 2 (district) confirmed, 3 (city_hq) promoted, 4 (invested) waitlisted
    assert f["orgs"] == {"district": (1, 0, 1), "city_hq": (1, 0, 0), "invested_institution": (0, 1, 0)}
    assert f["courses"] == {"C20-RPT": (40, 2, 1, 1)}
    assert f["september"] == 4 and f["plan"]["total"] == {"courses": 1, "seats": 40}

    # the 2019 demo plan as the enrollment loader announces it (course/session snapshot events)
    outbox.publish(apps["enrollment"].extensions["celery"], demo_plan_events())
    wait_for(lambda: _get(apps, "/api/v1/reports/summary?year=2019", h)["plan"]["total"]["seats"] == 198999,
             timeout=60, message="demo plan in the read model")
    plan = _get(apps, "/api/v1/reports/summary?year=2019", h)["plan"]
    assert [(plan[k]["courses"], plan[k]["seats"]) for k in ("total", "classroom", "elearning")] == \
        [(239, 198999), (125, 22829), (114, 176170)]


def test_rebuild_replays_history_and_reconcile_compares_with_enrollment(workers, admin_headers, redis_url):
    apps, h = workers, admin_headers
    course, _ = _enroll_world(apps, h)
    wait_for(lambda: _figures(apps, h)["counters"]["enrollments"] == 4, message="counted")
    wait_for(lambda: queues_drained(redis_url), message="queues drained")
    before = _figures(apps, h)
    db = apps["reporting"].extensions["db"]

    # damage the read model, then rebuild it from enrollment's history, 3 events per page
    with db.engine.begin() as conn:
        conn.execute(update(rorm.rm_rollups).values(enrolled=999))
        conn.execute(rorm.rm_enrollments.delete())
    assert _figures(apps, h)["counters"]["enrolled"] == 999
    r = apps["reporting"].test_client().post("/api/v1/reports/rebuild", json={"page_size": 3}, headers=h)
    assert r.status_code == 202 and r.get_json()["state"] == "running"
    rebuild_id = r.get_json()["id"]
    done = wait_for(lambda: (lambda b: b if b["state"] == "finished" else None)(
        _get(apps, "/api/v1/reports/rebuild", h)), timeout=60, message="rebuild finished")
    with apps["enrollment"].extensions["db"].engine.connect() as conn:
        history = conn.execute(select(func.count()).select_from(eorm.outbox)).scalar_one()
    assert done["id"] == rebuild_id and done["events_applied"] == history and done["pages"] >= history // 3
    assert _figures(apps, h) == before

    # reconciliation: the read model agrees with enrollment's own counts...
    def latest(query=""):
        body = _get(apps, f"/api/v1/reports/reconciliation?year=2020{query}", h)
        return body if body["reconciliation"] and body["reconciliation"]["state"] != "requested" else None

    def reconcile():
        r = apps["reporting"].test_client().post("/api/v1/reports/reconcile", json={"year": 2020}, headers=h)
        assert r.status_code == 202
        rid = r.get_json()["id"]
        return wait_for(lambda: (lambda b: b if b and b["reconciliation"]["id"] == rid else None)(latest()),
                        message="reconciliation compared")

    ok = reconcile()
    assert ok["reconciliation"]["state"] == "matched" and ok["reconciliation"]["differences"] == 0
    statuses = {(i["name"], i["enrollment"]) for i in ok["items"] if i["kind"] == "status"}
    assert statuses == {("cancelled", 1), ("confirmed", 2), ("waitlisted", 1)}

    # ...and reports a difference, per course and status, when the read model drifts
    with db.engine.begin() as conn:
        conn.execute(update(rorm.rm_enrollments).where(rorm.rm_enrollments.c.status == "waitlisted")
                     .values(status="cancelled"))
    bad = reconcile()
    assert bad["reconciliation"]["state"] == "differences"
    diff = _get(apps, "/api/v1/reports/reconciliation?year=2020&only_differences=true&kind=status", h)["items"]
    assert {(d["code"], d["name"], d["read_model"], d["enrollment"]) for d in diff} == \
        {("C20-RPT", "waitlisted", 0, 1), ("C20-RPT", "cancelled", 2, 1)}
    csv = apps["reporting"].test_client().get("/api/v1/reports/reconciliation?year=2020&only_differences=true"
                                              "&format=csv", headers=h)
    assert csv.status_code == 200 and "C20-RPT" in csv.data.decode("utf-8")
