"""계획/실적 by year (with the seed's history), by course and by area."""

from services.reporting.domain import reference
from services.reporting.domain.plan_vs_actual import (
    ActualMeasure,
    plan_vs_actual_by_area,
    plan_vs_actual_by_course,
    plan_vs_actual_by_year,
)
from services.reporting.domain.rollup import CounterTotals
from services.reporting.domain.training_summary import SOURCE_READ_MODEL, CoursePlanRow


def test_history_rows_come_from_the_seed_when_read_model_is_empty() -> None:
    lines = plan_vs_actual_by_year([], {})
    assert [(l.year, l.planned, l.actual) for l in lines] == [
        (2017, 161_820, 206_820),
        (2018, 168_350, 180_347),
        (2019, 198_999, None),
    ]
    assert all(l.source == reference.SOURCE_PLAN_ACTUAL for l in lines)
    assert lines[0].achievement_rate == 206_820 / 161_820
    assert lines[2].achievement_rate is None
    assert lines[1].as_row()["achievement_rate"] == 107.1


def test_2019_from_read_model_next_to_seed_history(plan_2019) -> None:
    totals = {2019: CounterTotals(enrolled=1_200, completed=300)}
    lines = plan_vs_actual_by_year(plan_2019, totals)
    assert [l.year for l in lines] == [2017, 2018, 2019]
    y2019 = lines[-1]
    assert y2019.source == SOURCE_READ_MODEL
    assert (y2019.planned, y2019.actual, y2019.enrolled, y2019.completed) == (198_999, 300, 1_200, 300)
    assert (y2019.reference_planned, y2019.reference_actual) == (198_999, None)
    enrolled = plan_vs_actual_by_year(plan_2019, totals, measure=ActualMeasure.ENROLLED, include_history=False)
    assert [(l.year, l.actual) for l in enrolled] == [(2019, 1_200)]


def test_year_with_enrollments_but_no_catalogue_is_still_shown() -> None:
    lines = plan_vs_actual_by_year([], {2020: CounterTotals(enrolled=3, completed=1)}, include_history=False)
    assert [(l.year, l.planned, l.actual, l.achievement_rate) for l in lines] == [(2020, None, 1, None)]


def test_by_course_excludes_retired_and_keeps_orphans() -> None:
    courses = [
        CoursePlanRow(2019, "C1", "classroom", "new", 300, 2, name_ko="공직자 남북교류 협력", competency_area="basic"),
        CoursePlanRow(2019, "C2", "classroom", "improved", 60, 2, name_ko="서울이해", competency_area="basic"),
        CoursePlanRow(2019, "C3", "classroom", "abolished", 40, name_ko="리더의 꿈 만들기"),
        CoursePlanRow(2018, "C1", "classroom", "continuing", 999),
    ]
    totals = {"C1": CounterTotals(enrolled=280, completed=250), "ZZ": CounterTotals(enrolled=1)}
    lines = plan_vs_actual_by_course(courses, totals, 2019)
    assert [(l.key, l.label, l.planned, l.actual) for l in lines] == [
        ("C1", "공직자 남북교류 협력", 300, 250),
        ("C2", "서울이해", 60, 0),
        ("ZZ", "ZZ (카탈로그에 없는 과정 / not in catalogue)", None, 0),
    ]


def test_by_area(plan_2019) -> None:
    extra = [CoursePlanRow(2019, "L1", "classroom", "new", 20, competency_area="leadership")]
    lines = plan_vs_actual_by_area(
        plan_2019 + extra, {"job": CounterTotals(enrolled=10, completed=4), "it": CounterTotals(enrolled=2)}, 2019,
        measure=ActualMeasure.ENROLLED,
    )
    assert [(l.key, l.label, l.planned, l.actual) for l in lines] == [
        ("it", "IT역량", None, 2),
        ("job", "직무역량", 198_999, 10),
        ("leadership", "리더십역량", 20, 0),
    ]
