"""The onboarding track's pure rules: the 2019 definition against the demo plan, gating, capacity,
waitlists, refusals, re-placement of trainees already enrolled, timelines."""
from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from services.enrollment.adapters.seed_csv import load_demo_plan
from services.enrollment.bulk.tracks import bundled_definitions
from services.enrollment.domain.model import OrganisationType, Trainee
from services.enrollment.domain.onboarding import (Planner, Slot, StageRefusal, TrackDefinitionError, check_new_hire,
                                                   parse_track, timeline)

D = dt.date


@pytest.fixture(scope="module")
def track():
    (data,) = [d for d in bundled_definitions() if d["year"] == 2019]
    return parse_track(data)


@pytest.fixture(scope="module")
def plan():
    return load_demo_plan()


def _slots(track, plan, capacity=None):
    out, n = [], 0
    for c in plan.courses:
        if c.name_ko in track.course_names():
            for s in c.sessions:
                n += 1
                out.append(Slot(n, c.name_ko, s.number, s.start, s.end, capacity or s.capacity, 0))
    return out


def test_2019_track_matches_the_demo_plan_and_places_every_cohort(track, plan):
    slots = _slots(track, plan)
    planner = Planner(track, slots)
    assert planner.missing_courses() == []
    classroom = sorted((s for s in slots if s.course == "7~9급 신입자"), key=lambda s: s.starts_on)
    assert len(classroom) == 9 and sum(s.capacity for s in classroom) == 2700
    by_id = {s.id: s for s in slots}
    for session in classroom:
        appointed = session.ends_on + dt.timedelta(days=3)
        for group in ("행정직군", "기술직군"):
            fresh = Planner(track, _slots(track, plan))
            placed = fresh.place(appointed, group)
            assert not isinstance(placed, StageRefusal), placed
            assert [p.stage for p in placed] == ["pre_elearning", "pre_classroom", "post_classroom"]
            e, c, post = (by_id[p.session_id] for p in placed)
            assert c.id == session.id
            assert e.starts_on < c.starts_on and e.ends_on < appointed          # e-learning before, pre-appointment
            assert c.ends_on < appointed                                        # classroom before appointment
            assert post.starts_on >= c.ends_on + dt.timedelta(days=15)          # two weeks of adaptation between
            assert post.starts_on >= appointed
            assert post.course.endswith(f"({group})")


def test_capacity_is_respected_and_the_overflow_is_waitlisted(track, plan):
    slots = _slots(track, plan)
    planner = Planner(track, slots)
    first = min((s for s in slots if s.course == "7~9급 신입자"), key=lambda s: s.starts_on)
    statuses = Counter()
    for _ in range(first.capacity + 5):
        for p in planner.place(first.ends_on + dt.timedelta(days=3), "행정직군"):
            if p.stage == "pre_classroom":
                statuses[(p.session_id, p.status)] += 1
    assert statuses == {(first.id, "confirmed"): first.capacity, (first.id, "waitlisted"): 5}
    assert first.taken == first.capacity and all(s.taken <= s.capacity for s in slots)


def test_a_full_stage_spills_to_another_session_in_its_window(track, plan):
    slots = _slots(track, plan)
    planner = Planner(track, slots)
    appointed = D(2019, 3, 12)  # cohort 2: ideal e-learning start 2019-01-22 → February cohort, January fits too
    feb = next(s for s in slots if s.course.startswith("[생성] e-") and s.starts_on.month == 2)
    jan = next(s for s in slots if s.course.startswith("[생성] e-") and s.starts_on.month == 1)
    feb.taken = feb.capacity
    placed = planner.place(appointed, "기술직군")
    assert placed[0].session_id == jan.id and placed[0].status == "confirmed"
    jan.taken = jan.capacity
    placed = planner.place(appointed, "기술직군")
    assert placed[0].session_id == feb.id and placed[0].status == "waitlisted"  # closest candidate


