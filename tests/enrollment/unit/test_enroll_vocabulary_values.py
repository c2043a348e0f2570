from datetime import date, datetime

import pytest

from services.enrollment.domain.model import CompetencyArea, Delivery, OrganisationType
from services.enrollment.domain.values import normalise_email, normalise_mobile, parse_date, parse_int
from services.enrollment.domain.vocabulary import (
    infer_organisation_type, normalise_grade, normalise_job_series, parse_grade_targets,
)


@pytest.mark.parametrize("text,expected", [
    ("7급", "7급"), ("7", "7급"), (7, "7급"), (7.0, "7급"), ("행정7급", "7급"), ("지방행정주사보(7급)", "7급"),
    ("행정주사보", "7급"), ("행정주사", "6급"), ("서기보", "9급"), ("서기", "8급"), ("서기관", "4급"),
    ("부이사관", "3급"), ("이사관", "2급"), ("시설사무관", "5급"), ("Grade 5", "5급"), ("G9", "9급"),
    ("일반임기제 6호", "임기제"), ("시간선택제임기제", "임기제"), ("실무관", "실무관"),
    ("보건연구사", "연구사"), ("농촌지도관", "지도관"), ("전문경력관 가군", "전문경력관"),
    ("10급", None), ("대리", None), ("", None), (None, None),
])
def test_normalise_grade(text, expected):
    assert normalise_grade(text) == expected


def test_grade_targets_ranges_and_unknowns():
    grades, unknown = parse_grade_targets("7~9급, 임기제; 3급·4급, 사원")
    assert grades == {"3급", "4급", "7급", "8급", "9급", "임기제"}
    assert unknown == ["사원"]


def test_job_series():
    assert normalise_job_series(" 행정 직 ") == "행정"
    assert normalise_job_series("토목직렬") == "토목"
    assert normalise_job_series("기술직군") == "기술직군"


@pytest.mark.parametrize("name,expected", [
    ("종로구", OrganisationType.DISTRICT), ("서울특별시 강남구 총무과", OrganisationType.DISTRICT),
    ("중구청", OrganisationType.DISTRICT), ("서울특별시 행정국", OrganisationType.CITY_HQ),
    ("서울시 인재개발원", OrganisationType.CITY_HQ), ("서울교통공사", None), ("", None),
])
def test_infer_organisation_type(name, expected):
    assert infer_organisation_type(name) is expected


def test_enum_labels():
    assert Delivery.parse("e-러닝") is Delivery.ELEARNING
    assert Delivery.parse("집합") is Delivery.CLASSROOM
    assert CompetencyArea.parse("it") is CompetencyArea.IT
    assert OrganisationType.parse("투자 출연기관") is OrganisationType.INVESTED_INSTITUTION
    assert OrganisationType.parse("타시도") is OrganisationType.OTHER_CITY
    assert Delivery.CLASSROOM == "classroom" and Delivery.CLASSROOM.label_en == "Classroom"


@pytest.mark.parametrize("value", [
    "2019-03-04", "2019.03.04", "2019. 3. 4.", "2019/3/4", "20190304", 20190304, "2019년 3월 4일",
    "2019-03-04 00:00:00", datetime(2019, 3, 4, 0, 0), date(2019, 3, 4), 43528, 43528.0,
])
def test_parse_date_formats(value):
    assert parse_date(value) == date(2019, 3, 4)


@pytest.mark.parametrize("value", ["2019-02-30", "03/04/2019", "내일", "", "2019-3", 2019, 3.5])
def test_parse_date_rejects(value):
    with pytest.raises(ValueError):
        parse_date(value)


@pytest.mark.parametrize("value,expected", [
    ("010-1234-5678", "010-1234-5678"), ("01012345678", "010-1234-5678"), ("010 1234 5678", "010-1234-5678"),
    ("+82 10-1234-5678", "010-1234-5678"), (1012345678, "010-1234-5678"), (1012345678.0, "010-1234-5678"),
    ("011-123-4567", "011-123-4567"), ("010.1234.5678", "010-1234-5678"),
])
def test_normalise_mobile(value, expected):
    assert normalise_mobile(value) == expected


@pytest.mark.parametrize("value", ["02-123-4567", "010-123-456", "0101234567", "abc"])
def test_normalise_mobile_rejects(value):
    with pytest.raises(ValueError):
        normalise_mobile(value)


def test_parse_int_and_email():
    assert parse_int("1,000명") == 1000 and parse_int(30.0) == 30
    with pytest.raises(ValueError):
        parse_int("3.5")
    with pytest.raises(ValueError):
        parse_int("0", minimum=1)
    assert normalise_email(" Kim.Seoul@Seoul.GO.KR ") == "Kim.Seoul@seoul.go.kr"
    with pytest.raises(ValueError):
        normalise_email("kim@seoul")
