"""/api/v1/reports/* over a read model fed in-process (the bus path is in tests/e2e/test_reporting_*)."""
from __future__ import annotations

import io
import re
from collections import Counter
from urllib.parse import unquote

import openpyxl
import pytest

from services.reporting.adapters import orm
from services.reporting.service_layer import projector
from shared import inbox
from tests.conftest import trainee_headers
from tests.reporting.factories import demo_plan_catalogue, demo_plan_events, enrollment_events, envelope, trainee_ref


def _apply(app, envelopes):
    db = app.extensions["db"]
    for i in range(0, len(envelopes), 500):
        inbox.process_batch(db.session_factory, orm.inbox, envelopes[i:i + 500], projector.apply)


def _get(app, path, headers):
    r = app.test_client().get(path, headers=headers)
    assert r.status_code == 200, (path, r.get_json())
    return r


@pytest.fixture
def demo(clean):
    app = clean["reporting"]
    _apply(app, demo_plan_events())
    return app


def test_2019_demo_plan_summary_is_exact(demo, admin_headers):
    r = _get(demo, "/api/v1/reports/summary?year=2019", admin_headers)
    body = r.get_json()
    assert body["plan"]["total"]["courses"] == 239 and body["plan"]["total"]["seats"] == 198999
    assert (body["plan"]["classroom"]["courses"], body["plan"]["classroom"]["seats"]) == (125, 22829)
    assert (body["plan"]["elearning"]["courses"], body["plan"]["elearning"]["seats"]) == (114, 176170)
    assert '"seats":198999' in r.get_data(as_text=True).replace(" ", "")  # a plain JSON integer
    assert body["reference_differences"] == []
    lines = {ln["delivery"]: ln for ln in body["lines"]}
    # 2018 is not in the read model: the plan document's 2018 table (123/19,020, 106/149,330, 229/168,350)
    assert body["previous_source"].startswith("seed")
    assert (lines["total"]["previous_courses"], lines["total"]["previous_seats"]) == (229, 168350)
    assert (lines["total"]["change_courses"], lines["total"]["change_seats"]) == (10, 30649)
    assert (lines["classroom"]["change_courses"], lines["elearning"]["change_seats"]) == (2, 26840)
    types = {c["change_type"]: c for c in body["change_types"]}
    assert (types["new"]["classroom"], types["new"]["elearning"]) == (22, 24)
    assert (types["improved"]["classroom"], types["improved"]["elearning"]) == (81, 13)
    mra = types["merged_replaced_abolished"]  # retired 2018 courses, never announced: the seed's figures
    assert (mra["classroom"], mra["elearning"], mra["total"]) == (20, 16, 36) and mra["source"].startswith("seed")

    pva = _get(demo, "/api/v1/reports/plan-vs-actual?year=2019&by=year", admin_headers).get_json()["items"]
    by_year = {ln["year"]: (ln["planned"], ln["actual"], ln["source"]) for ln in pva}
    assert by_year[2017][:2] == (161820, 206820) and by_year[2018][:2] == (168350, 180347)
    assert by_year[2019] == (198999, 0, "read_model")

    # sessions carry the plan's capacity: months add up to the e-learning + classroom seats
    months = _get(demo, "/api/v1/reports/months?year=2019", admin_headers).get_json()["items"]
    assert sum(m["planned_seats"] for m in months) == 198999
    area = _get(demo, "/api/v1/reports/plan-vs-actual?year=2019&by=area", admin_headers).get_json()["items"]
    assert sum(a["planned"] for a in area) == 198999


