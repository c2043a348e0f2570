"""Plan, trainee and completion files through the API (CP949 / UTF-8 BOM CSV and XLSX), the demo plan CLI,
plan totals and export."""
from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import func, select

from services.enrollment.adapters import orm
from tests.e2e.helpers import make_trainee

pytestmark = pytest.mark.integration

PLAN_HEADER = "연도,과정코드,과정명,교육방식,역량구분,변경구분,대상직급,교육일수,교육시간,선수과정,회차,교육시작일,교육종료일,정원,교육장소\r\n"
PLAN_OK = PLAN_HEADER + (
    "2019,E19-900,e-빅데이터의 이해,이러닝,IT역량,계속,,,12,,1,2019-01-02,2019-01-31,200,사이버교육센터(온라인)\r\n"
    "2019,C19-900,빅데이터 분석 실무(시각화 및 탐색중심),집합,IT역량,신설,\"6~7급\",3,21,E19-900,1,2019-02-18,2019-02-20,25,전산교육장2\r\n"
    ",,,,,,,,,,2,2019-07-08,2019-07-10,25,전산교육장2\r\n")
PLAN_BAD = PLAN_HEADER + (
    "2019,C19-901,과정 하나,집합,IT역량,신설,,3,,,1,2019-02-18,2019-02-20,0,강의실\r\n"
    "2019,C19-902,과정 둘,집합,없는역량,신설,,3,,E19-404,1,2019-02-18,2019-02-20,25,강의실\r\n")


def _upload(client, url, data: bytes, headers, name="plan.csv"):
    return client.post(url, data={"file": (io.BytesIO(data), name)}, headers=headers,
                       content_type="multipart/form-data")


def _count(app, table):
    with app.extensions["db"].engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_plan_import_cp949_dry_run_errors_and_export_roundtrip(clean, admin_headers):
    app = clean["enrollment"]
    c = app.test_client()
    bad = _upload(c, "/api/v1/plans/import", PLAN_BAD.encode("cp949"), admin_headers)
    assert bad.status_code == 422
    rows = bad.get_json()["errors"]["rows"]
    assert {(r["line"], r["field"]) for r in rows} >= {(2, "capacity"), (3, "area"), (3, "prerequisites")}
    assert all(r["reason_ko"] and r["reason_en"] for r in rows)
    assert _count(app, orm.courses) == 0 and _count(app, orm.outbox) == 0

    preview = _upload(c, "/api/v1/plans/import?dry_run=true", PLAN_OK.encode("cp949"), admin_headers)
    assert preview.status_code == 200, preview.get_json()
    p = preview.get_json()
    assert p["dry_run"] and p["file"]["encoding"] == "cp949"
    assert (p["courses"]["create"], p["sessions"]["create"], p["totals"]["seats"]) == (2, 3, 250)
    assert _count(app, orm.courses) == 0

    done = _upload(c, "/api/v1/plans/import", PLAN_OK.encode("cp949"), admin_headers).get_json()
    assert (done["dry_run"], done["courses"]["create"]) == (False, 2)
    courses = c.get("/api/v1/courses?year=2019", headers=admin_headers).get_json()["items"]
    big = next(x for x in courses if x["code"] == "C19-900")
    assert big["prerequisite_codes"] == ["E19-900"] and big["target_grades"] == ["6급", "7급"]
    with app.extensions["db"].engine.connect() as conn:
        types = dict(conn.execute(select(orm.outbox.c.event_type, func.count()).group_by(orm.outbox.c.event_type)).all())
    assert types == {"hrd.enrollment.course.created.v1": 2, "hrd.enrollment.session.created.v1": 3,
                     "hrd.enrollment.plan.imported.v1": 1}

    # the same file again (UTF-8 with BOM this time) changes nothing and emits nothing
    again = _upload(c, "/api/v1/plans/import", ("\ufeff" + PLAN_OK).encode("utf-8"), admin_headers).get_json()
    assert (again["courses"]["unchanged"], again["sessions"]["unchanged"]) == (2, 3)
    assert _count(app, orm.outbox) == 6

    # a changed capacity and dates → update + rescheduled
    changed = PLAN_OK.replace("2019-07-08,2019-07-10,25", "2019-07-15,2019-07-17,30").replace(
        "\"6~7급\",3,21,E19-900,1,2019-02-18,2019-02-20,25", "\"6~7급\",3,21,E19-900,1,2019-02-18,2019-02-20,20")
    out = _upload(c, "/api/v1/plans/import", changed.encode("utf-8"), admin_headers).get_json()
    assert out["sessions"]["update"] == 2 and out["sessions"]["rescheduled"] == 1 and out["courses"]["update"] == 0

    plan = c.get("/api/v1/plans/2019", headers=admin_headers).get_json()
    assert (plan["courses"], plan["sessions"], plan["seats"]) == (2, 3, 250)
    assert plan["by_delivery"]["classroom"] == {"courses": 1, "sessions": 2, "seats": 50}

    csv_export = c.get("/api/v1/plans/2019/export?format=csv", headers=admin_headers)
    assert csv_export.status_code == 200 and csv_export.data.startswith("\ufeff".encode())
    xlsx = c.get("/api/v1/plans/2019/export?format=xlsx", headers=admin_headers)
    ws = openpyxl.load_workbook(io.BytesIO(xlsx.data)).worksheets[0]
    assert ws.max_row == 4 and ws.cell(1, 2).value == "과정코드"
    # re-importing the export changes nothing
    back = _upload(c, "/api/v1/plans/import?dry_run=true", xlsx.data, admin_headers, "plan.xlsx").get_json()
    assert (back["courses"]["update"], back["sessions"]["update"], back["sessions"]["create"]) == (0, 0, 0)


