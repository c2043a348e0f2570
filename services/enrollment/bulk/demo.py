"""The 2019 demo plan's onboarding courses, for a database that does not have the plan yet.

``make run`` loads the whole demo plan (issue 3's ``load-demo-plan``); tests and benchmarks of bulk
enrollment only need the four onboarding courses, created here through the ordinary use cases (so their
``course.created``/``session.created`` events go out as usual). A course already present (same Korean
name and year) is left alone, so this never duplicates what the plan loader made.
"""
from __future__ import annotations

from sqlalchemy import select

from services.enrollment.adapters import orm as T
from services.enrollment.adapters.seed_csv import load_demo_plan
from services.enrollment.domain.onboarding import Track
from services.enrollment.service_layer import catalogue


def install_onboarding_courses(uow_factory, track: Track) -> int:
    """Create the track's courses (with their sessions) from the demo plan when missing; returns how many."""
    plan = load_demo_plan()
    created = 0
    for course in plan.courses:
        if course.name_ko not in track.course_names() or course.year != track.year:
            continue
        uow = uow_factory()
        with uow:
            exists = uow.session.execute(select(T.courses.c.id).where(
                T.courses.c.name_ko == course.name_ko, T.courses.c.year == course.year)).first()
        if exists:
            continue
        row = catalogue.create_course(uow_factory(), {
            "code": course.code, "year": course.year, "name_ko": course.name_ko, "name_en": course.name_en,
            "delivery": course.delivery.value, "competency_area": course.area.value, "status": course.status.value,
            "target_grades": sorted(course.target_grades) or None,
            "target_job_series": sorted(course.target_job_series) or None,
            "duration_days": course.duration_days, "duration_hours": course.duration_hours,
            "planned_sessions": course.planned_sessions, "planned_seats": course.planned_seats,
            "notes": course.notes or None, "generated": course.is_generated})
        for s in course.sessions:
            catalogue.create_session(uow_factory(), {
                "course_id": row["id"], "seq_no": s.number, "starts_on": s.start, "ends_on": s.end,
                "capacity": s.capacity, "venue": s.venue or None, "enroll_opens_on": s.enrollment_opens,
                "enroll_closes_on": s.enrollment_closes})
        created += 1
    return created


# --- a demo new-hire list ----------------------------------------------------------------------

HEADERS_KO = ("사번", "성명", "소속", "직급", "직렬", "임용예정일", "이메일", "휴대전화")
_SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
_GIVEN = ("민준", "서연", "도윤", "지우", "하준", "서윤", "시우", "하은", "주원", "지아", "예준", "수아", "지호",
          "채원", "준우", "지민", "현우", "다은", "건우", "예은")
_DEPTS = ("행정국", "재무국", "복지정책실", "도시교통실", "기후환경본부", "도시계획국", "문화본부", "안전총괄실")
_ADMIN_SERIES = ("행정", "세무", "전산", "사회복지", "사서")
ONBOARDING_HIRES = 3_020
_TECH_SERIES = ("토목", "건축", "기계", "전기", "환경", "녹지", "보건", "간호")


def new_hire_rows(count: int, *, first_no: int = 1, year: int = 2019, track: Track | None = None):
    """``count`` plausible rows of the personnel system's new-hire list (Korean headers) from employee
    number ``first_no`` on, spread over the demo plan's 9 cohorts of 7~9급 신입자 (336 numbers per cohort)
    with the administrative/technical split of the post-appointment seats (1,800 / 1,220 for 3,020
    hires). Deterministic; a generator (no list in memory)."""
    from services.enrollment.domain.calendar_2019 import next_business_day
    import datetime as dt

    plan = load_demo_plan()
    classroom = next(c for c in plan.courses if c.name_ko == "7~9급 신입자")
    appointments = [next_business_day(s.end + dt.timedelta(days=1)) for s in classroom.sessions]
    admin = next(c for c in plan.courses if c.name_ko.endswith("(행정직군)"))
    per_cohort = -(-ONBOARDING_HIRES // len(appointments))           # 336: the employee number decides
    admin_per_cohort = round(per_cohort * admin.planned_seats / ONBOARDING_HIRES)  # the cohort, so a person
    for i in range(count):                                            # is the same in every file
        no = first_no + i
        cohort, k = divmod(no - 1, per_cohort)
        cohort %= len(appointments)
        is_admin = k < admin_per_cohort
        series = (_ADMIN_SERIES if is_admin else _TECH_SERIES)[no % (5 if is_admin else 8)]
        org = ("서울특별시 " + _DEPTS[no % len(_DEPTS)]) if no % 3 else "서울특별시 종로구"
        yield {"사번": f"{year}{no:06d}", "성명": _SURNAMES[no % len(_SURNAMES)] + _GIVEN[(no // 7) % len(_GIVEN)],
               "소속": org, "직급": ("7급", "8급", "9급", "9급")[no % 4], "직렬": series,
               "임용예정일": appointments[cohort].isoformat(), "이메일": f"newhire{no}@seoul.go.kr",
               "휴대전화": f"010-{no // 10000 % 10000:04d}-{no % 10000:04d}"}
