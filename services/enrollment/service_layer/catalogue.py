"""Catalogue use cases: courses, sessions and trainees (single records; bulk import lives elsewhere)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from services.enrollment.adapters import orm as T
from services.enrollment.service_layer import payloads
from services.enrollment.service_layer.errors import conflict, invalid, not_found
from services.enrollment.service_layer.unit_of_work import UnitOfWork
from shared.clock import utcnow


def create_course(uow: UnitOfWork, data: dict) -> dict:
    with uow:
        s = uow.session
        now = utcnow()
        prereq_codes = data.pop("prerequisite_codes", None) or []
        normalise_targets(data)
        try:
            course_id = s.execute(T.courses.insert().values(**data, created_at=now, updated_at=now)) \
                .inserted_primary_key[0]
            s.flush()
        except IntegrityError:
            raise conflict("duplicate_code", f"과정 코드 '{data.get('code')}'가 이미 있습니다.",
                           f"Course code '{data.get('code')}' already exists.", {"code": ["duplicate"]})
        prereq_ids = []
        for code in prereq_codes:
            req = s.execute(select(T.courses.c.id, T.courses.c.delivery).where(T.courses.c.code == code)).first()
            if req is None:
                raise invalid("unknown_prerequisite", f"선수 과정 '{code}'를 찾을 수 없습니다.",
                              f"Prerequisite course '{code}' not found.", {"prerequisite_codes": [code]})
            if req.delivery != "elearning":
                raise invalid("prerequisite_not_elearning", f"선수 과정은 이러닝이어야 합니다: {code}",
                              f"A prerequisite must be an e-learning course: {code}", {"prerequisite_codes": [code]})
            s.execute(T.course_prerequisites.insert().values(course_id=course_id, required_course_id=req.id))
            prereq_ids.append(req.id)
        course = s.execute(select(T.courses).where(T.courses.c.id == course_id)).one()
        uow.emit("hrd.enrollment.course.created.v1", payloads.course_snapshot(course, prereq_ids))
        uow.commit()
        return {**dict(course._mapping), "prerequisite_course_ids": prereq_ids}


def create_session(uow: UnitOfWork, data: dict) -> dict:
    with uow:
        s = uow.session
        course = s.execute(select(T.courses).where(T.courses.c.id == data["course_id"])).first()
        if course is None:
            raise not_found("과정", "Course", data["course_id"])
        if data["ends_on"] < data["starts_on"]:
            raise invalid("invalid_dates", "종료일이 시작일보다 빠릅니다.", "ends_on is before starts_on.",
                          {"ends_on": ["before starts_on"]})
        if data.get("seq_no") is None:
            last = s.execute(select(T.sessions.c.seq_no).where(T.sessions.c.course_id == course.id)
                             .order_by(T.sessions.c.seq_no.desc()).limit(1)).scalar()
            data["seq_no"] = (last or 0) + 1
        now = utcnow()
        try:
            sid = s.execute(T.sessions.insert().values(**data, seats_taken=0, status="scheduled",
                                                       created_at=now, updated_at=now)).inserted_primary_key[0]
        except IntegrityError:
            raise conflict("duplicate_session", "같은 차수의 회차가 이미 있습니다.",
                           "A session with this number already exists.", {"seq_no": ["duplicate"]})
        row = s.execute(select(T.sessions).where(T.sessions.c.id == sid)).one()
        uow.emit("hrd.enrollment.session.created.v1", payloads.session_snapshot(row, course.year))
        uow.commit()
        return dict(row._mapping)


def create_trainee(uow: UnitOfWork, data: dict) -> dict:
    with uow:
        s = uow.session
        now = utcnow()
        try:
            tid = s.execute(T.trainees.insert().values(**data, created_at=now, updated_at=now)) \
                .inserted_primary_key[0]
            s.flush()
        except IntegrityError:
            raise conflict("duplicate_employee_no", f"사번 '{data.get('employee_no')}'이(가) 이미 있습니다.",
                           f"Employee number '{data.get('employee_no')}' already exists.",
                           {"employee_no": ["duplicate"]})
        row = s.execute(select(T.trainees).where(T.trainees.c.id == tid)).one()
        uow.emit("hrd.enrollment.trainee.registered.v1", payloads.trainee_snapshot(row))
        uow.commit()
        return dict(row._mapping)


def normalise_targets(data: dict) -> dict:
    """Canonical target grades / job series (the eligibility rules compare canonical values)."""
    from services.enrollment.domain.vocabulary import normalise_job_series, parse_grade_targets
    if data.get("target_grades"):
        grades, unknown = parse_grade_targets(", ".join(data["target_grades"]))
        if unknown:
            raise invalid("unknown_grade", f"알 수 없는 직급: {', '.join(unknown)}",
                          f"Unknown grade(s): {', '.join(unknown)}", {"target_grades": unknown})
        data["target_grades"] = sorted(grades)
    if data.get("target_job_series"):
        data["target_job_series"] = sorted({normalise_job_series(x) for x in data["target_job_series"]})
    return data


def update_session(uow: UnitOfWork, session_id: int, changes: dict, actor: str) -> dict:
    """Reschedule (dates), resize, move or re-window a session.

    New dates → ``session.rescheduled.v1`` with the previous dates, and the prerequisite deadlines of its
    pending enrollments follow the new start; other changes → ``session.updated.v1``. A capacity below
    the seats already taken is refused; a larger one promotes from the waitlist at once.
    """
    from services.enrollment.domain import rules
    from services.enrollment.service_layer import enrollments as E
    with uow:
        s = uow.session
        q = select(T.sessions).where(T.sessions.c.id == session_id)
        row = s.execute(q.with_for_update() if s.get_bind().dialect.name == "postgresql" else q).first()
        if row is None:
            raise not_found("회차", "Session", session_id)
        if row.status == "cancelled":
            raise conflict("session_cancelled", "취소된 회차는 변경할 수 없습니다.", "The session has been cancelled.")
        new = {**dict(row._mapping), **changes}
        if new["ends_on"] < new["starts_on"]:
            raise invalid("invalid_dates", "종료일이 시작일보다 빠릅니다.", "ends_on is before starts_on.",
                          {"ends_on": ["before starts_on"]})
        if new["enroll_opens_on"] and new["enroll_closes_on"] and new["enroll_closes_on"] < new["enroll_opens_on"]:
            raise invalid("invalid_window", "신청마감일이 신청시작일보다 빠릅니다.", "Enrollment closes before it opens.",
                          {"enroll_closes_on": ["before enroll_opens_on"]})
        if new["capacity"] < row.seats_taken:
            raise conflict("capacity_below_taken", f"이미 {row.seats_taken}석이 배정되어 정원을 줄일 수 없습니다.",
                           f"{row.seats_taken} seats are already taken; capacity cannot go below that.",
                           {"capacity": [f"min {row.seats_taken}"]})
        changed = {k: v for k, v in changes.items() if row._mapping[k] != v}
        if not changed:
            return dict(row._mapping)
        s.execute(update(T.sessions).where(T.sessions.c.id == session_id).values(**changed, updated_at=utcnow()))
        course = s.execute(select(T.courses).where(T.courses.c.id == row.course_id)).one()
        updated = s.execute(select(T.sessions).where(T.sessions.c.id == session_id)).one()
        rescheduled = "starts_on" in changed or "ends_on" in changed
        if rescheduled:
            deadline = rules.prerequisite_deadline(updated.starts_on, int(uow.settings["PREREQUISITE_DAYS_BEFORE"])
                                                  ).astimezone(dt.timezone.utc)  # stored in UTC (SQLite drops offsets)
            s.execute(update(T.enrollments).where(T.enrollments.c.session_id == session_id,
                                                  T.enrollments.c.status == "pending_prerequisite")
                      .values(prerequisite_deadline=deadline))
            uow.emit("hrd.enrollment.session.rescheduled.v1",
                     payloads.session_snapshot(updated, course.year, (row.starts_on, row.ends_on)))
        else:
            uow.emit("hrd.enrollment.session.updated.v1", payloads.session_snapshot(updated, course.year))
        if changed.get("capacity", 0) > row.capacity:
            E.promote_waitlist(uow, session_id, actor="system:waitlist")
        uow.commit()
        return dict(s.execute(select(T.sessions).where(T.sessions.c.id == session_id)).one()._mapping)


def cancel_session(uow: UnitOfWork, session_id: int, actor: str, reason: str | None = None) -> dict:
    """Cancel a session and every open enrollment in it (reason ``session_cancelled``); no promotion."""
    from services.enrollment.service_layer import enrollments as E
    with uow:
        s = uow.session
        q = select(T.sessions).where(T.sessions.c.id == session_id)
        row = s.execute(q.with_for_update() if s.get_bind().dialect.name == "postgresql" else q).first()
        if row is None:
            raise not_found("회차", "Session", session_id)
        if row.status == "cancelled":
            raise conflict("session_cancelled", "이미 취소된 회차입니다.", "The session is already cancelled.")
        s.execute(update(T.sessions).where(T.sessions.c.id == session_id).values(status="cancelled",
                                                                                updated_at=utcnow()))
        course = s.execute(select(T.courses).where(T.courses.c.id == row.course_id)).one()
        updated = s.execute(select(T.sessions).where(T.sessions.c.id == session_id)).one()
        uow.emit("hrd.enrollment.session.cancelled.v1", payloads.session_snapshot(updated, course.year))
        open_rows = s.execute(select(T.enrollments).where(T.enrollments.c.session_id == session_id,
                                                          T.enrollments.c.status.in_(T.OPEN_STATUSES))
                              .order_by(T.enrollments.c.id)).all()
        for e in open_rows:
            E.cancel_row(uow, e, actor, f"session_cancelled{': ' + reason if reason else ''}", promote=False)
        uow.commit()
        out = dict(s.execute(select(T.sessions).where(T.sessions.c.id == session_id)).one()._mapping)
        out["cancelled_enrollments"] = len(open_rows)
        return out
