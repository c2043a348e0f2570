from datetime import date, datetime, timedelta

import pytest

from services.enrollment.domain.model import (
    CompetencyArea, Course, CourseStatus, Delivery, EnrollmentStatus, OrganisationType, Trainee,
)
from services.enrollment.domain.rules import (
    SEOUL, SessionSlot, WaitlistEntry, check_eligibility, check_prerequisites, choose_promotion,
    conflict_refusal, decide_seat, find_conflicts, missing_prerequisites, prerequisite_deadline,
    ranges_overlap,
)


def course(**kw):
    base = dict(code="C19-001", year=2019, name_ko="기계실무", name_en="Mechanical Practice",
                delivery=Delivery.CLASSROOM, area=CompetencyArea.JOB, status=CourseStatus.IMPROVED,
                planned_sessions=1, planned_seats=30)
    base.update(kw)
    return Course(**base)


def trainee(**kw):
    base = dict(employee_no="1001", name="김서울", organisation="서울특별시 행정국",
                organisation_type=OrganisationType.CITY_HQ, grade="7급", job_series="기계")
    base.update(kw)
    return Trainee(**base)


@pytest.mark.parametrize("capacity,taken,expected", [
    (30, 0, EnrollmentStatus.CONFIRMED), (30, 29, EnrollmentStatus.CONFIRMED),
    (30, 30, EnrollmentStatus.WAITLISTED), (30, 31, EnrollmentStatus.WAITLISTED),
    (0, 0, EnrollmentStatus.WAITLISTED),
])
def test_decide_seat(capacity, taken, expected):
    assert decide_seat(capacity, taken) is expected


def test_decide_seat_rejects_negative():
    with pytest.raises(ValueError):
        decide_seat(-1, 0)


def test_open_course_accepts_everybody():
    assert check_eligibility(course(), trainee(grade="실무관", job_series="")) is None


def test_grade_refusal_normalises_trainee_grade():
    c = course(target_grades=frozenset({"7급", "8급", "9급"}))
    assert check_eligibility(c, trainee(grade="행정주사보")) is None  # 주사보 = 7급
    refusal = check_eligibility(c, trainee(grade="6급"))
    assert refusal.code == "ELIGIBILITY_GRADE"
    assert "6급" in refusal.reason_ko and "grade" in refusal.reason_en


def test_job_series_and_groups():
    c = course(target_job_series=frozenset({"기계"}))
    assert check_eligibility(c, trainee(job_series="기계직")) is None
    assert check_eligibility(c, trainee(job_series="전기")).code == "ELIGIBILITY_JOB_SERIES"
    group = course(target_job_series=frozenset({"기술직군"}))
    assert check_eligibility(group, trainee(job_series="토목")) is None
    assert check_eligibility(group, trainee(job_series="행정")).code == "ELIGIBILITY_JOB_SERIES"


def test_organisation_checked_first():
    c = course(target_organisations=frozenset({OrganisationType.INVESTED_INSTITUTION}),
               target_grades=frozenset({"5급"}))
    refusal = check_eligibility(c, trainee())
    assert refusal.code == "ELIGIBILITY_ORGANISATION"
    assert "투자·출연기관" in refusal.reason_ko


@pytest.mark.parametrize("a,b,expected", [
    ((1, 3), (3, 5), True),   # touching on the last day
    ((1, 3), (4, 5), False),
    ((2, 2), (1, 9), True),   # contained
    ((5, 6), (1, 4), False),
])
def test_ranges_overlap_inclusive(a, b, expected):
    d = lambda n: date(2019, 3, n)  # noqa: E731
    assert ranges_overlap(d(a[0]), d(a[1]), d(b[0]), d(b[1])) is expected
    assert ranges_overlap(d(b[0]), d(b[1]), d(a[0]), d(a[1])) is expected


def slot(code, start, end, delivery=Delivery.CLASSROOM):
    return SessionSlot(code, date(2019, 3, start), date(2019, 3, end), delivery)


def test_conflicts_ignore_elearning_and_self():
    candidate = slot("A", 4, 6)
    booked = [slot("A", 4, 6), slot("B", 6, 7), slot("E", 1, 31, Delivery.ELEARNING), slot("C", 7, 8)]
    assert [s.session_code for s in find_conflicts(candidate, booked)] == ["B"]
    assert find_conflicts(slot("E2", 1, 31, Delivery.ELEARNING), booked) == []
    refusal = conflict_refusal(candidate, find_conflicts(candidate, booked))
    assert refusal.code == "SCHEDULE_CONFLICT" and "2019-03-06" in refusal.reason_ko
    assert conflict_refusal(candidate, []) is None


def test_fifo_promotion_skips_trainees_with_a_conflict():
    t0 = datetime(2019, 2, 1, 9, tzinfo=SEOUL)
    waitlist = [
        WaitlistEntry("e3", "t3", t0 + timedelta(minutes=3)),
        WaitlistEntry("e1", "t1", t0 + timedelta(minutes=1)),
        WaitlistEntry("e2", "t2", t0 + timedelta(minutes=2)),
    ]
    session = slot("S", 11, 12)
    confirmed = {"t1": [slot("X", 12, 13)], "t2": [slot("Y", 1, 5)]}
    decision = choose_promotion(waitlist, session, confirmed)
    assert decision.promote.enrollment_id == "e2"
    assert [(e.enrollment_id, c.session_code) for e, c in decision.skipped] == [("e1", "X")]


def test_promotion_none_when_everybody_conflicts_or_empty():
    t0 = datetime(2019, 2, 1, tzinfo=SEOUL)
    assert choose_promotion([], slot("S", 1, 2), {}).promote is None
    decision = choose_promotion([WaitlistEntry("e1", "t1", t0)], slot("S", 1, 2), {"t1": [slot("X", 2, 2)]})
    assert decision.promote is None and len(decision.skipped) == 1


def test_fifo_ties_broken_by_enrollment_id():
    t0 = datetime(2019, 2, 1, tzinfo=SEOUL)
    waitlist = [WaitlistEntry("b", "t2", t0), WaitlistEntry("a", "t1", t0)]
    assert choose_promotion(waitlist, slot("S", 1, 2), {}).promote.enrollment_id == "a"


def test_prerequisites():
    assert missing_prerequisites({"E19-001", "E19-002"}, ["E19-002", "E19-009"]) == {"E19-001"}
    deadline = prerequisite_deadline(date(2019, 3, 11))  # Monday
    assert deadline == datetime(2019, 3, 8, 23, 59, 59, tzinfo=SEOUL)
    assert deadline.utcoffset() == timedelta(hours=9)
    assert prerequisite_deadline(date(2019, 3, 11), 0).date() == date(2019, 3, 11)


def test_check_prerequisites_outcomes():
    start = date(2019, 3, 11)
    early = datetime(2019, 3, 1, tzinfo=SEOUL)
    assert check_prerequisites(["E1"], ["E1"], start, early).satisfied
    pending = check_prerequisites(["E1"], [], start, early)
    assert pending.missing == {"E1"} and pending.refusal is None
    assert pending.deadline == prerequisite_deadline(start)
    late = check_prerequisites(["E1"], [], start, datetime(2019, 3, 9, 0, 0, 0, tzinfo=SEOUL))
    assert late.refusal.code == "PREREQUISITE_DEADLINE_PASSED"
    on_time = check_prerequisites(["E1"], [], start, datetime(2019, 3, 8, 23, 59, 59, tzinfo=SEOUL))
    assert on_time.refusal is None