def test_no_fitting_session_is_a_refusal_that_keeps_no_seat(track, plan):
    slots = _slots(track, plan)
    planner = Planner(track, slots)
    refused = planner.place(D(2019, 12, 20), "행정직군")  # no post-appointment week left in 2019
    assert isinstance(refused, StageRefusal)
    assert refused.stage.key in ("pre_classroom", "post_classroom")
    assert "회차가 없습니다" in refused.refusal.reason_ko and "2019-12-20" in refused.refusal.reason_en
    assert all(s.taken == 0 for s in slots)
    err = refused.to_row_error(7)
    assert (err.line, err.field) == (7, "appointment_date")


def test_existing_enrollments_are_kept_and_gate_the_next_stages(track, plan):
    slots = _slots(track, plan)
    planner = Planner(track, slots)
    classroom = sorted((s for s in slots if s.course == "7~9급 신입자"), key=lambda s: s.starts_on)
    appointed = classroom[2].ends_on + dt.timedelta(days=3)
    first = planner.place(appointed, "행정직군")
    existing = {p.course: (p.session_id, p.status) for p in first}
    again = planner.place(appointed, "행정직군", existing)
    assert [p.existing for p in again] == [True, True, True]
    assert [p.session_id for p in again] == [p.session_id for p in first]
    assert sum(s.taken for s in slots) == 3  # the second placement took no seat
    # only the classroom is held: e-learning and the post-appointment week are placed around it
    partial = planner.place(appointed, "기술직군", {"7~9급 신입자": (classroom[2].id, "confirmed")})
    assert [p.existing for p in partial] == [False, True, False]


def _hire(**over):
    base = dict(employee_no="2019000001", name="김서울", organisation="서울특별시 행정국",
                organisation_type=OrganisationType.CITY_HQ, grade="9급", job_series="토목",
                appointment_date=D(2019, 2, 7))
    return Trainee(**{**base, **over})


def test_who_may_enter_the_track(track):
    assert check_new_hire(track, 2, _hire()) == "기술직군"
    assert check_new_hire(track, 2, _hire(job_series="행정")) == "행정직군"
    errors = check_new_hire(track, 5, _hire(grade="5급", job_series="마법", appointment_date=None))
    assert sorted(e.field for e in errors) == ["appointment_date", "grade", "job_series"]
    assert all(e.line == 5 for e in errors)
    assert [e.field for e in check_new_hire(track, 3, _hire(appointment_date=D(2025, 1, 2)))] == ["appointment_date"]


def test_timeline_puts_department_adaptation_between_the_sessions(track, plan):
    slots = _slots(track, plan)
    by_id = {s.id: s for s in slots}
    appointed = D(2019, 2, 7)
    placed = Planner(track, slots).place(appointed, "행정직군")
    entries = timeline(track, appointed, {p.stage: (by_id[p.session_id], i + 1, p.status)
                                          for i, p in enumerate(placed)})
    assert [e.stage.key for e in entries] == ["pre_elearning", "pre_classroom", "adaptation", "post_classroom"]
    adaptation, post = entries[2], entries[3]
    assert adaptation.status == "planned" and adaptation.session_id is None
    assert adaptation.start == appointed and adaptation.end == post.start - dt.timedelta(days=1)
    assert (adaptation.planned_start, adaptation.planned_end) == (appointed, appointed + dt.timedelta(days=13))
    assert entries[1].enrollment_id == 2 and entries[1].end < appointed


@pytest.mark.parametrize("change, message", [
    (lambda d: d["stages"].reverse(), "increasing"),
    (lambda d: d["stages"][0].update(phase="during"), "phase"),
    (lambda d: d["stages"][3]["courses"].pop("기술직군"), "every series group"),
    (lambda d: d["stages"][2].update(courses={"*": "x"}), "timeline-only"),
    (lambda d: d["stages"][0].pop("offset_days"), "invalid track definition"),
])
def test_inconsistent_definitions_are_refused(change, message):
    import copy
    (data,) = [copy.deepcopy(d) for d in bundled_definitions() if d["year"] == 2019]
    change(data)
    with pytest.raises(TrackDefinitionError, match=message):
        parse_track(data)
