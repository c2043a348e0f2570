"""Enrollment rules as pure functions: capacity, eligibility, schedule conflicts,
FIFO waitlist promotion and prerequisite (flipped-learning) checks.

Nothing here reads a clock or a database: callers pass ``now`` and the facts.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .errors import Refusal
from .model import Course, Delivery, EnrollmentStatus, Trainee
from .vocabulary import job_series_matches, normalise_grade

SEOUL = ZoneInfo("Asia/Seoul")
DEFAULT_PREREQUISITE_DAYS = 3


# --- capacity -----------------------------------------------------------------

def decide_seat(capacity: int, seats_taken: int) -> EnrollmentStatus:
    """CONFIRMED while a seat is free, else WAITLISTED.

    The database must still enforce this atomically; this is the rule it enforces.
    """
    if capacity < 0 or seats_taken < 0:
        raise ValueError("capacity and seats_taken must be >= 0")
    return EnrollmentStatus.CONFIRMED if seats_taken < capacity else EnrollmentStatus.WAITLISTED


# --- eligibility --------------------------------------------------------------

def check_eligibility(course: Course, trainee: Trainee) -> Refusal | None:
    """None when ``trainee`` may take ``course``; otherwise the first reason not to.

    Empty target sets mean "everybody".  Checked in order organisation, grade,
    job series, so the reason names the most basic mismatch.
    """
    if course.target_organisations and trainee.organisation_type not in course.target_organisations:
        allowed = ", ".join(sorted(o.label_ko for o in course.target_organisations))
        allowed_en = ", ".join(sorted(o.label_en for o in course.target_organisations))
        return Refusal(
            "ELIGIBILITY_ORGANISATION",
            f"'{course.name_ko}' 과정은 {allowed} 소속만 신청할 수 있습니다 "
            f"(현재 소속: {trainee.organisation_type.label_ko}).",
            f"'{course.name_en}' is only open to: {allowed_en} "
            f"(trainee: {trainee.organisation_type.label_en}).",
        )
    grade = normalise_grade(trainee.grade) or trainee.grade
    if course.target_grades and grade not in course.target_grades:
        allowed = ", ".join(sorted(course.target_grades))
        return Refusal(
            "ELIGIBILITY_GRADE",
            f"'{course.name_ko}' 과정의 교육대상 직급({allowed})이 아닙니다 (현재 직급: {grade}).",
            f"'{course.name_en}' is for grades {allowed}; the trainee's grade is {grade}.",
        )
    if course.target_job_series and not job_series_matches(course.target_job_series, trainee.job_series):
        allowed = ", ".join(sorted(course.target_job_series))
        series = trainee.job_series or "-"
        return Refusal(
            "ELIGIBILITY_JOB_SERIES",
            f"'{course.name_ko}' 과정의 교육대상 직렬({allowed})이 아닙니다 (현재 직렬: {series}).",
            f"'{course.name_en}' is for job series {allowed}; the trainee's series is {series}.",
        )
    return None


# --- schedule conflicts -------------------------------------------------------

def ranges_overlap(a_start: date, a_end: date, b_start: date, b_end: date) -> bool:
    """Inclusive overlap: a course ending on the 4th clashes with one starting on the 4th."""
    return a_start <= b_end and b_start <= a_end


@dataclass(frozen=True)
class SessionSlot:
    """The calendar footprint of a session the trainee is (or would be) in.

    E-learning cohorts are self-paced and never block the calendar, so they are
    ignored by the conflict checks.
    """

    session_code: str
    start: date
    end: date
    delivery: Delivery = Delivery.CLASSROOM

    @property
    def blocks_calendar(self) -> bool:
        return self.delivery is Delivery.CLASSROOM


def find_conflicts(candidate: SessionSlot, booked: Iterable[SessionSlot]) -> list[SessionSlot]:
    """Booked classroom sessions that overlap ``candidate`` (itself excluded)."""
    if not candidate.blocks_calendar:
        return []
    return [
        slot for slot in booked
        if slot.blocks_calendar and slot.session_code != candidate.session_code
        and ranges_overlap(candidate.start, candidate.end, slot.start, slot.end)
    ]


def conflict_refusal(candidate: SessionSlot, conflicts: Sequence[SessionSlot]) -> Refusal | None:
    if not conflicts:
        return None
    other = conflicts[0]
    return Refusal(
        "SCHEDULE_CONFLICT",
        f"이미 확정된 교육({other.session_code}, {other.start:%Y-%m-%d}~{other.end:%Y-%m-%d})과 "
        f"일정이 겹칩니다.",
        f"The session overlaps an already confirmed session {other.session_code} "
        f"({other.start:%Y-%m-%d} to {other.end:%Y-%m-%d}).",
    )


# --- waitlist -----------------------------------------------------------------

@dataclass(frozen=True)
class WaitlistEntry:
    enrollment_id: str
    trainee_id: str
    waitlisted_at: datetime


@dataclass(frozen=True)
class PromotionDecision:
    """Whom to promote (or None) and who was passed over, with the clash found."""

    promote: WaitlistEntry | None
    skipped: tuple[tuple[WaitlistEntry, SessionSlot], ...] = field(default=())


def choose_promotion(
    waitlist: Iterable[WaitlistEntry],
    session: SessionSlot,
    confirmed_sessions: Mapping[str, Iterable[SessionSlot]],
) -> PromotionDecision:
    """FIFO promotion: the earliest waitlisted entry whose trainee has no
    confirmed session overlapping ``session`` (``confirmed_sessions`` is keyed by
    trainee id).  Skipped entries stay waitlisted; ties are broken by enrollment
    id so the choice is deterministic."""
    skipped: list[tuple[WaitlistEntry, SessionSlot]] = []
    for entry in sorted(waitlist, key=lambda e: (e.waitlisted_at, e.enrollment_id)):
        clashes = find_conflicts(session, confirmed_sessions.get(entry.trainee_id, ()))
        if clashes:
            skipped.append((entry, clashes[0]))
            continue
        return PromotionDecision(entry, tuple(skipped))
    return PromotionDecision(None, tuple(skipped))


# --- prerequisites (flipped learning) -----------------------------------------

def missing_prerequisites(required: Iterable[str], completed: Iterable[str]) -> frozenset[str]:
    """Codes of required e-learning courses the trainee has not completed."""
    return frozenset(required) - frozenset(completed)


def prerequisite_deadline(session_start: date, days_before: int = DEFAULT_PREREQUISITE_DAYS) -> datetime:
    """Last moment to complete the prerequisites: 23:59:59 Seoul time, ``days_before``
    calendar days before the session starts (default 3: a Monday session → Friday night).

    Seoul time because the deadline is communicated to Korean trainees as a date;
    end of day so that "by the 8th" includes the whole 8th.  Returned tz-aware.
    """
    if days_before < 0:
        raise ValueError("days_before must be >= 0")
    day = session_start - timedelta(days=days_before)
    return datetime.combine(day, time(23, 59, 59), tzinfo=SEOUL)


def deadline_passed(deadline: datetime, now: datetime) -> bool:
    return now > deadline


@dataclass(frozen=True)
class PrerequisiteCheck:
    """Outcome of checking a classroom enrollment's prerequisites."""

    missing: frozenset[str]
    deadline: datetime | None
    refusal: Refusal | None = None

    @property
    def satisfied(self) -> bool:
        return not self.missing


def check_prerequisites(
    required: Iterable[str],
    completed: Iterable[str],
    session_start: date,
    now: datetime,
    days_before: int = DEFAULT_PREREQUISITE_DAYS,
) -> PrerequisiteCheck:
    """Satisfied, or missing with a deadline (→ pending_prerequisite), or refused
    because the deadline has already passed (too late to study first)."""
    missing = missing_prerequisites(required, completed)
    if not missing:
        return PrerequisiteCheck(missing, None)
    deadline = prerequisite_deadline(session_start, days_before)
    refusal = None
    if deadline_passed(deadline, now):
        codes = ", ".join(sorted(missing))
        refusal = Refusal(
            "PREREQUISITE_DEADLINE_PASSED",
            f"선수 이러닝({codes}) 이수 기한({deadline:%Y-%m-%d %H:%M})이 지나 신청할 수 없습니다.",
            f"The deadline to complete the prerequisite e-learning ({codes}) "
            f"passed on {deadline:%Y-%m-%d %H:%M} KST.",
        )
    return PrerequisiteCheck(missing, deadline, refusal)
