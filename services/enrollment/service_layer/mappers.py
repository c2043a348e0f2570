"""Rows of our tables → the pure domain objects the rules are written against."""
from __future__ import annotations

from types import SimpleNamespace

from services.enrollment.domain.model import (CompetencyArea, Course, CourseStatus, Delivery, OrganisationType,
                                              Session, Trainee)
from services.enrollment.domain.rules import SessionSlot


def domain_course(c, prerequisite_codes=(), sessions=()) -> Course:
    return Course(
        code=c.code, year=c.year, name_ko=c.name_ko, name_en=c.name_en or "",
        delivery=Delivery(c.delivery), area=CompetencyArea(c.competency_area), status=CourseStatus(c.status),
        planned_sessions=c.planned_sessions or 0, planned_seats=c.planned_seats or 0,
        duration_days=_int_or_none(c.duration_days), duration_hours=_int_or_none(c.duration_hours),
        target_grades=frozenset(c.target_grades or ()), target_job_series=frozenset(c.target_job_series or ()),
        target_organisations=frozenset(OrganisationType(o) for o in (c.target_organisation_types or ())),
        prerequisites=tuple(sorted(prerequisite_codes)), sessions=tuple(sessions), notes=c.notes or "")


def domain_session(course_code: str, s) -> Session:
    return Session(course_code, s.seq_no, s.starts_on, s.ends_on, s.capacity, s.venue or "",
                   s.enroll_opens_on, s.enroll_closes_on)


def domain_trainee(t) -> Trainee:
    return Trainee(employee_no=t.employee_no, name=t.name, organisation=t.organisation or "",
                   organisation_type=OrganisationType(t.organisation_type or "other"), grade=t.grade or "",
                   department=t.department or "", job_series=t.job_series or "")


def slot(session_id, starts_on, ends_on, delivery) -> SessionSlot:
    return SessionSlot(str(session_id), starts_on, ends_on, Delivery(delivery))


def merged(row, **changes) -> SimpleNamespace:
    """A row with some columns replaced (what it looks like after our UPDATE)."""
    return SimpleNamespace(**{**dict(row._mapping if hasattr(row, "_mapping") else vars(row)), **changes})


def _int_or_none(value):
    return None if value is None else int(value)
