"""Roll-up rules for the reporting read model (집계 규칙), fed by enrollment and catalogue events.

The read model keeps, per dimension row (year × dimension × value, see ``DimensionKey``), a set of
integer counters. Every rule here is a *state function difference*::

    deltas(previous, new) = contribution(new) − contribution(previous)

so for one enrollment the deltas of all its events telescope to ``contribution(current status)``.
Consequences the consumer relies on:

* **Commutative.** Deltas are plain integer additions, so events of different enrollments — and,
  when ``previous`` comes from the event payload, events of the *same* enrollment — can be applied
  in any order and still converge on the same counters. Out of order, a counter can dip below
  zero for a moment (a −1 before its +1), so the table must not CHECK counters ≥ 0.
* **Idempotency is the consumer's job, not ours.** Applying the same delta twice doubles it; the
  consumer dedupes by event id (inbox) in the same transaction that adds the deltas.
* **The previous status must be known.** The rule needs it either from the event payload
  (``previous_status``, preferred: keeps order-independence) or from the read model's
  per-enrollment row (then events of one enrollment must be applied in order, e.g. by a
  per-enrollment sequence number, and stale ones skipped).
* **Dimensions must be frozen per enrollment.** The same rows must receive the +1 and the later −1,
  so the consumer snapshots an enrollment's dimension values when it first sees it (or the event
  carries them) and reuses them for every later transition.

Counter definitions (an enrollment is counted by its *current* status):

============================  ==========================================================
counter                       statuses counted
============================  ==========================================================
requested                     requested (in flight: checks not yet done)
pending_prerequisite          pending_prerequisite
waitlisted                    waitlisted
enrolled (수강확정)           confirmed, attended, no_show, completed, failed — holds or held a
                              seat and was not cancelled
attended (출석)               attended, completed, failed — showed up (outcome may be pending)
no_show (불참)                no_show
completed (수료)              completed
failed (미수료)               failed
cancelled (취소)              cancelled (from any state; a cancelled seat leaves ``enrolled``)
============================  ==========================================================

Invariant: requested + pending_prerequisite + waitlisted + enrolled + cancelled = enrollments.
Pure Python on purpose: the import-linter contract keeps Flask/SQLAlchemy/Celery out of ``domain``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import NamedTuple


class EnrollmentStatus(StrEnum):
    REQUESTED = "requested"
    PENDING_PREREQUISITE = "pending_prerequisite"
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class RollupCounter(StrEnum):
    """Columns of a read-model dimension row. Values are meant to be used as column names."""

    PLANNED_SEATS = "planned_seats"
    REQUESTED = "requested"
    PENDING_PREREQUISITE = "pending_prerequisite"
    WAITLISTED = "waitlisted"
    ENROLLED = "enrolled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # Satisfaction is kept as an exact integer sum (score × 100) and a count, never as a float
    # average, so that additions commute exactly and the average is computed on read.
    SATISFACTION_SUM_X100 = "satisfaction_sum_x100"
    SATISFACTION_COUNT = "satisfaction_count"


_C = RollupCounter
_S = EnrollmentStatus

_COUNTED_AS: dict[EnrollmentStatus, frozenset[RollupCounter]] = {
    _S.REQUESTED: frozenset({_C.REQUESTED}),
    _S.PENDING_PREREQUISITE: frozenset({_C.PENDING_PREREQUISITE}),
    _S.WAITLISTED: frozenset({_C.WAITLISTED}),
    _S.CONFIRMED: frozenset({_C.ENROLLED}),
    _S.ATTENDED: frozenset({_C.ENROLLED, _C.ATTENDED}),
    _S.NO_SHOW: frozenset({_C.ENROLLED, _C.NO_SHOW}),
    _S.COMPLETED: frozenset({_C.ENROLLED, _C.ATTENDED, _C.COMPLETED}),
    _S.FAILED: frozenset({_C.ENROLLED, _C.ATTENDED, _C.FAILED}),
    _S.CANCELLED: frozenset({_C.CANCELLED}),
}

# Transitions the enrollment state machine is expected to emit (issue 3). Advisory only: the read
# model never rejects an event because of it (the enrollment service is the source of truth), a
# consumer may log the unexpected ones for reconciliation.
EXPECTED_TRANSITIONS: frozenset[tuple[EnrollmentStatus | None, EnrollmentStatus]] = frozenset(
    {
        (None, _S.REQUESTED),
        (_S.REQUESTED, _S.PENDING_PREREQUISITE),
        (_S.REQUESTED, _S.CONFIRMED),
        (_S.REQUESTED, _S.WAITLISTED),
        (_S.PENDING_PREREQUISITE, _S.CONFIRMED),
        (_S.PENDING_PREREQUISITE, _S.WAITLISTED),  # missed prerequisite deadline: seat released
        (_S.WAITLISTED, _S.CONFIRMED),  # promotion
        (_S.CONFIRMED, _S.ATTENDED),
        (_S.CONFIRMED, _S.NO_SHOW),
        (_S.ATTENDED, _S.COMPLETED),
        (_S.ATTENDED, _S.FAILED),
        # no_show is final: the state alone cannot tell "failed after attending" from "failed after
        # not showing", so a no_show → failed event would count the trainee as attended.
        *((open_state, _S.CANCELLED) for open_state in (_S.REQUESTED, _S.PENDING_PREREQUISITE, _S.CONFIRMED, _S.WAITLISTED)),
    }
)


class UnknownStatusError(ValueError):
    """An event carried a status this read model does not know (dead-letter it, do not guess)."""


def parse_status(value: EnrollmentStatus | str | None) -> EnrollmentStatus | None:
    if value is None or isinstance(value, EnrollmentStatus):
        return value
    try:
        return EnrollmentStatus(value)
    except ValueError:
        raise UnknownStatusError(f"unknown enrollment status: {value!r}") from None


def counters_for_status(status: EnrollmentStatus | str | None) -> frozenset[RollupCounter]:
    """The counters an enrollment in ``status`` is counted in (empty for None: not yet/no longer known)."""
    parsed = parse_status(status)
    return frozenset() if parsed is None else _COUNTED_AS[parsed]


def status_deltas(
    previous: EnrollmentStatus | str | None, new: EnrollmentStatus | str | None
) -> dict[RollupCounter, int]:
    """Counter deltas for one enrollment moving from ``previous`` to ``new`` (None = absent).

    Only non-zero entries are returned; ``previous == new`` gives ``{}``. Apply the result to every
    dimension row of the enrollment (``EnrollmentDimensions.keys()``).
    """
    before, after = counters_for_status(previous), counters_for_status(new)
    deltas = {counter: 1 for counter in after - before}
    deltas.update({counter: -1 for counter in before - after})
    return deltas


def is_expected_transition(previous: EnrollmentStatus | str | None, new: EnrollmentStatus | str) -> bool:
    return (parse_status(previous), parse_status(new)) in EXPECTED_TRANSITIONS


def planned_seats_deltas(previous_seats: int | None, new_seats: int | None) -> dict[RollupCounter, int]:
    """Delta for a course's planned seats (or a session's capacity) being created, changed or removed."""
    change = (new_seats or 0) - (previous_seats or 0)
    return {_C.PLANNED_SEATS: change} if change else {}


SATISFACTION_MAX = Decimal(100)


def _score_x100(score: Decimal | int | float | str) -> int:
    try:
        value = Decimal(str(score))
    except InvalidOperation:
        raise ValueError(f"satisfaction score is not a number: {score!r}") from None
    if not value.is_finite() or not Decimal(0) <= value <= SATISFACTION_MAX:
        raise ValueError(f"satisfaction score must be within 0..{SATISFACTION_MAX}: {score!r}")
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def score_x100(score: Decimal | int | float | str) -> int:
    """A survey score (0–100) as the exact integer the counters keep (score × 100, half up)."""
    return _score_x100(score)


def satisfaction_deltas(
    new_score: Decimal | int | float | str | None, previous_score: Decimal | int | float | str | None = None
) -> dict[RollupCounter, int]:
    """Deltas for a survey score (0–100, 2 decimals kept) being submitted, corrected or withdrawn.

    A 5-point Likert answer must be converted to 100 points by the sender; the scale is not guessed here.
    """
    before = (0, 0) if previous_score is None else (_score_x100(previous_score), 1)
    after = (0, 0) if new_score is None else (_score_x100(new_score), 1)
    deltas = {_C.SATISFACTION_SUM_X100: after[0] - before[0], _C.SATISFACTION_COUNT: after[1] - before[1]}
    return {counter: change for counter, change in deltas.items() if change}


def merge_deltas(*many: Mapping[RollupCounter, int]) -> dict[RollupCounter, int]:
    """Sum several delta dicts (e.g. a batch of events for the same rows), dropping zeros."""
    total: dict[RollupCounter, int] = {}
    for deltas in many:
        for counter, change in deltas.items():
            total[counter] = total.get(counter, 0) + change
    return {counter: change for counter, change in total.items() if change}


# --- dimension rows -------------------------------------------------------------------------------


class Dimension(StrEnum):
    TOTAL = "total"  # the whole year; value is ""
    COURSE = "course"
    SESSION = "session"
    COMPETENCY_AREA = "competency_area"
    DELIVERY = "delivery"
    ORGANISATION_TYPE = "organisation_type"
    GRADE = "grade"
    JOB_SERIES = "job_series"
    MONTH = "month"  # "01".."12", zero-padded so rows sort as text


class DimensionKey(NamedTuple):
    """Primary key of one read-model row: counters are kept per (year, dimension, value)."""

    year: int
    dimension: Dimension
    value: str


UNKNOWN = "unknown"  # value used when an optional dimension (e.g. job series) is missing


def _value(raw: object) -> str:
    text = "" if raw is None else str(raw).strip()
    return text or UNKNOWN


def _month_value(month: int | None) -> str:
    if month is None:
        return UNKNOWN
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1..12: {month!r}")
    return f"{month:02d}"


@dataclass(frozen=True, slots=True)
class CatalogueDimensions:
    """Dimensions a planned-seats delta is rolled up on (the catalogue has no trainee dimensions).

    Give ``session_id``/``month`` for a session capacity, leave them None for a course's planned
    seats; never both for the same seats, or the year row counts them twice.
    """

    year: int
    course_code: str
    competency_area: str | None
    delivery: str | None
    session_id: str | None = None
    month: int | None = None

    def keys(self) -> tuple[DimensionKey, ...]:
        if self.session_id is not None:
            keys = [DimensionKey(self.year, Dimension.SESSION, _value(self.session_id))]
            if self.month is not None:
                keys.append(DimensionKey(self.year, Dimension.MONTH, _month_value(self.month)))
            return tuple(keys)
        return (
            DimensionKey(self.year, Dimension.TOTAL, ""),
            DimensionKey(self.year, Dimension.COURSE, _value(self.course_code)),
            DimensionKey(self.year, Dimension.COMPETENCY_AREA, _value(self.competency_area)),
            DimensionKey(self.year, Dimension.DELIVERY, _value(self.delivery)),
        )


@dataclass(frozen=True, slots=True)
class EnrollmentDimensions:
    """The dimension values of one enrollment, snapshotted when the read model first sees it.

    ``month`` should be the month the training runs (session start), which is what shows the
    plan's March/September concentration (인사직후 3월·9월 집중); the enrollment request month
    would smear it. The consumer decides and documents which one it feeds.
    """

    year: int
    course_code: str
    session_id: str | None
    competency_area: str | None
    delivery: str | None
    organisation_type: str | None
    grade: str | None
    job_series: str | None
    month: int | None

    def keys(self) -> tuple[DimensionKey, ...]:
        y = self.year
        return (
            DimensionKey(y, Dimension.TOTAL, ""),
            DimensionKey(y, Dimension.COURSE, _value(self.course_code)),
            DimensionKey(y, Dimension.SESSION, _value(self.session_id)),
            DimensionKey(y, Dimension.COMPETENCY_AREA, _value(self.competency_area)),
            DimensionKey(y, Dimension.DELIVERY, _value(self.delivery)),
            DimensionKey(y, Dimension.ORGANISATION_TYPE, _value(self.organisation_type)),
            DimensionKey(y, Dimension.GRADE, _value(self.grade)),
            DimensionKey(y, Dimension.JOB_SERIES, _value(self.job_series)),
            DimensionKey(y, Dimension.MONTH, _month_value(self.month)),
        )


# --- reading the counters back --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CounterTotals:
    """The counters of one read-model row (or a sum of rows), with the derived rates."""

    planned_seats: int = 0
    requested: int = 0
    pending_prerequisite: int = 0
    waitlisted: int = 0
    enrolled: int = 0
    attended: int = 0
    no_show: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    satisfaction_sum_x100: int = 0
    satisfaction_count: int = 0

    @classmethod
    def from_mapping(cls, counters: Mapping[str, int]) -> CounterTotals:
        """Build from a row/dict keyed by counter name; unknown keys (ids, dimension columns) are ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{name: int(counters[name] or 0) for name in names if name in counters})

    def __add__(self, other: CounterTotals) -> CounterTotals:
        return CounterTotals(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def applied(self, deltas: Mapping[RollupCounter, int]) -> CounterTotals:
        """A copy with ``deltas`` added (what the consumer's UPDATE ... SET c = c + :d does)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        for counter, change in deltas.items():
            values[str(counter)] += change
        return CounterTotals(**values)

    @property
    def enrollments(self) -> int:
        """Every enrollment ever requested for the row, whatever its current status."""
        return self.requested + self.pending_prerequisite + self.waitlisted + self.enrolled + self.cancelled

    @property
    def completion_rate(self) -> float | None:
        """수료율 = completed / (completed + failed + no_show).

        Only enrollments whose outcome is final while holding a seat are in the denominator:
        cancellations gave the seat back before the session, and attended-but-not-yet-assessed
        ones have no outcome yet. None when nothing has a final outcome.
        """
        decided = self.completed + self.failed + self.no_show
        return self.completed / decided if decided else None

    @property
    def attendance_rate(self) -> float | None:
        """출석률 = attended / (attended + no_show)."""
        expected = self.attended + self.no_show
        return self.attended / expected if expected else None

    @property
    def satisfaction_average(self) -> Decimal | None:
        """만족도 평균 (0–100, two decimals), or None without any survey answer."""
        if not self.satisfaction_count:
            return None
        average = Decimal(self.satisfaction_sum_x100) / 100 / self.satisfaction_count
        return average.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    def as_row(self) -> dict[str, object]:
        """Counters plus derived figures for the export/API: rates in percent (1 decimal), average 0–100."""
        completion, attendance = self.completion_rate, self.attendance_rate
        row: dict[str, object] = {f.name: getattr(self, f.name) for f in fields(self)}
        row.update(
            enrollments=self.enrollments,
            completion_rate=None if completion is None else round(completion * 100, 1),
            attendance_rate=None if attendance is None else round(attendance * 100, 1),
            satisfaction_average=self.satisfaction_average,
        )
        return row


def sum_totals(rows: Iterable[CounterTotals]) -> CounterTotals:
    total = CounterTotals()
    for row in rows:
        total = total + row
    return total
