from collections import Counter, defaultdict
from datetime import timedelta

import holidays
import pytest

from services.enrollment.adapters.seed_csv import load_demo_plan, read_seed_rows
from services.enrollment.domain.calendar_2019 import KOREAN_PUBLIC_HOLIDAYS, calendar_days, is_business_day
from services.enrollment.domain.demo_plan import EXCLUDED_SEEDS, classify_seed_row
from services.enrollment.domain.model import CompetencyArea, CourseStatus, Delivery, OrganisationType
from services.enrollment.domain.plan_rows import plan_rows_for_export, validate_plan_rows


@pytest.fixture(scope="module")
def plan():
    return load_demo_plan()


def test_exact_totals(plan):
    assert plan.totals() == (239, 198_999)
    assert plan.totals(Delivery.CLASSROOM) == (125, 22_829)
    assert plan.totals(Delivery.ELEARNING) == (114, 176_170)


def test_status_counts_match_the_2019_changes(plan):
    by = Counter((c.delivery, c.status) for c in plan.courses)
    assert (by[Delivery.CLASSROOM, CourseStatus.NEW], by[Delivery.CLASSROOM, CourseStatus.IMPROVED],
            by[Delivery.CLASSROOM, CourseStatus.CONTINUING]) == (22, 81, 22)
    assert (by[Delivery.ELEARNING, CourseStatus.NEW], by[Delivery.ELEARNING, CourseStatus.IMPROVED],
            by[Delivery.ELEARNING, CourseStatus.CONTINUING]) == (24, 13, 77)


def test_sessions_sum_to_seats_and_are_numbered(plan):
    for c in plan.courses:
        assert c.sessions, c.code
        assert sum(s.capacity for s in c.sessions) == c.planned_seats == c.seats, c.code
        assert len(c.sessions) == c.planned_sessions
        assert [s.number for s in c.sessions] == list(range(1, len(c.sessions) + 1))
        assert all(s.capacity > 0 for s in c.sessions)
        assert [s.start for s in c.sessions] == sorted(s.start for s in c.sessions)


def test_dates_are_2019_business_days_and_windows(plan):
    for c in plan.courses:
        for s in c.sessions:
            assert s.start.year == s.end.year == 2019
            assert is_business_day(s.start) and is_business_day(s.end), s.code
            assert s.start.weekday() < 5 and s.end.weekday() < 5
            if c.delivery is Delivery.CLASSROOM and c.duration_days <= 5:
                assert all(is_business_day(d) for d in calendar_days(s.start, s.end)), s.code
            assert s.enrollment_opens == s.start - timedelta(days=30)
            assert s.enrollment_closes == s.start - timedelta(days=7)


def test_holiday_table_matches_the_holidays_package():
    assert KOREAN_PUBLIC_HOLIDAYS == set(holidays.KR(years=2019))


def test_elearning_runs_monthly_cohorts(plan):
    for c in plan.courses:
        if c.delivery is Delivery.ELEARNING:
            assert [s.start.month for s in c.sessions] == list(range(1, 13))
            assert all(s.end.month == s.start.month for s in c.sessions)
            assert c.duration_hours and c.duration_days is None


def test_rooms_never_double_booked(plan):
    used = defaultdict(set)
    for c in plan.courses:
        if c.delivery is Delivery.CLASSROOM:
            for s in c.sessions:
                days = {d for d in calendar_days(s.start, s.end) if is_business_day(d)}
                assert used[s.venue].isdisjoint(days), (s.code, s.venue)
                used[s.venue] |= days


def test_job_courses_concentrated_in_march_and_september(plan):
    starts = [s.start.month for c in plan.courses
              if c.delivery is Delivery.CLASSROOM and c.area is CompetencyArea.JOB for s in c.sessions]
    share = sum(m in (3, 9) for m in starts) / len(starts)
    assert share > 0.4, share  # two months out of eleven would be ~0.18 if spread evenly


def test_codes_and_names_unique_and_generated_labelled(plan):
    codes = [c.code for c in plan.courses]
    assert len(set(codes)) == 239
    assert len({c.name_ko for c in plan.courses}) == 239
    assert all(c.code.startswith("C19-" if c.delivery is Delivery.CLASSROOM else "E19-") for c in plan.courses)
    for c in plan.courses:
        assert c.is_generated == c.name_en.startswith("[Generated]")
    assert sum(not c.is_generated for c in plan.courses) == 65


def test_flipped_pair_and_onboarding(plan):
    classroom = plan.by_name("빅데이터 분석 실무(시각화 및 탐색중심)")
    elearning = plan.by_name("e-빅데이터의 이해")
    assert classroom.prerequisites == (elearning.code,) and elearning.delivery is Delivery.ELEARNING
    onboarding = plan.by_name("7~9급 신입자")
    assert (onboarding.planned_sessions, onboarding.planned_seats) == (9, 2_700)
    assert onboarding.target_grades == {"7급", "8급", "9급"}
    post = [c for c in plan.courses if "임용후" in c.name_ko]
    assert sum(c.planned_seats for c in post) == 3_020
    for course in post:  # each post-appointment week follows a 신입자 session + 2 weeks
        for pre, after in zip(onboarding.sessions, course.sessions):
            assert after.start >= pre.end + timedelta(days=14)


def test_seed_named_figures_kept(plan):
    for name, sessions, seats in [("팀장리더십", 10, 250), ("공직자 남북교류 협력", 2, 300),
                                  ("실무관 산업안전 및 보건", 4, 1000), ("서울이해", 2, 60),
                                  ("5급 승진리더", 4, 520), ("실무관 공감마당", 4, 400)]:
        c = plan.by_name(name)
        assert (c.planned_sessions, c.planned_seats) == (sessions, seats), name
    assert plan.by_name("실무리더십").planned_seats == 700
    assert plan.by_name("기후변화").target_organisations == {OrganisationType.FOREIGN}


def test_every_seed_row_is_included_or_excluded_with_a_reason(plan):
    rows = read_seed_rows()
    names = {c.name_ko for c in plan.courses}
    excluded = {e.name_ko: e for e in plan.excluded}
    for row in rows:
        assert (row["name_ko"] in names) != (row["name_ko"] in excluded), row["name_ko"]
    for name in ["서울 역사", "질의응답", "동료 간 상호피드백", "강진 다산유적지·안동 도산서원", "성인지",
                 "빅데이터 교과", "미래행정 액션러닝", "감사 실무", "7~8급 승진자", *EXCLUDED_SEEDS]:
        assert name in excluded and excluded[name].reason_ko and excluded[name].reason_en
    # courses whose notes mention subjects they gained are still courses
    for name in ["임기·경력직 공무원 공직입문", "청렴특별시 서울", "6급 미래인재 양성", "행복한 미래설계"]:
        assert classify_seed_row(next(r for r in rows if r["name_ko"] == name)) is None


def test_deterministic(plan):
    assert load_demo_plan() == plan


def test_demo_plan_passes_its_own_import_validation(plan):
    rows = [(n, row) for n, row in enumerate(plan_rows_for_export(plan.courses), start=2)]
    result = validate_plan_rows(rows)
    assert result.ok, result.errors[:5]
    assert result.courses == plan.courses
