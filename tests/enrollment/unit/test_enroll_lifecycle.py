from datetime import datetime, timezone

import pytest

from services.enrollment.domain.errors import DomainError, IllegalTransition
from services.enrollment.domain.lifecycle import (
    FINAL_STATES, OPEN_STATES, TRANSITIONS, Enrollment, can_transition, holds_seat, transition,
)
from services.enrollment.domain.model import EnrollmentStatus as S

AT = datetime(2019, 3, 1, 9, 0, tzinfo=timezone.utc)

LEGAL = [
    (S.REQUESTED, S.PENDING_PREREQUISITE), (S.REQUESTED, S.CONFIRMED), (S.REQUESTED, S.WAITLISTED),
    (S.PENDING_PREREQUISITE, S.CONFIRMED), (S.PENDING_PREREQUISITE, S.WAITLISTED),
    (S.WAITLISTED, S.CONFIRMED), (S.WAITLISTED, S.PENDING_PREREQUISITE), (S.CONFIRMED, S.ATTENDED), (S.CONFIRMED, S.NO_SHOW),
    (S.ATTENDED, S.COMPLETED), (S.ATTENDED, S.FAILED),
] + [(s, S.CANCELLED) for s in (S.REQUESTED, S.PENDING_PREREQUISITE, S.CONFIRMED, S.WAITLISTED)]


def test_transition_table_is_exactly_the_documented_one():
    table = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert table == set(LEGAL)


@pytest.mark.parametrize("current,target", LEGAL)
def test_legal_transitions_return_a_history_record(current, target):
    record = transition(current, target, actor="admin01", reason="test", at=AT)
    assert (record.from_status, record.to_status, record.actor, record.reason, record.at) == (
        current, target, "admin01", "test", AT)


ILLEGAL = [(a, b) for a in S for b in S if (a, b) not in set(LEGAL)]


@pytest.mark.parametrize("current,target", ILLEGAL)
def test_every_other_transition_is_refused_with_a_stable_code(current, target):
    with pytest.raises(IllegalTransition) as exc:
        transition(current, target, actor="admin01", at=AT)
    assert exc.value.code == "ENROLLMENT_ILLEGAL_TRANSITION"
    assert current.label_ko in exc.value.message_ko and target.label_ko in exc.value.message_ko
    assert current.value in exc.value.message_en


def test_cancel_only_from_open_states_and_final_states_are_final():
    assert {s for s in S if can_transition(s, S.CANCELLED)} == OPEN_STATES
    assert FINAL_STATES == {S.NO_SHOW, S.COMPLETED, S.FAILED, S.CANCELLED}
    assert holds_seat(S.PENDING_PREREQUISITE) and holds_seat(S.CONFIRMED)
    assert not holds_seat(S.WAITLISTED) and not holds_seat(S.REQUESTED)


def test_actor_and_aware_time_are_required():
    with pytest.raises(DomainError) as exc:
        transition(S.REQUESTED, S.CONFIRMED, actor=" ", at=AT)
    assert exc.value.code == "TRANSITION_ACTOR_REQUIRED"
    with pytest.raises(DomainError) as exc:
        transition(S.REQUESTED, S.CONFIRMED, actor="x", at=datetime(2019, 3, 1))
    assert exc.value.code == "TRANSITION_TIME_NAIVE"


def test_statuses_accept_strings_from_storage():
    assert transition("waitlisted", "confirmed", actor="system", at=AT).to_status is S.CONFIRMED


def test_enrollment_history_is_append_only_and_unchanged_on_error():
    e = Enrollment(id="1", trainee_id="T1", session_code="C19-001-01")
    e.move_to(S.PENDING_PREREQUISITE, actor="system", at=AT, reason="missing E19-001")
    e.move_to(S.CONFIRMED, actor="lms", at=AT, reason="completed E19-001")
    with pytest.raises(IllegalTransition):
        e.move_to(S.REQUESTED, actor="admin", at=AT)
    assert e.status is S.CONFIRMED and e.is_open
    assert [(r.from_status, r.to_status) for r in e.history] == [
        (S.REQUESTED, S.PENDING_PREREQUISITE), (S.PENDING_PREREQUISITE, S.CONFIRMED)]
    assert isinstance(e.history, tuple)


def test_labels_parse_korean_and_english():
    assert S.parse("선수학습 대기") is S.PENDING_PREREQUISITE
    assert S.parse("No-show") is S.NO_SHOW
    with pytest.raises(ValueError):
        S.parse("없는상태")