def test_plan_import_refuses_shrinking_below_taken_seats(clean, admin_headers):
    app = clean["enrollment"]
    c = app.test_client()
    _upload(c, "/api/v1/plans/import", PLAN_OK.encode(), admin_headers)
    session = c.get("/api/v1/sessions?course_id=" + str(
        c.get("/api/v1/courses?q=E19-900", headers=admin_headers).get_json()["items"][0]["id"]),
        headers=admin_headers).get_json()["items"][0]
    for n in range(3):
        t = make_trainee(c, admin_headers, n)
        r = c.post("/api/v1/enrollments", json={"trainee_id": t["id"], "session_id": session["id"]}, headers=admin_headers)
        assert r.get_json()["status"] == "confirmed"
    shrunk = PLAN_OK.replace("2019-01-31,200", "2019-01-31,2")
    r = _upload(c, "/api/v1/plans/import", shrunk.encode(), admin_headers)
    assert r.status_code == 422
    assert r.get_json()["errors"]["rows"][0]["line"] == 2 and r.get_json()["errors"]["rows"][0]["field"] == "capacity"


def test_trainee_import_cp949_upsert_and_errors(clean, admin_headers):
    app = clean["enrollment"]
    c = app.test_client()
    good = ("사번,성명,소속,부서,직급,직렬,이메일,휴대전화,임용(예정)일,편의지원\r\n"
            "2019000123,김서울,서울특별시 행정국,인사과,행정주사보,행정직,kim@Seoul.GO.KR,01012345678,2019.03.04,휠체어\r\n"
            "2019000124,이강남,강남구청,총무과,9급,토목,,,,\r\n")
    r = _upload(c, "/api/v1/trainees/import?dry_run=1", good.encode("cp949"), admin_headers, "t.csv")
    assert r.status_code == 200 and r.get_json()["trainees"]["create"] == 2 and _count(app, orm.trainees) == 0
    r = _upload(c, "/api/v1/trainees/import", good.encode("cp949"), admin_headers, "t.csv")
    assert r.get_json()["trainees"]["create"] == 2
    kim = c.get("/api/v1/trainees?q=2019000123", headers=admin_headers).get_json()["items"][0]
    assert (kim["grade"], kim["job_series"], kim["organisation_type"], kim["mobile"], kim["email"]) == (
        "7급", "행정", "city_hq", "010-1234-5678", "kim@seoul.go.kr")
    assert c.get("/api/v1/trainees?organisation_type=district", headers=admin_headers).get_json()["total"] == 1

    updated = good.replace("행정주사보", "6급").replace("2019000124,이강남", "2019000125,박마포").replace("강남구청", "마포구")
    r = _upload(c, "/api/v1/trainees/import", updated.encode("utf-8"), admin_headers, "t.csv").get_json()
    assert (r["trainees"]["create"], r["trainees"]["update"]) == (1, 1)

    bad = ("사번,성명,소속,직급,휴대전화\r\n"
           "2019000126,최은평,은평구,7급,\r\n"
           "2019000126,최은평,은평구,7급,\r\n"
           "2019000127,정구로,구로구,12급,010\r\n"
           ",무사번,은평구,7급,\r\n")
    r = _upload(c, "/api/v1/trainees/import", bad.encode("cp949"), admin_headers, "t.csv")
    assert r.status_code == 422
    assert {(e["line"], e["field"]) for e in r.get_json()["errors"]["rows"]} == {
        (3, "employee_no"), (4, "grade"), (4, "mobile"), (5, "employee_no")}
    assert _count(app, orm.trainees) == 3
    missing = _upload(c, "/api/v1/trainees/import", "이름만\r\n홍길동\r\n".encode(), admin_headers, "t.csv")
    assert missing.status_code == 422 and missing.get_json()["code"] == "file_missing_headers"


def test_demo_plan_cli_is_idempotent_and_matches_the_plan(clean, admin_headers):
    app = clean["enrollment"]
    runner = app.test_cli_runner()
    first = runner.invoke(args=["load-demo-plan", "--year", "2019"])
    assert first.exit_code == 0, first.output
    assert "courses +239" in first.output
    outbox_rows = _count(app, orm.outbox)
    second = runner.invoke(args=["load-demo-plan", "--year", "2019"])
    assert "courses +0 ~0 =239" in second.output and "sessions +0 ~0" in second.output
    assert _count(app, orm.outbox) == outbox_rows  # nothing emitted the second time
    plan = app.test_client().get("/api/v1/plans/2019", headers=admin_headers).get_json()
    assert (plan["courses"], plan["seats"]) == (239, 198_999)
    assert plan["by_delivery"]["classroom"]["courses"] == 125 and plan["by_delivery"]["classroom"]["seats"] == 22_829
    assert plan["by_delivery"]["elearning"]["courses"] == 114 and plan["by_delivery"]["elearning"]["seats"] == 176_170
    assert set(plan["by_status"]) <= {"new", "improved", "continuing"}  # retired courses are not loaded
    years = app.test_client().get("/api/v1/plans", headers=admin_headers).get_json()
    assert [y["year"] for y in years["items"]] == [2019]
