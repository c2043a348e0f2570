"""교육훈련 총괄표 built from catalogue rows."""

import csv
from pathlib import Path

import pytest

from services.reporting.domain import reference
from services.reporting.domain.reference import CoursesAndSeats
from services.reporting.domain.training_summary import SOURCE_READ_MODEL, CoursePlanRow, build_training_summary
from services.reporting.domain.vocabulary import ChangeType, Delivery, change_type_of, parse_delivery


def test_synthetic_2019_plan_matches_the_seed(plan_2019) -> None:
    summary = build_training_summary(plan_2019, 2019)
    assert (summary.total.courses, summary.total.seats) == (239, 198_999)
    assert (summary.classroom.courses, summary.classroom.seats) == (125, 22_829)
    assert (summary.elearning.courses, summary.elearning.seats) == (114, 176_170)
    assert summary.total.sessions == 239
    assert summary.reference_differences() == []


def test_previous_year_falls_back_to_seed_2018(plan_2019) -> None:
    summary = build_training_summary(plan_2019, 2019)
    assert summary.previous_year == 2018
    assert summary.previous_source == reference.CATALOGUE_2018.source
    assert summary.total.previous == CoursesAndSeats(229, 168_350)
    assert summary.total.change == CoursesAndSeats(10, 30_649)
    assert summary.classroom.change == CoursesAndSeats(2, 3_809)
    assert summary.elearning.change == CoursesAndSeats(8, 26_840)
    assert summary.total.change == reference.STATED_CHANGE_2018_TO_2019.total


def test_change_type_counts(plan_2019) -> None:
    summary = build_training_summary(plan_2019, 2019)
    got = {line.change_type: (line.classroom, line.elearning, line.total) for line in summary.change_types}
    assert got == {
        ChangeType.NEW: (22, 24, 46),
        ChangeType.MERGED_REPLACED_ABOLISHED: (20, 16, 36),
        ChangeType.IMPROVED: (81, 13, 94),
        ChangeType.CONTINUING: (22, 77, 99),
    }
    assert [r["label_ko"] for r in summary.change_type_rows()] == ["신설", "통합·대체·폐지", "개선", "계속"]


def test_previous_year_from_read_model_when_present(plan_2019) -> None:
    rows_2018 = [CoursePlanRow(2018, f"O{i}", "classroom", "continuing", s) for i, s in enumerate([100] * 10)]
    summary = build_training_summary(plan_2019 + rows_2018, 2019)
    assert summary.previous_source == SOURCE_READ_MODEL
    assert summary.classroom.previous == CoursesAndSeats(10, 1000)
    assert summary.elearning.previous == CoursesAndSeats(0, 0)
    assert summary.total.change == CoursesAndSeats(229, 197_999)


def test_year_without_any_previous_figures() -> None:
    summary = build_training_summary([CoursePlanRow(2030, "A", "e-러닝", "new", 50)], 2030)
    assert summary.previous_source is None and summary.total.previous is None and summary.total.change is None
    assert summary.elearning.seats == 50 and summary.reference is None
    assert summary.reference_differences() == []


def test_differences_against_seed_are_reported(plan_2019) -> None:
    one_short = [r for r in plan_2019 if r.course_code != "C000"]
    differences = build_training_summary(one_short, 2019).reference_differences()
    assert any("집합 과정 수: 집계 124 ≠ 계획서 125" in d for d in differences)
    assert any(d.startswith("2019 신설") for d in differences)


def test_rows_for_export(plan_2019) -> None:
    rows = build_training_summary(plan_2019, 2019).as_rows()
    assert [(r["label_ko"], r["courses"], r["seats"], r["change_seats"]) for r in rows] == [
        ("집합", 125, 22_829, 3_809),
        ("e-러닝", 114, 176_170, 26_840),
        ("계", 239, 198_999, 30_649),
    ]


def test_vocabulary_parsers() -> None:
    assert parse_delivery("e-learning") is Delivery.ELEARNING and parse_delivery("집합") is Delivery.CLASSROOM
    assert change_type_of("merged_or_replaced") is ChangeType.MERGED_REPLACED_ABOLISHED
    assert change_type_of(None) is ChangeType.CONTINUING
    for bad_delivery in ("unknown", "blended", None):
        with pytest.raises(ValueError):
            parse_delivery(bad_delivery)
    with pytest.raises(ValueError):
        change_type_of("postponed")
    with pytest.raises(ValueError):
        CoursePlanRow(2019, "X", "classroom", "new", -1)


def test_every_status_in_the_seed_csv_is_understood() -> None:
    path = Path(__file__).parents[3] / "services/enrollment/data/courses-2019.csv"
    if not path.exists():
        pytest.skip("enrollment's seed CSV not present")
    with path.open(encoding="utf-8-sig") as f:
        statuses = {row["status_2019"] for row in csv.DictReader(f)}
    assert {change_type_of(s) for s in statuses} <= set(ChangeType)


def test_synthetic_helper_keeps_retired_rows_out_of_totals(make_plan) -> None:
    rows = make_plan(2019, "classroom", {"new": 2, "abolished": 1}, 10, "T")
    summary = build_training_summary(rows, 2019)
    assert (summary.classroom.courses, summary.classroom.seats) == (2, 10)
