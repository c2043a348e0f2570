"""Pure planning of scheduled messages (reminders, prerequisite nudges, survey requests).

Rules (all times Asia/Seoul):
- Reminder D-n is due n calendar days before the session's first day at the course's send time
  (default D-7 and D-1 at 09:00). If that day is a weekend or a Korean public holiday it moves to
  the *previous* business day: a reminder must arrive before the session, never later than planned.
  Example: a session on Mon 2019-03-04 has D-1 on Sun 03-03 -> Sat -> Fri 03-01 is 삼일절 ->
  Thu 2019-02-28 09:00.
- Anything already due at `now` is skipped, never sent late: a trainee who enrols after D-7 gets no
  D-7 (the confirmation mail already carries the date) but still gets D-1. A reminder due at or
  after the session start is skipped too.
- If two offsets land on the same moment after the business-day shift, only the nearer one (smaller
  n) is kept, so nobody gets the same reminder twice in one morning.
- Prerequisite nudges: D-14 and D-5 before the pre-study deadline, 09:00, same business-day and
  past rules; none at all once the prerequisite is complete.
- Survey request: the first business day after the session's last day at 10:00. It is still
  planned if that moment has passed by less than `late_window` (due immediately then: the
  dispatcher picks up rows with due_at <= now), so a late event still yields the survey.

Re-planning (a session moved, a course's offsets changed) = compute the desired set again and apply
`diff_plans` to what exists; cancellation = `diff_plans(existing, [])`.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Generic, Protocol, TypeVar

from . import occurrence as occ
from .business_days import KR_CALENDAR, BusinessCalendar
from .kinds import MessageKind
from .kst import at_kst, kst_date, require_aware

DEFAULT_REMINDER_OFFSETS: tuple[int, ...] = (7, 1)
DEFAULT_REMINDER_TIME = time(9, 0)
DEFAULT_NUDGE_OFFSETS: tuple[int, ...] = (14, 5)
DEFAULT_NUDGE_TIME = time(9, 0)
DEFAULT_SURVEY_TIME = time(10, 0)
DEFAULT_SURVEY_LATE_WINDOW = timedelta(days=14)

PlanKey = tuple[str, str]  # (kind, occurrence)


@dataclass(frozen=True, order=True)
class PlannedMessage:
    due_at: datetime  # aware, KST
    kind: MessageKind
    occurrence: str

    @property
    def key(self) -> PlanKey:
        return (str(self.kind), self.occurrence)


def plan_reminders(
    session_start: date | datetime,
    *,
    now: datetime,
    offsets: Sequence[int] = DEFAULT_REMINDER_OFFSETS,
    send_time: time = DEFAULT_REMINDER_TIME,
    calendar: BusinessCalendar = KR_CALENDAR,
) -> list[PlannedMessage]:
    """Reminders still worth sending for a session starting at `session_start`.

    Pass the start as an aware datetime when known, so a reminder that would fall after the start
    (e.g. D-0 at 09:00 for a 09:00 session) is dropped; a plain date is read as a KST day.
    """
    starts_at = require_aware(session_start, "session_start") if isinstance(session_start, datetime) else None
    return _plan_before(
        MessageKind.REMINDER, kst_date(session_start), offsets, send_time, now, calendar, not_after=starts_at
    )


def plan_prerequisite_nudges(
    deadline: date | datetime,
    *,
    now: datetime,
    completed: bool = False,
    offsets: Sequence[int] = DEFAULT_NUDGE_OFFSETS,
    send_time: time = DEFAULT_NUDGE_TIME,
    calendar: BusinessCalendar = KR_CALENDAR,
) -> list[PlannedMessage]:
    """Nudges before a pre-study deadline; an empty plan once the pre-study is completed."""
    if completed:
        return []
    return _plan_before(MessageKind.PREREQUISITE_NUDGE, kst_date(deadline), offsets, send_time, now, calendar)


def plan_survey_request(
    session_end: date | datetime,
    *,
    now: datetime,
    send_time: time = DEFAULT_SURVEY_TIME,
    late_window: timedelta = DEFAULT_SURVEY_LATE_WINDOW,
    calendar: BusinessCalendar = KR_CALENDAR,
) -> list[PlannedMessage]:
    require_aware(now, "now")
    last_day = kst_date(session_end)
    due_at = at_kst(calendar.next_business_day_after(last_day), send_time)
    if now - due_at > late_window:
        return []
    return [PlannedMessage(due_at, MessageKind.SURVEY_REQUEST, occ.after(1, last_day))]


def plan_session_messages(
    session_start: datetime,
    session_end: datetime,
    *,
    now: datetime,
    reminder_offsets: Sequence[int] = DEFAULT_REMINDER_OFFSETS,
    reminder_time: time = DEFAULT_REMINDER_TIME,
    calendar: BusinessCalendar = KR_CALENDAR,
) -> list[PlannedMessage]:
    """Reminders + survey for one enrollment in one session, sorted by due time."""
    plan = plan_reminders(
        session_start, now=now, offsets=reminder_offsets, send_time=reminder_time, calendar=calendar
    ) + plan_survey_request(session_end, now=now, calendar=calendar)
    return sorted(plan)


def _plan_before(
    kind: MessageKind,
    anchor: date,
    offsets: Sequence[int],
    send_time: time,
    now: datetime,
    calendar: BusinessCalendar,
    not_after: datetime | None = None,
) -> list[PlannedMessage]:
    require_aware(now, "now")
    by_due: dict[datetime, PlannedMessage] = {}
    # Nearest offset first, so on a collision the nearer reminder wins (see module doc).
    for days in sorted(set(offsets)):
        if days < 0:
            raise ValueError(f"offsets are days before the anchor and must be >= 0, got {days}")
        due_day = calendar.previous_business_day(anchor - timedelta(days=days))
        due_at = at_kst(due_day, send_time)
        if due_at <= now or (not_after is not None and due_at >= not_after):
            continue
        by_due.setdefault(due_at, PlannedMessage(due_at, kind, occ.before(days, anchor)))
    return sorted(by_due.values())


# ---------------------------------------------------------------------------------------------
# Re-planning diff
# ---------------------------------------------------------------------------------------------


class PlannedLike(Protocol):
    """Anything shaped like a planned row (a DB row, a PlannedMessage)."""

    @property
    def kind(self) -> str: ...
    @property
    def occurrence(self) -> str: ...
    @property
    def due_at(self) -> datetime: ...


Row = TypeVar("Row", bound=PlannedLike)


@dataclass(frozen=True)
class PlanDiff(Generic[Row]):
    # Existing rows no longer wanted: withdraw those still pending; already-sent ones stay as history.
    withdraw: list[Row]
    add: list[PlannedMessage]  # new rows to insert
    keep: list[Row]  # existing rows that already match the desired plan

    @property
    def unchanged(self) -> bool:
        return not self.withdraw and not self.add


def diff_plans(
    existing: Iterable[Row],
    desired: Iterable[PlannedMessage],
    *,
    kinds: Collection[MessageKind | str] | None = None,
) -> PlanDiff[Row]:
    """Diff keyed by (kind, occurrence). A key in both sides with a different due_at is withdrawn
    and re-added (e.g. a course's send time changed).

    `existing` should hold every live planned row of the enrollment, pending or already sent: a
    sent row whose key is still desired is simply kept, so it is never planned twice.
    `kinds` limits the diff to those kinds (e.g. re-planning nudges must not touch reminders);
    None means every existing row is in scope. Naive due_at values from a DB are read as UTC.
    """
    scope = None if kinds is None else {str(MessageKind(k)) for k in kinds}
    wanted: dict[PlanKey, PlannedMessage] = {}
    for planned in desired:
        if scope is not None and planned.key[0] not in scope:
            raise ValueError(f"desired {planned.kind} is outside the diff scope {sorted(scope)}")
        wanted[planned.key] = planned

    withdraw: list[Row] = []
    keep: list[Row] = []
    matched: set[PlanKey] = set()
    for row in existing:
        kind = str(MessageKind(row.kind))
        if scope is not None and kind not in scope:
            continue
        key = (kind, row.occurrence)
        target = wanted.get(key)
        if target is not None and key not in matched and _as_aware(row.due_at) == target.due_at:
            keep.append(row)
            matched.add(key)
        else:
            withdraw.append(row)
    add = [p for key, p in wanted.items() if key not in matched]
    return PlanDiff(withdraw=withdraw, add=sorted(add), keep=keep)


def _as_aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
