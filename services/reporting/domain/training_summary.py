"""교육훈련 총괄표 (training summary): courses and seats by delivery mode, year over year, by change type.

Input is the catalogue as the read model learnt it from events: one ``CoursePlanRow`` per course
and plan year. Rules:

* A course counts in its year's totals unless it is merged/replaced/abolished: those rows record
  a *previous* year's course retired by this plan (the seed: 123 + 22 − 20 = 125), so they only
  count in the change-type table.
* The previous year comes from the read model when it holds any course for that year, otherwise
  from the seed (``reference.catalogue_totals``), e.g. 2018 for the 2019 plan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from . import reference
from .reference import CatalogueTotals, CoursesAndSeats
from .vocabulary import (
    CHANGE_TYPE_LABEL_KO,
    DELIVERY_LABEL_KO,
    TOTAL_LABEL_KO,
    ChangeType,
    Delivery,
    change_type_of,
    parse_delivery,
)

SOURCE_READ_MODEL = "read_model"


@dataclass(frozen=True, slots=True)
class CoursePlanRow:
    """One course of one plan year, as announced by the enrollment service's catalogue events."""

    year: int
    course_code: str
    delivery: Delivery | str
    status: ChangeType | str | None  # catalogue status: new / improved / continuing / merged / abolished …
    planned_seats: int
    planned_sessions: int = 0
    name_ko: str = ""
    competency_area: str | None = None

    def __post_init__(self) -> None:
        if self.planned_seats < 0 or self.planned_sessions < 0:
            raise ValueError(f"{self.course_code}: planned seats and sessions cannot be negative")

    @property
    def delivery_mode(self) -> Delivery:
        return parse_delivery(self.delivery)

    @property
    def change_type(self) -> ChangeType:
        return change_type_of(self.status)

    @property
    def is_active(self) -> bool:
        """Run in this plan year (i.e. not a retired course listed for the change table)."""
        return self.change_type is not ChangeType.MERGED_REPLACED_ABOLISHED


@dataclass(frozen=True, slots=True)
class SummaryLine:
    """One line of the 총괄표: a delivery mode (or the total, ``delivery=None``)."""

    delivery: Delivery | None
    label_ko: str
    courses: int
    seats: int
    sessions: int
    previous: CoursesAndSeats | None  # previous year's figures, None when unknown
    change: CoursesAndSeats | None  # this year − previous year

    @property
    def current(self) -> CoursesAndSeats:
        return CoursesAndSeats(self.courses, self.seats)


@dataclass(frozen=True, slots=True)
class ChangeTypeLine:
    """Courses of one change type (과정 수) by delivery mode."""

    change_type: ChangeType
    label_ko: str
    classroom: int
    elearning: int

    @property
    def total(self) -> int:
        return self.classroom + self.elearning


@dataclass(frozen=True, slots=True)
class TrainingSummary:
    year: int
    previous_year: int
    previous_source: str | None  # "read_model", a seed source label, or None (no previous figures)
    classroom: SummaryLine
    elearning: SummaryLine
    total: SummaryLine
    change_types: tuple[ChangeTypeLine, ...]  # new, merged/replaced/abolished, improved, continuing
    reference: CatalogueTotals | None  # the seed's figures for ``year``, for comparison

    @property
    def lines(self) -> tuple[SummaryLine, SummaryLine, SummaryLine]:
        return (self.classroom, self.elearning, self.total)

    def change_type(self, change_type: ChangeType) -> ChangeTypeLine:
        return next(line for line in self.change_types if line.change_type is change_type)

    def reference_differences(self) -> list[str]:
        """Human-readable mismatches against the seed's figures for this year (empty = matches)."""
        if self.reference is None:
            return []
        differences = []
        for line, expected in zip(
            self.lines, (self.reference.classroom, self.reference.elearning, self.reference.total)
        ):
            for what, got, want in (("과정 수", line.courses, expected.courses), ("인원", line.seats, expected.seats)):
                if got != want:
                    differences.append(f"{self.year} {line.label_ko} {what}: 집계 {got:,} ≠ 계획서 {want:,}")
        for stated in reference.change_type_counts(self.year).values():
            line = self.change_type(stated.change_type)
            if (line.classroom, line.elearning) != (stated.classroom, stated.elearning):
                differences.append(
                    f"{self.year} {line.label_ko}: 집계 집합 {line.classroom}/e-러닝 {line.elearning}"
                    f" ≠ 계획서 {stated.classroom}/{stated.elearning}"
                )
        return differences

    def as_rows(self) -> list[dict[str, object]]:
        """Rows for the export/API (keys match ``adapters.report_columns.TRAINING_SUMMARY_COLUMNS``)."""
        return [
            {
                "year": self.year,
                "delivery": line.delivery.value if line.delivery else "total",
                "label_ko": line.label_ko,
                "courses": line.courses,
                "seats": line.seats,
                "sessions": line.sessions,
                "previous_year": self.previous_year,
                "previous_courses": line.previous.courses if line.previous else None,
                "previous_seats": line.previous.seats if line.previous else None,
                "change_courses": line.change.courses if line.change else None,
                "change_seats": line.change.seats if line.change else None,
            }
            for line in self.lines
        ]

    def change_type_rows(self) -> list[dict[str, object]]:
        return [
            {
                "year": self.year,
                "change_type": line.change_type.value,
                "label_ko": line.label_ko,
                "classroom": line.classroom,
                "elearning": line.elearning,
                "total": line.total,
            }
            for line in self.change_types
        ]


