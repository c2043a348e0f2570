"""계획/실적 (plan vs actual trainees) by year, by course and by competency area.

Definitions:

* **planned (계획)** = the planned seats of the year's active courses in the catalogue read model
  (the same rule as the 총괄표, so 2019 plans 198,999).
* **actual (실적)** = by default ``completed`` (수료 인원): a trainee counts once the training is
  done, which is how a year's result is reported after the fact. ``ActualMeasure.ENROLLED`` gives
  seats taken so far (confirmed and beyond, not cancelled), which is the useful figure during the
  year. Both are always returned; ``actual`` is the chosen one.
* Years the read model has never seen ('17, '18) come from the seed (``reference.PLAN_VS_ACTUAL_HISTORY``);
  for years it has, the seed's figures are given alongside as ``reference_planned``/``reference_actual``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from . import reference
from .rollup import CounterTotals
from .training_summary import SOURCE_READ_MODEL, CoursePlanRow
from .vocabulary import area_label_ko

UNKNOWN_COURSE_LABEL = "(카탈로그에 없는 과정 / not in catalogue)"


class ActualMeasure(StrEnum):
    COMPLETED = "completed"  # 수료
    ENROLLED = "enrolled"  # 수강확정 (confirmed, attended, no_show, completed, failed)


@dataclass(frozen=True, slots=True)
class PlanVsActualLine:
    year: int
    key: str  # the year, a course code or a competency area
    label: str
    planned: int | None
    actual: int | None
    enrolled: int | None
    completed: int | None
    source: str  # "read_model" or the seed's source label
    reference_planned: int | None = None
    reference_actual: int | None = None

    @property
    def achievement_rate(self) -> float | None:
        """실적/계획; None when either is unknown or nothing was planned."""
        if self.actual is None or not self.planned:
            return None
        return self.actual / self.planned

    def as_row(self) -> dict[str, object]:
        """Row for the export/API (keys match ``adapters.report_columns.PLAN_VS_ACTUAL_COLUMNS``)."""
        rate = self.achievement_rate
        return {
            "year": self.year,
            "key": self.key,
            "label": self.label,
            "planned": self.planned,
            "actual": self.actual,
            "achievement_rate": None if rate is None else round(rate * 100, 1),
            "enrolled": self.enrolled,
            "completed": self.completed,
            "reference_planned": self.reference_planned,
            "reference_actual": self.reference_actual,
            "source": self.source,
        }


def _measure(totals: CounterTotals, measure: ActualMeasure) -> int:
    return totals.completed if measure is ActualMeasure.COMPLETED else totals.enrolled


def plan_vs_actual_by_year(
    courses: Iterable[CoursePlanRow],
    year_totals: Mapping[int, CounterTotals],
    *,
    measure: ActualMeasure = ActualMeasure.COMPLETED,
    include_history: bool = True,
) -> list[PlanVsActualLine]:
    """One line per year, oldest first.

    ``year_totals`` are the read model's year rows (dimension ``total``). A year with active courses
    in the catalogue is reported from the read model; otherwise from the seed when
    ``include_history`` (then ``enrolled``/``completed`` are None: the seed only has totals).
    """
    planned: dict[int, int] = {}
    for row in courses:
        if row.is_active:
            planned[row.year] = planned.get(row.year, 0) + row.planned_seats

    years = set(planned) | set(year_totals)
    if include_history:
        years |= set(reference.PLAN_VS_ACTUAL_HISTORY)

    lines = []
    for year in sorted(years):
        seed = reference.plan_actual_figure(year)
        if year in planned or year in year_totals:
            totals = year_totals.get(year, CounterTotals())
            lines.append(
                PlanVsActualLine(
                    year=year,
                    key=str(year),
                    label=f"{year}년",
                    planned=planned.get(year),
                    actual=_measure(totals, measure),
                    enrolled=totals.enrolled,
                    completed=totals.completed,
                    source=SOURCE_READ_MODEL,
                    reference_planned=seed.planned if seed else None,
                    reference_actual=seed.actual if seed else None,
                )
            )
        elif seed is not None:
            lines.append(
                PlanVsActualLine(
                    year=year,
                    key=str(year),
                    label=f"{year}년",
                    planned=seed.planned,
                    actual=seed.actual,
                    enrolled=None,
                    completed=None,
                    source=seed.source,
                    reference_planned=seed.planned,
                    reference_actual=seed.actual,
                )
            )
    return lines


def _grouped(
    courses: Iterable[CoursePlanRow],
    totals_by_key: Mapping[str, CounterTotals],
    year: int,
    measure: ActualMeasure,
    key_of: Callable[[CoursePlanRow], str],
    label_of: Callable[[CoursePlanRow], str],
    label_when_unplanned: Callable[[str], str],
) -> list[PlanVsActualLine]:
    planned: dict[str, int] = {}
    labels: dict[str, str] = {}
    for row in courses:
        if row.year == year and row.is_active:
            key = key_of(row)
            planned[key] = planned.get(key, 0) + row.planned_seats
            labels.setdefault(key, label_of(row))
    lines = []
    # Keys with actuals but no planned course still get a line: they reveal a catalogue event the
    # read model missed, which reconciliation must see rather than have silently dropped.
    for key in sorted(set(planned) | set(totals_by_key)):
        totals = totals_by_key.get(key, CounterTotals())
        lines.append(
            PlanVsActualLine(
                year=year,
                key=key,
                label=labels.get(key) or label_when_unplanned(key),
                planned=planned.get(key),
                actual=_measure(totals, measure),
                enrolled=totals.enrolled,
                completed=totals.completed,
                source=SOURCE_READ_MODEL,
            )
        )
    return lines


def plan_vs_actual_by_course(
    courses: Iterable[CoursePlanRow],
    course_totals: Mapping[str, CounterTotals],
    year: int,
    *,
    measure: ActualMeasure = ActualMeasure.COMPLETED,
) -> list[PlanVsActualLine]:
    """One line per course code of ``year`` (``course_totals`` = the read model's course rows of that year)."""
    return _grouped(
        courses, course_totals, year, measure,
        key_of=lambda row: row.course_code,
        label_of=lambda row: row.name_ko or row.course_code,
        label_when_unplanned=lambda code: f"{code} {UNKNOWN_COURSE_LABEL}",
    )


def plan_vs_actual_by_area(
    courses: Iterable[CoursePlanRow],
    area_totals: Mapping[str, CounterTotals],
    year: int,
    *,
    measure: ActualMeasure = ActualMeasure.COMPLETED,
) -> list[PlanVsActualLine]:
    """One line per competency area (basic / leadership / job / it; ``unknown`` when not given)."""
    return _grouped(
        courses, area_totals, year, measure,
        key_of=lambda row: row.competency_area or "unknown",
        label_of=lambda row: area_label_ko(row.competency_area),
        label_when_unplanned=area_label_ko,
    )

