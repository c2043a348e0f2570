"""The seed's reference figures: exact values and the seed's own arithmetic."""

from services.reporting.domain import reference as ref
from services.reporting.domain.reference import CoursesAndSeats
from services.reporting.domain.vocabulary import ChangeType, Delivery


def test_catalogue_figures_are_copied_exactly() -> None:
    assert ref.CATALOGUE_2018.total == CoursesAndSeats(229, 168_350)
    assert ref.CATALOGUE_2018.classroom == CoursesAndSeats(123, 19_020)
    assert ref.CATALOGUE_2018.elearning == CoursesAndSeats(106, 149_330)
    assert ref.CATALOGUE_2019.total == CoursesAndSeats(239, 198_999)
    assert ref.CATALOGUE_2019.classroom == CoursesAndSeats(125, 22_829)
    assert ref.CATALOGUE_2019.elearning == CoursesAndSeats(114, 176_170)
    change = ref.STATED_CHANGE_2018_TO_2019
    assert (change.total, change.classroom, change.elearning) == (
        CoursesAndSeats(10, 30_649),
        CoursesAndSeats(2, 3_809),
        CoursesAndSeats(8, 26_840),
    )


def test_seed_figures_are_internally_consistent() -> None:
    for totals in ref.CATALOGUE_TOTALS.values():
        assert totals.classroom + totals.elearning == totals.total
        assert totals.by_delivery(Delivery.CLASSROOM) is totals.classroom
    change = ref.STATED_CHANGE_2018_TO_2019
    for mode in ("classroom", "elearning", "total"):
        assert getattr(ref.CATALOGUE_2019, mode) - getattr(ref.CATALOGUE_2018, mode) == getattr(change, mode)
    new = ref.CHANGE_TYPES_2019[ChangeType.NEW]
    gone = ref.CHANGE_TYPES_2019[ChangeType.MERGED_REPLACED_ABOLISHED]
    # 123 + 22 − 20 = 125 and 106 + 24 − 16 = 114: retired courses are outside the 239.
    assert ref.CATALOGUE_2018.classroom.courses + new.classroom - gone.classroom == 125
    assert ref.CATALOGUE_2018.elearning.courses + new.elearning - gone.elearning == 114


def test_change_types_2019() -> None:
    counts = {t: (c.classroom, c.elearning, c.total) for t, c in ref.change_type_counts(2019).items()}
    assert counts == {
        ChangeType.NEW: (22, 24, 46),
        ChangeType.MERGED_REPLACED_ABOLISHED: (20, 16, 36),
        ChangeType.IMPROVED: (81, 13, 94),
    }
    assert all(c.classroom + c.elearning == c.total for c in ref.CHANGE_TYPES_2019.values())
    assert ref.change_type_counts(2018) == {}


def test_plan_vs_actual_history() -> None:
    assert [(f.year, f.planned, f.actual) for f in ref.PLAN_VS_ACTUAL_HISTORY.values()] == [
        (2017, 161_820, 206_820),
        (2018, 168_350, 180_347),
        (2019, 198_999, None),
    ]
    assert ref.plan_actual_figure(2018).planned == ref.CATALOGUE_2018.total.seats
    assert ref.plan_actual_figure(2016) is None


def test_every_figure_names_its_source() -> None:
    figures = [
        *ref.CATALOGUE_TOTALS.values(),
        ref.STATED_CHANGE_2018_TO_2019,
        *ref.CHANGE_TYPES_2019.values(),
        *ref.PLAN_VS_ACTUAL_HISTORY.values(),
    ]
    assert all(f.source.startswith("seed 000_c3da4070ea0df5d9.txt") for f in figures)
