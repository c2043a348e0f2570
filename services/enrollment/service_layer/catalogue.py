"""Catalogue use cases: courses, sessions and trainees (single records; bulk import lives elsewhere)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.enrollment.adapters import orm as T
from services.enrollment.service_layer import payloads
from services.enrollment.service_layer.errors import conflict, invalid, not_found
from services.enrollment.service_layer.unit_of_work import UnitOfWork


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def create_course(uow: UnitOfWork, data: dict) -> dict:
    with uow:
        s = uow.session
        now = utcnow()
        prereq_codes = data.pop("prerequisite_codes", None) or []
        try:
            course_id = s.execute(T.courses.insert().values(**data, created_at=now, updated_at=now)) \
                .inserted_primary_key[0]
            s.flush()
        except IntegrityError:
            raise conflict("duplicate_code", f"과정 코드 '{data.get('code')}'가 이미 있습니다.",
                           f"Course code '{data.get('code')}' already exists.", {"code": ["duplicate"]})
        prereq_ids = []
        for code in prereq_codes:
            req = s.execute(select(T.courses.c.id).where(T.courses.c.code == code)).first()
            if req is None:
                raise invalid("unknown_prerequisite", f"선수 과정 '{code}'를 찾을 수 없습니다.",
                              f"Prerequisite course '{code}' not found.", {"prerequisite_codes": [code]})
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
