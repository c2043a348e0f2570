from datetime import date, datetime

import pytest

from services.enrollment.domain.model import OrganisationType
from services.enrollment.domain.trainee_rows import validate_trainee_row, validate_trainee_rows

GOOD = {"employee_no": "1001", "name": "김서울", "organisation": "서울특별시 종로구", "grade": "행정주사보",
        "job_series": "행정직", "email": "kim@SEOUL.go.kr", "mobile": "01012345678",
        "appointment_date": "2019.3.4", "accessibility_needs": "휠체어, 수어통역", "department": "총무과"}


def test_clean_row_is_normalised():
    t = validate_trainee_row(2, GOOD)
    assert t.organisation_type is OrganisationType.DISTRICT
    assert (t.grade, t.job_series, t.mobile, t.email) == ("7급", "행정", "010-1234-5678", "kim@seoul.go.kr")
    assert t.appointment_date == date(2019, 3, 4)
    assert t.accessibility_needs == ("휠체어", "수어통역")


def test_excel_typed_cells():
    row = dict(GOOD, employee_no=1001.0, grade=7, mobile=1012345678, appointment_date=datetime(2019, 3, 4))
    t = validate_trainee_row(2, row)
    assert (t.employee_no, t.grade, t.mobile, t.appointment_date) == ("1001", "7급", "010-1234-5678",
                                                                      date(2019, 3, 4))


def test_every_problem_in_a_row_is_reported():
    row = {"employee_no": "10 01", "name": "", "organisation": "서울교통공사", "grade": "대리",
           "email": "kim@", "mobile": "02-123-4567", "appointment_date": "3/4/2019"}
    errors = validate_trainee_row(7, row)
    assert {e.field for e in errors} == {"employee_no", "name", "organisation_type", "grade", "email",
                                         "mobile", "appointment_date"}
    assert all(e.line == 7 and e.reason_ko and e.reason_en for e in errors)
    mobile = next(e for e in errors if e.field == "mobile")
    assert mobile.reason_ko.startswith("휴대전화:") and mobile.value == "02-123-4567"


def test_explicit_organisation_type_wins():
    t = validate_trainee_row(2, dict(GOOD, organisation="서울교통공사", organisation_type="투자·출연기관"))
    assert t.organisation_type is OrganisationType.INVESTED_INSTITUTION
    errors = validate_trainee_row(2, dict(GOOD, organisation_type="우주"))
    assert errors[0].field == "organisation_type"


@pytest.mark.parametrize("grade", ["실무관", "일반임기제 6호", "9", "서기", "보건연구사"])
def test_grades_accepted(grade):
    assert not isinstance(validate_trainee_row(2, dict(GOOD, grade=grade)), list)


def test_duplicate_employee_numbers_in_a_file():
    rows = [(2, GOOD), (3, dict(GOOD, name="x", mobile="bad")), (4, dict(GOOD, employee_no="1002")), (5, GOOD)]
    results = list(validate_trainee_rows(rows))
    assert [r.ok for r in results] == [True, False, True, False]
    assert results[1].errors[0].field == "mobile"
    assert "2행" in results[3].errors[0].reason_ko and "line 2" in results[3].errors[0].reason_en
