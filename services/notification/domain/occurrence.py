"""Occurrence: which instance of a kind a message is, for one enrollment.

Together with (enrollment_id, kind, channel) it forms the sent-log key, so it must change exactly
when a *new* message is warranted:

- one-off event messages (confirmed, waitlisted, promoted, cancelled, session_cancelled): "once";
- session_rescheduled: "to@<new start, KST, minute>", so each move is announced once;
- planned messages carry their offset *and anchor day*: "D-7@2019-03-04" (reminder for a session
  starting 2019-03-04), "D-14@2019-02-20" (nudge before a pre-study deadline), "D+1@2019-03-05"
  (survey after a session ending 2019-03-05). When a session moves, the anchor changes, so the
  reminder for the new date is a new occurrence and is sent even if the old D-7 already went out.
"""
from __future__ import annotations

from datetime import date, datetime

from .kinds import MessageKind
from .kst import to_kst

ONCE = "once"

_ONE_OFF = {
    MessageKind.ENROLLMENT_CONFIRMED,
    MessageKind.WAITLISTED,
    MessageKind.PROMOTED,
    MessageKind.CANCELLED,
    MessageKind.SESSION_CANCELLED,
}


def before(days: int, anchor: date) -> str:
    return f"D-{days}@{anchor.isoformat()}"


def after(days: int, anchor: date) -> str:
    return f"D+{days}@{anchor.isoformat()}"


def rescheduled_to(new_start: datetime) -> str:
    return f"to@{to_kst(new_start).strftime('%Y-%m-%dT%H:%M')}"


def event_occurrence(kind: MessageKind | str, *, new_start: datetime | None = None) -> str:
    """Occurrence for messages sent straight from an enrollment event (not planned rows)."""
    kind = MessageKind(kind)
    if kind in _ONE_OFF:
        return ONCE
    if kind is MessageKind.SESSION_RESCHEDULED:
        if new_start is None:
            raise ValueError("session_rescheduled needs the new start datetime")
        return rescheduled_to(new_start)
    raise ValueError(f"{kind} is a planned message; use the planning functions")


def offset_label(occurrence: str) -> str:
    """'D-7@2019-03-04' -> 'D-7'; 'once' -> 'once'."""
    return occurrence.split("@", 1)[0]


def offset_days(occurrence: str) -> int | None:
    """'D-7@…' -> 7, 'D+1@…' -> 1, anything else -> None (handy for template context)."""
    label = offset_label(occurrence)
    if len(label) > 2 and label[0] == "D" and label[1] in "+-" and label[2:].isdigit():
        return int(label[2:])
    return None
