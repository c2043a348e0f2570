"""The 2019 plan's own reference figures (기준 수치), copied exactly from the seed.

Reports compare the read model against these figures figure by figure, and fall back to them
for years the read model has never seen (e.g. 2018, which predates the platform).
Every figure carries the place in the seed it was copied from; nothing here is computed.

Seed: ``000_c3da4070ea0df5d9.txt`` (copy: ``shared/domain/plan-2019.ko.txt``), section
"4 교육훈련 과정개요 □ 교육훈련과정"; English brief: ``shared/domain/plan-2019.md`` §4.
"""

from __future__ import annotations

from dataclasses import dataclass

from .vocabulary import ChangeType, Delivery

SEED = "seed 000_c3da4070ea0df5d9.txt (2019년 인재개발원 교육훈련계획(안), 인재기획과-15195)"

SOURCE_CATALOGUE_TABLE = f"{SEED}, 4 교육훈련 과정개요 □ 교육훈련과정: 2018년도/2019년도 비교표 (brief §4)"
SOURCE_CATALOGUE_HEADLINE = (
    f"{SEED}, □ 교육훈련과정 : 239개 과정, 198,999명 (전년대비 증 10개 과정, +30,649명); "
    "집합·e-러닝 행 (brief §4)"
)
SOURCE_CHANGE_TYPES = f"{SEED}, □ 교육훈련과정 집합·e-러닝 행 및 〈신설/통합·대체·폐지/개선과정〉 (brief §4)"
SOURCE_PLAN_ACTUAL = f"{SEED}, 각주 1) 교육 계획/실적 인원 (brief §4 'Plan vs actual trainees')"


@dataclass(frozen=True, slots=True)
class CoursesAndSeats:
    """A (과정 수, 인원) pair; also used for signed changes."""

    courses: int
    seats: int

    def __add__(self, other: CoursesAndSeats) -> CoursesAndSeats:
        return CoursesAndSeats(self.courses + other.courses, self.seats + other.seats)

    def __sub__(self, other: CoursesAndSeats) -> CoursesAndSeats:
        return CoursesAndSeats(self.courses - other.courses, self.seats - other.seats)


@dataclass(frozen=True, slots=True)
class CatalogueTotals:
    """교육훈련과정 총괄: courses and seats by delivery mode for one plan year."""

    year: int
    classroom: CoursesAndSeats
    elearning: CoursesAndSeats
    total: CoursesAndSeats
    source: str

    def by_delivery(self, delivery: Delivery) -> CoursesAndSeats:
        return self.classroom if delivery is Delivery.CLASSROOM else self.elearning


@dataclass(frozen=True, slots=True)
class CatalogueChange:
    """The year-over-year change exactly as the seed states it (증 N개 과정, +M명)."""

    from_year: int
    to_year: int
    classroom: CoursesAndSeats
    elearning: CoursesAndSeats
    total: CoursesAndSeats
    source: str


@dataclass(frozen=True, slots=True)
class ChangeTypeCount:
    """Number of courses of one change type, by delivery mode (과정 수)."""

    change_type: ChangeType
    classroom: int
    elearning: int
    total: int
    source: str


@dataclass(frozen=True, slots=True)
class PlanActualFigure:
    """교육 계획/실적 인원 for one year; ``actual`` is None where the seed has no figure yet."""

    year: int
    planned: int
    actual: int | None
    source: str


CATALOGUE_2018 = CatalogueTotals(
    year=2018,
    classroom=CoursesAndSeats(courses=123, seats=19_020),
    elearning=CoursesAndSeats(courses=106, seats=149_330),
    total=CoursesAndSeats(courses=229, seats=168_350),
    source=SOURCE_CATALOGUE_TABLE,
)

CATALOGUE_2019 = CatalogueTotals(
    year=2019,
    classroom=CoursesAndSeats(courses=125, seats=22_829),
    elearning=CoursesAndSeats(courses=114, seats=176_170),
    total=CoursesAndSeats(courses=239, seats=198_999),
    source=SOURCE_CATALOGUE_HEADLINE,
)

CATALOGUE_TOTALS: dict[int, CatalogueTotals] = {t.year: t for t in (CATALOGUE_2018, CATALOGUE_2019)}

STATED_CHANGE_2018_TO_2019 = CatalogueChange(
    from_year=2018,
    to_year=2019,
    classroom=CoursesAndSeats(courses=2, seats=3_809),
    elearning=CoursesAndSeats(courses=8, seats=26_840),
    total=CoursesAndSeats(courses=10, seats=30_649),
    source=SOURCE_CATALOGUE_HEADLINE,
)

# 2019 과정 개편 내역. The 36 merged/replaced/abolished courses are 2018 courses that are NOT
# part of the 239 (123 + 22 − 20 = 125, 106 + 24 − 16 = 114).
CHANGE_TYPES_2019: dict[ChangeType, ChangeTypeCount] = {
    c.change_type: c
    for c in (
        ChangeTypeCount(ChangeType.NEW, classroom=22, elearning=24, total=46, source=SOURCE_CHANGE_TYPES),
        ChangeTypeCount(
            ChangeType.MERGED_REPLACED_ABOLISHED, classroom=20, elearning=16, total=36, source=SOURCE_CHANGE_TYPES
        ),
        ChangeTypeCount(ChangeType.IMPROVED, classroom=81, elearning=13, total=94, source=SOURCE_CHANGE_TYPES),
    )
}
CHANGE_TYPES: dict[int, dict[ChangeType, ChangeTypeCount]] = {2019: CHANGE_TYPES_2019}

# 교육 계획/실적 인원: '17년(161,820명/206,820명) → '18년(168,350명/180,347명) → '19년(198,999명).
# In the seed this footnote hangs off the 집합 line, but its figures are whole-catalogue totals
# (168,350 = the 2018 total of all 229 courses), so they are treated as totals.
PLAN_VS_ACTUAL_HISTORY: dict[int, PlanActualFigure] = {
    f.year: f
    for f in (
        PlanActualFigure(year=2017, planned=161_820, actual=206_820, source=SOURCE_PLAN_ACTUAL),
        PlanActualFigure(year=2018, planned=168_350, actual=180_347, source=SOURCE_PLAN_ACTUAL),
        PlanActualFigure(year=2019, planned=198_999, actual=None, source=SOURCE_PLAN_ACTUAL),
    )
}


def catalogue_totals(year: int) -> CatalogueTotals | None:
    """The seed's catalogue totals for ``year`` (2018 or 2019), or None."""
    return CATALOGUE_TOTALS.get(year)


def change_type_counts(year: int) -> dict[ChangeType, ChangeTypeCount]:
    """The seed's change-type counts for ``year`` (only 2019 is stated); empty if unknown."""
    return dict(CHANGE_TYPES.get(year, {}))


def plan_actual_figure(year: int) -> PlanActualFigure | None:
    """The seed's plan/actual trainee figure for ``year`` ('17, '18, '19), or None."""
    return PLAN_VS_ACTUAL_HISTORY.get(year)
