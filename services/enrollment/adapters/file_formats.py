"""Header alias tables of the files administrators upload (documented formats).

The Korean header is what the exporter writes; the English header and the
aliases are also accepted (matching ignores case, spaces and ``()*_-./·:``).
See docs/plan-file-format.md.
"""
from __future__ import annotations

from ..domain.plan_rows import PLAN_FIELDS, PLAN_REQUIRED_FIELDS
from ..domain.trainee_rows import TRAINEE_FIELDS, TRAINEE_REQUIRED_FIELDS
from .tabular import Column, ColumnSet

PLAN_ALIASES: dict[str, tuple[str, ...]] = {
    "year": ("교육연도", "계획연도", "년도"),
    "course_code": ("코드", "과정 코드", "code"),
    "name_ko": ("교육과정명", "과정명(국문)", "교육과정", "name", "course name (korean)", "course"),
    "name_en": ("과정명(영문)", "영문명", "name (english)", "english name"),
    "delivery": ("교육형태", "교육유형", "교육방법", "delivery mode"),
    "area": ("역량", "역량분야", "교육체계", "area", "competency"),
    "status": ("개편구분", "과정구분", "상태", "status", "2019 status"),
    "target_grades": ("교육대상 직급", "대상 직급", "직급", "target grade", "grades"),
    "target_job_series": ("교육대상 직렬", "대상 직렬", "직렬", "job series"),
    "target_organisations": ("대상기관유형", "교육대상 기관", "대상 기관", "target organizations"),
    "duration_days": ("일수", "교육기간(일)", "기간(일)", "duration (days)", "duration_days"),
    "duration_hours": ("시간", "교육시간(h)", "duration (hours)", "duration_hours"),
    "prerequisites": ("선수과정코드", "선수학습", "선수 이러닝", "prerequisite", "prerequisites"),
    "planned_sessions": ("계획 회차", "총회차", "회차수", "sessions"),
    "planned_seats": ("계획 인원", "교육인원", "총인원", "seats", "planned trainees"),
    "session_no": ("차수", "기수", "session no", "session number", "cohort"),
    "start_date": ("시작일", "교육시작", "개강일", "start"),
    "end_date": ("종료일", "교육종료", "수료일", "end"),
    "capacity": ("회차정원", "모집인원", "회차인원", "session capacity"),
    "venue": ("장소", "강의실", "교육장", "location", "room"),
    "enrollment_opens": ("신청시작", "접수시작일", "신청 시작일", "enrolment opens", "registration opens"),
    "enrollment_closes": ("신청마감", "접수마감일", "신청 마감일", "enrolment closes", "registration closes"),
    "notes": ("메모", "note", "remarks"),
}

TRAINEE_ALIASES: dict[str, tuple[str, ...]] = {
    "employee_no": ("직원번호", "공무원번호", "개인번호", "사원번호", "employee number", "employee id", "emp no"),
    "name": ("이름", "성명(한글)", "full name", "trainee name"),
    "organisation": ("소속기관", "기관명", "기관", "organization", "agency"),
    "organisation_type": ("소속구분", "기관구분", "기관 유형", "organization type", "org type"),
    "department": ("부서명", "소속부서", "dept"),
    "grade": ("계급", "직급명", "rank"),
    "job_series": ("직렬명", "직류", "series"),
    "email": ("전자우편", "메일", "이메일주소", "email", "e-mail address", "email address"),
    "mobile": ("휴대폰", "휴대전화번호", "휴대폰번호", "핸드폰", "연락처", "mobile phone", "phone", "cell phone"),
    "appointment_date": ("임용예정일", "임용일", "임용일자", "임용 예정일", "appointment", "appointment date"),
    "accessibility_needs": ("장애편의", "편의지원 필요사항", "접근성", "편의제공", "accessibility"),
}


def _column_set(fields: dict[str, tuple[str, str]], aliases: dict[str, tuple[str, ...]],
                required: tuple[str, ...]) -> ColumnSet:
    return ColumnSet(tuple(
        Column(name, ko, en, aliases.get(name, ()), name in required) for name, (ko, en) in fields.items()
    ))


PLAN_COLUMNS = _column_set(PLAN_FIELDS, PLAN_ALIASES, PLAN_REQUIRED_FIELDS)
TRAINEE_COLUMNS = _column_set(TRAINEE_FIELDS, TRAINEE_ALIASES, TRAINEE_REQUIRED_FIELDS)