def test_filters_and_cross_dimension_counts(demo, admin_headers):
    courses, sessions = demo_plan_catalogue()
    classroom = next(c for c in courses if c["delivery"] == "classroom")
    elearning = next(c for c in courses if c["delivery"] == "elearning")
    s_class = next(s for s in sessions if s["course_id"] == classroom["id"])
    s_elearn = next(s for s in sessions if s["course_id"] == elearning["id"])
    events, expected = [], Counter()
    for eid in range(1, 61):
        course, sess = (classroom, s_class) if eid % 3 else (elearning, s_elearn)
        trainee = trainee_ref(eid)
        path = ["confirmed", "attended", "completed"] if eid % 4 else ["waitlisted"]
        events += enrollment_events(eid, path, course, sess, trainee)
        if path[-1] == "completed":
            expected[(course["delivery"], trainee["organisation_type"])] += 1
    _apply(demo, events)

    def completed(query):
        return _get(demo, f"/api/v1/reports/summary?year=2019&{query}", admin_headers).get_json()["counters"]["completed"]

    assert completed("") == sum(expected.values())
    assert completed("organisation_type=district") == sum(v for (d, o), v in expected.items() if o == "district")
    assert completed("organisation_type=district&delivery=classroom") == expected[("classroom", "district")]

    page = _get(demo, f"/api/v1/reports/courses?year=2019&organisation_type=district&q={classroom['code']}",
                admin_headers).get_json()
    assert page["total"] == 1 and page["items"][0]["completed"] == expected[("classroom", "district")]
    page = _get(demo, "/api/v1/reports/courses?year=2019&delivery=elearning&per_page=10&page=2", admin_headers).get_json()
    assert (page["total"], len(page["items"]), page["page"]) == (114, 10, 2)

    orgs = _get(demo, "/api/v1/reports/organisations?year=2019&delivery=classroom", admin_headers).get_json()["items"]
    assert {o["key"]: o["completed"] for o in orgs if o["completed"]} == {o: v for (d, o), v in expected.items() if d == "classroom"}
    assert next(o for o in orgs if o["key"] == "district")["label"] == "자치구"

    month = int(s_class["starts_on"][5:7])
    sess = _get(demo, f"/api/v1/reports/sessions?year=2019&month={month}&course_id={classroom['id']}",
                admin_headers).get_json()
    assert any(i["session_id"] == s_class["id"] and i["enrolled"] > 0 for i in sess["items"])
    assert all(i["starts_on"][5:7] == f"{month:02d}" for i in sess["items"])


def test_downloads_are_korean_safe_and_named_in_utf8(clean, admin_headers):
    app = clean["reporting"]
    course = {"id": 7, "code": "C19-777", "year": 2019, "name_ko": "=HYPERLINK(\"http://evil\",\"클릭\")",
              "name_en": None, "delivery": "classroom", "competency_area": "job", "status": "new",
              "planned_sessions": 1, "planned_seats": 25}
    _apply(app, [envelope("hrd.enrollment.course.created.v1", course)])

    r = _get(app, "/api/v1/reports/courses?year=2019&format=csv", admin_headers)
    assert r.headers["Content-Type"].startswith("text/csv")
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert unquote(re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1)).startswith("과정별통계_2019_")
    text = r.data.decode("utf-8")
    assert text.startswith("\ufeff연도 (Year),과정코드 (Course code),과정명 (Course)")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text

    r = _get(app, "/api/v1/reports/courses?year=2019&format=xlsx", admin_headers)
    sheet = openpyxl.load_workbook(io.BytesIO(r.data)).active
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, [c.value for c in sheet[2]]))
    assert row["과정명 (Course)"].startswith("'=HYPERLINK")
    assert row["계획 인원 (Planned seats)"] == 25

    r = _get(app, "/api/v1/reports/summary?year=2019&format=xlsx&table=change_types", admin_headers)
    assert "filename*=UTF-8''" in r.headers["Content-Disposition"]
    for path in ("plan-vs-actual?year=2019", "sessions?year=2019", "organisations?year=2019", "months?year=2019"):
        assert _get(app, f"/api/v1/reports/{path}&format=csv", admin_headers).data.startswith(b"\xef\xbb\xbf")


def test_reports_are_staff_only_and_validate_input(clean, admin_headers):
    c = clean["reporting"].test_client()
    assert c.get("/api/v1/reports/summary?year=2019").status_code == 401
    r = c.get("/api/v1/reports/courses?year=2019", headers=trainee_headers(1))
    assert r.status_code == 403 and r.get_json()["code"] == "forbidden"
    r = c.get("/api/v1/reports/summary?year=2019&month=13&lang=en", headers=admin_headers)
    assert r.status_code == 422 and "month" in r.get_json()["errors"]
    r = c.get("/api/v1/reports/courses?year=2019&format=pdf", headers=admin_headers)
    assert r.status_code == 422 and "format" in r.get_json()["errors"]
    assert c.post("/api/v1/reports/rebuild", headers=trainee_headers(1)).status_code == 403
    spec = c.get("/openapi.json").get_json()
    for path in ("summary", "plan-vs-actual", "courses", "sessions", "organisations", "months", "rebuild",
                 "reconcile", "reconciliation"):
        assert f"/api/v1/reports/{path}" in spec["paths"]
