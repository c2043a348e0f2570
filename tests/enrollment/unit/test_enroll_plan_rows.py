import io
from datetime import date

from services.enrollment.adapters.file_formats import PLAN_COLUMNS
from services.enrollment.adapters.tabular import open_table
from services.enrollment.domain.model import CompetencyArea, CourseStatus, Delivery, OrganisationType
from services.enrollment.domain.plan_rows import validate_plan_rows

HEADER = "연도,과정코드,과정명,교육방식,역량구분,변경구분,대상직급,대상기관,교육일수,교육시간,선수과정,계획인원,회차,교육시작일,교육종료일,정원,교육장소,계획회차\r\n"


def validate(body: str, encoding="utf-8"):
    with open_table(io.BytesIO((HEADER + body).encode(encoding)), PLAN_COLUMNS) as table:
        return validate_plan_rows(table)


def test_sessions_grouped_with_blank_course_cells_and_continuation_rows():
    result = validate(
        "2019,E19-001,e-빅데이터의 이해,이러닝,IT역량,계속,,,,10,,,1,2019-03-04,2019-03-29,100,온라인\r\n"
        "2019,C19-001,빅데이터 분석 실무,집합,IT,신설,7~9급,\"시 본청, 자치구\",2,,E19-001,,1,2019.03.04,2019.03.05,30,전산교육장1\r\n"
        ",C19-001,,,,,,,,,,,2,2019/9/2,2019/9/3,30,전산교육장1\r\n"
        ",,,,,,,,,,,,3,20191007,20191008,25,전산교육장2\r\n"   # blank code: continues C19-001
        "2019,L19-001,팀장리더십,집합,리더십,개선,5급,,3,,,250,,,,,,10\r\n",   # no session rows yet
        encoding="cp949")
    assert result.ok, result.errors
    big = {c.code: c for c in result.courses}
    c = big["C19-001"]
    assert (c.delivery, c.area, c.status) == (Delivery.CLASSROOM, CompetencyArea.IT, CourseStatus.NEW)
    assert c.target_grades == {"7급", "8급", "9급"}
    assert c.target_organisations == {OrganisationType.CITY_HQ, OrganisationType.DISTRICT}
    assert c.prerequisites == ("E19-001",)
    assert [s.number for s in c.sessions] == [1, 2, 3]
    assert c.sessions[2].start == date(2019, 10, 7) and c.seats == 85 == c.planned_seats
    assert c.planned_sessions == 3
    assert big["L19-001"].sessions == () and big["L19-001"].planned_seats == 250
    assert [c.code for c in result.courses] == ["E19-001", "C19-001", "L19-001"]


def test_every_bad_row_reported_with_line_and_nothing_returned():
    result = validate(
        "2019,C1,과정1,집합,직무,신설,,,2,,,,1,2019-03-04,2019-03-05,30,\r\n"
        "2019,C1,과정1,이러닝,직무,신설,,,2,,,,2,2019-03-11,2019-03-12,30,\r\n"      # line 3: delivery differs
        "2019,C2,과정2,버스,직무,신설,,,2,,,,1,2019-02-30,2019-03-01,0,\r\n"           # line 4: 3 bad cells
        "2019,C3,과정3,집합,직무,신설,10급,,2,,C1,,1,2019-03-08,2019-03-07,30,\r\n"     # line 5
        "2019,C4,과정4,집합,직무,신설,,,,,,,1,2018-12-03,2018-12-04,30,\r\n"           # line 6: no duration, year
        "2019,C5,과정5,집합,직무,신설,,,2,,,,1,2019-03-04,2019-03-05,30,\r\n"
        "2019,C5,과정5,집합,직무,신설,,,2,,,,1,2019-04-01,2019-04-02,30,\r\n"          # line 8: duplicate no.
        "2019,C 6,과정6,집합,직무,신설,,,2,,,,1,2019-03-04,2019-03-05,30,\r\n"         # line 9: bad code
    )
    assert not result.ok and result.courses == ()
    found = {(e.line, e.field) for e in result.errors}
    assert (3, "delivery") in found
    assert {(4, "delivery"), (4, "start_date"), (4, "capacity")} <= found
    assert {(5, "target_grades"), (5, "end_date"), (5, "prerequisites")} <= found
    assert {(6, "duration_days"), (6, "start_date")} <= found
    assert (8, "session_no") in found and (9, "course_code") in found
    assert [e.line for e in result.errors] == sorted(e.line for e in result.errors)
    bad = next(e for e in result.errors if (e.line, e.field) == (4, "delivery"))
    assert bad.reason_ko.startswith("교육방식:") and "집합" in bad.reason_ko and bad.value == "버스"
    assert bad.reason_en.startswith("Delivery:")
    prereq = next(e for e in result.errors if e.field == "prerequisites")
    assert "이러닝" in prereq.reason_ko


def test_planned_totals_must_match_sessions_and_required_fields():
    result = validate(
        "2019,C1,과정1,집합,직무,신설,,,2,,,99,1,2019-03-04,2019-03-05,30,\r\n"
        "2019,C2,,집합,직무,,,,2,,,,1,2019-03-04,2019-03-05,30,\r\n"
        "2019,C3,과정3,집합,직무,신설,,,2,,,,,,,,\r\n"
        "2019,C4,과정4,집합,직무,신설,,,2,,,,1,,2019-03-05,,\r\n"
    )
    found = {(e.line, e.field) for e in result.errors}
    assert {(2, "planned_seats"), (3, "name_ko"), (3, "status"), (4, "planned_sessions"),
            (4, "planned_seats"), (5, "start_date"), (5, "capacity")} <= found


def test_unknown_prerequisite_and_self_reference():
    result = validate(
        "2019,C1,과정1,집합,직무,신설,,,2,,\"C1, E9\",,1,2019-03-04,2019-03-05,30,\r\n")
    reasons = sorted(e.reason_en for e in result.errors)
    assert any("itself" in r for r in reasons) and any("E9" in r for r in reasons)


def test_first_row_without_code():
    result = validate(",,,,,,,,,,,,1,2019-03-04,2019-03-05,30,\r\n")
    assert [(e.line, e.field) for e in result.errors] == [(2, "course_code")]