@dataclass(slots=True)
class _Tally:
    courses: int = 0
    seats: int = 0
    sessions: int = 0

    def add(self, row: CoursePlanRow) -> None:
        self.courses += 1
        self.seats += row.planned_seats
        self.sessions += row.planned_sessions

    @property
    def figures(self) -> CoursesAndSeats:
        return CoursesAndSeats(self.courses, self.seats)


def _tally_active(rows: Iterable[CoursePlanRow]) -> dict[Delivery, _Tally]:
    tallies = {Delivery.CLASSROOM: _Tally(), Delivery.ELEARNING: _Tally()}
    for row in rows:
        if row.is_active:
            tallies[row.delivery_mode].add(row)
    return tallies


def _previous_figures(
    previous_rows: list[CoursePlanRow], previous_year: int
) -> tuple[dict[Delivery | None, CoursesAndSeats] | None, str | None]:
    if any(row.is_active for row in previous_rows):
        tallies = _tally_active(previous_rows)
        by_mode: dict[Delivery | None, CoursesAndSeats] = {d: t.figures for d, t in tallies.items()}
        by_mode[None] = by_mode[Delivery.CLASSROOM] + by_mode[Delivery.ELEARNING]
        return by_mode, SOURCE_READ_MODEL
    seed = reference.catalogue_totals(previous_year)
    if seed is None:
        return None, None
    return {Delivery.CLASSROOM: seed.classroom, Delivery.ELEARNING: seed.elearning, None: seed.total}, seed.source


def build_training_summary(rows: Iterable[CoursePlanRow], year: int) -> TrainingSummary:
    """The 총괄표 for ``year`` from the catalogue rows (rows of other years are used for the previous year)."""
    previous_year = year - 1
    current_rows: list[CoursePlanRow] = []
    previous_rows: list[CoursePlanRow] = []
    for row in rows:
        if row.year == year:
            current_rows.append(row)
        elif row.year == previous_year:
            previous_rows.append(row)

    tallies = _tally_active(current_rows)
    previous, previous_source = _previous_figures(previous_rows, previous_year)

    def line(delivery: Delivery | None, tally: _Tally) -> SummaryLine:
        before = previous[delivery] if previous else None
        return SummaryLine(
            delivery=delivery,
            label_ko=DELIVERY_LABEL_KO[delivery] if delivery else TOTAL_LABEL_KO,
            courses=tally.courses,
            seats=tally.seats,
            sessions=tally.sessions,
            previous=before,
            change=tally.figures - before if before else None,
        )

    classroom, elearning = tallies[Delivery.CLASSROOM], tallies[Delivery.ELEARNING]
    total = _Tally(
        classroom.courses + elearning.courses, classroom.seats + elearning.seats, classroom.sessions + elearning.sessions
    )

    by_type = {t: {Delivery.CLASSROOM: 0, Delivery.ELEARNING: 0} for t in ChangeType}
    for row in current_rows:
        by_type[row.change_type][row.delivery_mode] += 1
    change_types = tuple(
        ChangeTypeLine(t, CHANGE_TYPE_LABEL_KO[t], counts[Delivery.CLASSROOM], counts[Delivery.ELEARNING])
        for t, counts in by_type.items()
    )

    return TrainingSummary(
        year=year,
        previous_year=previous_year,
        previous_source=previous_source,
        classroom=line(Delivery.CLASSROOM, classroom),
        elearning=line(Delivery.ELEARNING, elearning),
        total=line(None, total),
        change_types=change_types,
        reference=reference.catalogue_totals(year),
    )
