"""Enrollment lifecycle as an explicit state machine with an append-only history.

::

    requested ──► pending_prerequisite ──► confirmed ──► attended ──► completed
        │                 │                  ▲   │           └──────► failed
        │                 └──► waitlisted ───┘   └──► no_show
        │                   (waitlisted ──► pending_prerequisite when promoted without the prerequisite)
        ├──► confirmed / waitlisted
        └──► cancelled  (also from pending_prerequisite, confirmed, waitlisted)

* "Open" states hold a seat or wait for one: requested, pending_prerequisite,
  confirmed, waitlisted.  Only open states may be cancelled.
* ``SEAT_HOLDING`` states count against capacity: pending_prerequisite (the seat
  is kept until the prerequisite deadline, then released to the waitlist by
  cancelling with reason ``prerequisite_deadline_missed``) and confirmed.
* no_show, completed, failed and cancelled are final.  A no-show cannot be
  completed; e-learning completions go confirmed → attended → completed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .errors import DomainError, IllegalTransition
from .model import EnrollmentStatus as S

TRANSITIONS: dict[S, frozenset[S]] = {
    S.REQUESTED: frozenset({S.PENDING_PREREQUISITE, S.CONFIRMED, S.WAITLISTED, S.CANCELLED}),
    S.PENDING_PREREQUISITE: frozenset({S.CONFIRMED, S.WAITLISTED, S.CANCELLED}),
    # A promoted trainee who still lacks a prerequisite e-learning keeps the seat while studying.
    S.WAITLISTED: frozenset({S.CONFIRMED, S.PENDING_PREREQUISITE, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.ATTENDED, S.NO_SHOW, S.CANCELLED}),
    S.ATTENDED: frozenset({S.COMPLETED, S.FAILED}),
    S.NO_SHOW: frozenset(),
    S.COMPLETED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
}

OPEN_STATES: frozenset[S] = frozenset({S.REQUESTED, S.PENDING_PREREQUISITE, S.CONFIRMED, S.WAITLISTED})
SEAT_HOLDING_STATES: frozenset[S] = frozenset({S.PENDING_PREREQUISITE, S.CONFIRMED})
FINAL_STATES: frozenset[S] = frozenset(s for s, targets in TRANSITIONS.items() if not targets)


def is_open(status: S) -> bool:
    return status in OPEN_STATES


def holds_seat(status: S) -> bool:
    return status in SEAT_HOLDING_STATES


def allowed_targets(status: S) -> frozenset[S]:
    return TRANSITIONS[status]


def can_transition(current: S, target: S) -> bool:
    return target in TRANSITIONS[current]


@dataclass(frozen=True)
class TransitionRecord:
    """One line of an enrollment's history: who moved it where, when and why."""

    from_status: S
    to_status: S
    actor: str
    reason: str
    at: datetime


def transition(current: S, target: S, *, actor: str, at: datetime, reason: str = "") -> TransitionRecord:
    """Validate ``current → target`` and return the history record to append.

    Raises ``IllegalTransition`` (code ENROLLMENT_ILLEGAL_TRANSITION) when the
    machine does not allow the move, and ``DomainError`` when the record would
    be unusable as an audit trail (no actor, naive timestamp).
    """
    current, target = S(current), S(target)
    if not actor or not actor.strip():
        raise DomainError("변경한 사람(actor)을 지정해야 합니다.",
                          "The actor of a transition is required.", code="TRANSITION_ACTOR_REQUIRED")
    if at.tzinfo is None or at.utcoffset() is None:
        # A naive time is ambiguous between UTC servers and Korean users.
        raise DomainError("변경 시각에 시간대가 없습니다.",
                          "The transition time must be timezone-aware.", code="TRANSITION_TIME_NAIVE")
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(
            f"수강 상태를 '{current.label_ko}'에서 '{target.label_ko}'(으)로 바꿀 수 없습니다.",
            f"An enrollment cannot move from '{current.value}' to '{target.value}'.",
        )
    return TransitionRecord(current, target, actor.strip(), reason, at)


@dataclass
class Enrollment:
    """In-memory enrollment with its append-only history (a small aggregate).

    The service layer may keep status and history in tables instead; this class
    is the reference behaviour and is handy for tests and batch planning.
    """

    id: str
    trainee_id: str
    session_code: str
    status: S = S.REQUESTED
    history: tuple[TransitionRecord, ...] = field(default=())

    def move_to(self, target: S, *, actor: str, at: datetime, reason: str = "") -> TransitionRecord:
        record = transition(self.status, target, actor=actor, at=at, reason=reason)
        self.status = record.to_status
        self.history = self.history + (record,)  # tuple: never edited in place
        return record

    @property
    def is_open(self) -> bool:
        return is_open(self.status)
