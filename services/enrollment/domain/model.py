"""Core value objects of the enrollment service: enums, courses, sessions, trainees.

Everything here is plain Python (dataclasses, enums, ``datetime``) so that the
rules can be unit-tested without a database; adapters map these to tables.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .labels import LabelledEnum

GENERATED_PREFIX_KO = "[생성]"
GENERATED_PREFIX_EN = "[Generated]"


class Delivery(LabelledEnum):
    CLASSROOM = ("classroom", "집합", "Classroom", "집합교육", "오프라인", "offline")
    ELEARNING = ("elearning", "이러닝", "E-learning", "e-러닝", "사이버", "사이버교육", "온라인", "online")


class CompetencyArea(LabelledEnum):
    BASIC = ("basic", "기본역량", "Basic", "기본")
    LEADERSHIP = ("leadership", "리더십역량", "Leadership", "리더십")
    JOB = ("job", "직무역량", "Job", "직무")
    IT = ("it", "IT역량", "IT", "정보화", "정보화역량")


class CourseStatus(LabelledEnum):
    """2019 change type of a course (교육과정 개편 구분)."""

    NEW = ("new", "신설", "New")
    IMPROVED = ("improved", "개선", "Improved")
    CONTINUING = ("continuing", "계속", "Continuing", "유지", "기존", "운영", "unchanged")
    MERGED = ("merged", "통합", "Merged", "통합·대체", "대체", "merged_or_replaced", "replaced")
    ABOLISHED = ("abolished", "폐지", "Abolished")


class OrganisationType(LabelledEnum):
    CITY_HQ = ("city_hq", "시 본청", "City HQ", "본청", "서울시", "서울특별시", "시청",
               "사업소", "직속기관")
    DISTRICT = ("district", "자치구", "Autonomous district", "구청", "구")
    INVESTED_INSTITUTION = ("invested_institution", "투자·출연기관", "Invested/funded institution",
                            "투출기관", "투자기관", "출연기관")
    OTHER_CITY = ("other_city", "타 시도", "Other city/province", "타시도", "타 시·도")
    FOREIGN = ("foreign", "해외", "Foreign", "외국", "국외")
    OTHER = ("other", "기타", "Other")


class EnrollmentStatus(LabelledEnum):
    REQUESTED = ("requested", "신청", "Requested")
    PENDING_PREREQUISITE = ("pending_prerequisite", "선수학습 대기", "Pending prerequisite")
    CONFIRMED = ("confirmed", "확정", "Confirmed")
    WAITLISTED = ("waitlisted", "대기", "Waitlisted", "대기자")
    ATTENDED = ("attended", "출석", "Attended")
    NO_SHOW = ("no_show", "불참", "No-show")
    COMPLETED = ("completed", "수료", "Completed")
    FAILED = ("failed", "미수료", "Failed")
    CANCELLED = ("cancelled", "취소", "Cancelled")


@dataclass(frozen=True)
class Session:
    """One run (회차) of a course.  Dates are inclusive calendar dates."""

    course_code: str
    number: int
    start: date
    end: date
    capacity: int
    venue: str = ""
    enrollment_opens: date | None = None
    enrollment_closes: date | None = None

    @property
    def code(self) -> str:
        return f"{self.course_code}-{self.number:02d}"


@dataclass(frozen=True)
class Course:
    """A course of the annual plan with its sessions.

    ``target_*`` sets are empty when the course is open to everybody.
    ``prerequisites`` are codes of e-learning courses to complete first
    (flipped learning).  ``planned_sessions``/``planned_seats`` are the plan's
    figures; when sessions exist they equal the session count and capacity sum.
    """

    code: str
    year: int
    name_ko: str
    name_en: str
    delivery: Delivery
    area: CompetencyArea
    status: CourseStatus
    planned_sessions: int
    planned_seats: int
    duration_days: int | None = None
    duration_hours: int | None = None
    target_grades: frozenset[str] = frozenset()
    target_job_series: frozenset[str] = frozenset()
    target_organisations: frozenset[OrganisationType] = frozenset()
    prerequisites: tuple[str, ...] = ()
    sessions: tuple[Session, ...] = ()
    notes: str = ""

    @property
    def seats(self) -> int:
        """Seats actually scheduled (sum of session capacities)."""
        return sum(s.capacity for s in self.sessions)

    @property
    def is_generated(self) -> bool:
        """Generated demo courses are labelled by name so the label survives export."""
        return self.name_ko.startswith(GENERATED_PREFIX_KO)


@dataclass(frozen=True)
class Trainee:
    employee_no: str
    name: str
    organisation: str
    organisation_type: OrganisationType
    grade: str
    department: str = ""
    job_series: str = ""
    email: str = ""
    mobile: str = ""
    appointment_date: date | None = None
    accessibility_needs: tuple[str, ...] = field(default=())
