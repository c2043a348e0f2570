"""Counter delta rules of the reporting read model."""

import itertools
import random
from decimal import Decimal

import pytest

from services.reporting.domain.rollup import (
    EXPECTED_TRANSITIONS,
    CatalogueDimensions,
    CounterTotals,
    Dimension,
    DimensionKey,
    EnrollmentDimensions,
    EnrollmentStatus as S,
    RollupCounter as C,
    UnknownStatusError,
    counters_for_status,
    is_expected_transition,
    merge_deltas,
    planned_seats_deltas,
    satisfaction_deltas,
    status_deltas,
    sum_totals,
)

# Every transition the enrollment state machine emits, with the deltas we expect.
TRANSITION_DELTAS = [
    (None, S.REQUESTED, {C.REQUESTED: 1}),
    (S.REQUESTED, S.PENDING_PREREQUISITE, {C.REQUESTED: -1, C.PENDING_PREREQUISITE: 1}),
    (S.REQUESTED, S.CONFIRMED, {C.REQUESTED: -1, C.ENROLLED: 1}),
    (S.REQUESTED, S.WAITLISTED, {C.REQUESTED: -1, C.WAITLISTED: 1}),
    (S.PENDING_PREREQUISITE, S.CONFIRMED, {C.PENDING_PREREQUISITE: -1, C.ENROLLED: 1}),
    (S.PENDING_PREREQUISITE, S.WAITLISTED, {C.PENDING_PREREQUISITE: -1, C.WAITLISTED: 1}),
    (S.WAITLISTED, S.CONFIRMED, {C.WAITLISTED: -1, C.ENROLLED: 1}),
    (S.CONFIRMED, S.ATTENDED, {C.ATTENDED: 1}),
    (S.CONFIRMED, S.NO_SHOW, {C.NO_SHOW: 1}),
    (S.ATTENDED, S.COMPLETED, {C.COMPLETED: 1}),
    (S.ATTENDED, S.FAILED, {C.FAILED: 1}),
    (S.REQUESTED, S.CANCELLED, {C.REQUESTED: -1, C.CANCELLED: 1}),
    (S.PENDING_PREREQUISITE, S.CANCELLED, {C.PENDING_PREREQUISITE: -1, C.CANCELLED: 1}),
    (S.WAITLISTED, S.CANCELLED, {C.WAITLISTED: -1, C.CANCELLED: 1}),
    (S.CONFIRMED, S.CANCELLED, {C.ENROLLED: -1, C.CANCELLED: 1}),
]


@pytest.mark.parametrize(("previous", "new", "expected"), TRANSITION_DELTAS)
def test_deltas_for_every_transition(previous, new, expected) -> None:
    assert status_deltas(previous, new) == expected
    assert is_expected_transition(previous, new)


def test_table_covers_every_expected_transition() -> None:
    assert {(p, n) for p, n, _ in TRANSITION_DELTAS} == set(EXPECTED_TRANSITIONS)


def test_statuses_accepted_as_plain_strings_and_unknown_refused() -> None:
    assert status_deltas("waitlisted", "cancelled") == {C.WAITLISTED: -1, C.CANCELLED: 1}
    assert status_deltas("confirmed", "confirmed") == {}
    with pytest.raises(UnknownStatusError):
        status_deltas("confirmed", "graduated")


def test_no_show_is_final_because_failed_implies_attended() -> None:
    assert not is_expected_transition(S.NO_SHOW, S.FAILED)
    # Still applied if it ever arrives (the read model never rejects), with this visible effect:
    assert status_deltas(S.NO_SHOW, S.FAILED) == {C.NO_SHOW: -1, C.ATTENDED: 1, C.FAILED: 1}


def test_no_show_counts_as_enrolled_but_not_attended() -> None:
    assert counters_for_status(S.NO_SHOW) == {C.ENROLLED, C.NO_SHOW}
    assert counters_for_status(S.COMPLETED) == {C.ENROLLED, C.ATTENDED, C.COMPLETED}
    assert counters_for_status(None) == frozenset()


def _walk(path: list[S]) -> list[dict]:
    return [status_deltas(a, b) for a, b in zip([None, *path], path)]


def test_path_telescopes_to_final_status_in_any_order() -> None:
    path = [S.REQUESTED, S.PENDING_PREREQUISITE, S.WAITLISTED, S.CONFIRMED, S.ATTENDED, S.COMPLETED]
    events = _walk(path)
    expected = {C.ENROLLED: 1, C.ATTENDED: 1, C.COMPLETED: 1}
    # With the previous status carried in each event, application order does not matter.
    for order in itertools.permutations(events):
        assert merge_deltas(*order) == expected
    assert CounterTotals().applied(merge_deltas(*events)) == CounterTotals(enrolled=1, attended=1, completed=1)


def test_many_enrollments_shuffled_reach_the_same_totals_and_keep_the_invariant() -> None:
    rng = random.Random(2019)
    paths = [
        [S.REQUESTED, S.CONFIRMED, S.ATTENDED, S.COMPLETED],
        [S.REQUESTED, S.CONFIRMED, S.NO_SHOW],
        [S.REQUESTED, S.WAITLISTED, S.CANCELLED],
        [S.REQUESTED, S.PENDING_PREREQUISITE, S.CANCELLED],
        [S.REQUESTED, S.PENDING_PREREQUISITE, S.WAITLISTED],
        [S.REQUESTED, S.CONFIRMED, S.ATTENDED, S.FAILED],
        [S.REQUESTED],
    ]
    events = [d for p in paths for d in _walk(p)]
    totals = []
    for _ in range(5):
        rng.shuffle(events)
        row = CounterTotals()
        for deltas in events:
            row = row.applied(deltas)
        totals.append(row)
    assert all(t == totals[0] for t in totals)
    row = totals[0]
    assert row == CounterTotals(
        requested=1, pending_prerequisite=0, waitlisted=1, enrolled=3, attended=2,
        no_show=1, completed=1, failed=1, cancelled=2,
    )
    assert row.enrollments == len(paths)
    assert row.completion_rate == pytest.approx(1 / 3)
    assert row.attendance_rate == pytest.approx(2 / 3)


def test_redelivery_is_not_this_layers_concern() -> None:
    # The same event applied twice doubles its delta: the consumer must dedupe by event id.
    once = status_deltas(S.REQUESTED, S.CONFIRMED)
    assert merge_deltas(once, once) == {C.REQUESTED: -2, C.ENROLLED: 2}


def test_rates_are_none_without_outcomes() -> None:
    empty = CounterTotals(enrolled=5)
    assert empty.completion_rate is None and empty.attendance_rate is None
    assert empty.satisfaction_average is None


def test_satisfaction_sum_and_count() -> None:
    row = CounterTotals()
    for score in (90, "87.5", Decimal("66.67")):
        row = row.applied(satisfaction_deltas(score))
    assert (row.satisfaction_sum_x100, row.satisfaction_count) == (24417, 3)
    assert row.satisfaction_average == Decimal("81.39")
    # a corrected answer replaces the old one; a withdrawn one leaves the count
    row = row.applied(satisfaction_deltas(100, previous_score=90))
    assert row.satisfaction_average == Decimal("84.72")
    row = row.applied(satisfaction_deltas(None, previous_score=100))
    assert row.satisfaction_count == 2
    for bad in (-1, 101, "nan", "abc", float("inf")):
        with pytest.raises(ValueError):
            satisfaction_deltas(bad)


def test_planned_seats_deltas() -> None:
    assert planned_seats_deltas(None, 300) == {C.PLANNED_SEATS: 300}
    assert planned_seats_deltas(125, 250) == {C.PLANNED_SEATS: 125}
    assert planned_seats_deltas(60, None) == {C.PLANNED_SEATS: -60}
    assert planned_seats_deltas(60, 60) == {}


def test_enrollment_dimension_rows() -> None:
    dims = EnrollmentDimensions(
        year=2019, course_code="C-001", session_id="C-001-03", competency_area="job", delivery="classroom",
        organisation_type="autonomous_district", grade="7급", job_series=None, month=3,
    )
    keys = dims.keys()
    assert len(keys) == len(Dimension)
    assert keys[0] == DimensionKey(2019, Dimension.TOTAL, "")
    assert DimensionKey(2019, Dimension.JOB_SERIES, "unknown") in keys
    assert DimensionKey(2019, Dimension.MONTH, "03") in keys
    with pytest.raises(ValueError):
        EnrollmentDimensions(2019, "C", None, None, None, None, None, None, month=13).keys()


def test_catalogue_dimension_rows_do_not_double_count_sessions() -> None:
    course = CatalogueDimensions(2019, "C-001", "basic", "classroom").keys()
    session = CatalogueDimensions(2019, "C-001", "basic", "classroom", session_id="S1", month=9).keys()
    assert {k.dimension for k in course} == {Dimension.TOTAL, Dimension.COURSE, Dimension.COMPETENCY_AREA, Dimension.DELIVERY}
    assert {k.dimension for k in session} == {Dimension.SESSION, Dimension.MONTH}


def test_counter_totals_from_row_mapping_and_sum() -> None:
    row = {"year": 2019, "dimension": "total", "value": "", "enrolled": 3, "completed": 1, "failed": None}
    totals = CounterTotals.from_mapping(row)
    assert totals == CounterTotals(enrolled=3, completed=1)
    assert sum_totals([totals, totals]).enrolled == 6
