"""Enrollment use cases: enroll, cancel, and waitlist promotion.

Capacity is enforced by the database: a seat is taken with
``UPDATE sessions SET seats_taken = seats_taken + 1 WHERE id = :id AND seats_taken < capacity``,
which PostgreSQL re-checks after any concurrent writer commits and SQLite runs under its single
writer lock (BEGIN IMMEDIATE), and a CHECK constraint backs it up. So no interleaving of requests can
overbook, and whoever does not get a seat is waitlisted in arrival order.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from services.enrollment.adapters import orm
from shared.db import dialect_name
from services.enrollment.service_layer import payloads
from services.enrollment.service_layer.errors import conflict, not_found
from services.enrollment.service_layer.unit_of_work import UnitOfWork

T = orm
OPEN = orm.OPEN_STATUSES


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _load_session_and_course(s, session_id: int):
    row = s.execute(select(T.sessions).where(T.sessions.c.id == session_id)).first()
    if row is None:
        raise not_found("회차", "Session", session_id)
    course = s.execute(select(T.courses).where(T.courses.c.id == row.course_id)).one()
    return row, course


def _load_trainee(s, trainee_id: int):
    row = s.execute(select(T.trainees).where(T.trainees.c.id == trainee_id)).first()
    if row is None:
        raise not_found("교육생", "Trainee", trainee_id)
    return row


def take_seat(s, session_id: int) -> bool:
    """Atomically take one seat if any is free."""
    res = s.execute(update(T.sessions)
                    .where(T.sessions.c.id == session_id, T.sessions.c.seats_taken < T.sessions.c.capacity)
                    .values(seats_taken=T.sessions.c.seats_taken + 1))
    return res.rowcount == 1


def release_seat(s, session_id: int) -> None:
    s.execute(update(T.sessions).where(T.sessions.c.id == session_id, T.sessions.c.seats_taken > 0)
              .values(seats_taken=T.sessions.c.seats_taken - 1))


def record_transition(s, enrollment_id: int, from_status, to_status: str, actor: str, reason, at) -> None:
    s.execute(T.enrollment_history.insert().values(enrollment_id=enrollment_id, from_status=from_status,
                                                    to_status=to_status, actor=actor, reason=reason, at=at))


def _emit(uow: UnitOfWork, event_type: str, enrollment_id: int, previous_status, actor, reason=None):
    s = uow.session
    e = s.execute(select(T.enrollments).where(T.enrollments.c.id == enrollment_id)).one()
    trainee = s.execute(select(T.trainees).where(T.trainees.c.id == e.trainee_id)).one()
    session = s.execute(select(T.sessions).where(T.sessions.c.id == e.session_id)).one()
    course = s.execute(select(T.courses).where(T.courses.c.id == e.course_id)).one()
    uow.emit(event_type, payloads.enrollment_event(e, trainee, course, session, previous_status, actor, reason))
    return e


def enroll(uow: UnitOfWork, trainee_id: int, session_id: int, actor: str, source: str = "api") -> dict:
    with uow:
        s = uow.session
        session, course = _load_session_and_course(s, session_id)
        if session.status == "cancelled":
            raise conflict("session_cancelled", "취소된 회차에는 신청할 수 없습니다.",
                           "The session has been cancelled.")
        _load_trainee(s, trainee_id)
        existing = s.execute(select(T.enrollments.c.id).where(
            T.enrollments.c.trainee_id == trainee_id, T.enrollments.c.session_id == session_id,
            T.enrollments.c.status.in_(OPEN))).first()
        if existing:
            raise conflict("already_enrolled", "이미 이 회차에 신청되어 있습니다.",
                           "The trainee is already enrolled in this session.", {"enrollment_id": existing.id})
        now = utcnow()
        seated = take_seat(s, session_id)
        status = "confirmed" if seated else "waitlisted"
        try:
            enrollment_id = s.execute(T.enrollments.insert().values(
                trainee_id=trainee_id, session_id=session_id, course_id=course.id, status=status,
                holds_seat=seated, version=1, waitlisted_at=None if seated else now, source=source,
                requested_at=now, updated_at=now)).inserted_primary_key[0]
        except IntegrityError:  # a concurrent request for the same trainee and session won the race
            raise conflict("already_enrolled", "이미 이 회차에 신청되어 있습니다.",
                           "The trainee is already enrolled in this session.")
        record_transition(s, enrollment_id, None, "requested", actor, None, now)
        record_transition(s, enrollment_id, "requested", status, actor,
                          None if seated else "정원 초과로 대기 / waitlisted: session full", now)
        e = _emit(uow, "hrd.enrollment.enrollment.created.v1", enrollment_id, None, actor)
        uow.commit()
        return dict(e._mapping)


def cancel(uow: UnitOfWork, enrollment_id: int, actor: str, reason: str | None = None) -> dict:
    with uow:
        s = uow.session
        q = select(T.enrollments).where(T.enrollments.c.id == enrollment_id)
        if dialect_name(s) == "postgresql":
            q = q.with_for_update()
        e = s.execute(q).first()
        if e is None:
            raise not_found("수강신청", "Enrollment", enrollment_id)
        if e.status not in OPEN:
            raise conflict("not_cancellable", f"'{e.status}' 상태의 신청은 취소할 수 없습니다.",
                           f"An enrollment in status '{e.status}' cannot be cancelled.")
        now = utcnow()
        s.execute(update(T.enrollments).where(T.enrollments.c.id == enrollment_id).values(
            status="cancelled", holds_seat=False, version=e.version + 1, updated_at=now))
        record_transition(s, enrollment_id, e.status, "cancelled", actor, reason, now)
        _emit(uow, "hrd.enrollment.enrollment.cancelled.v1", enrollment_id, e.status, actor, reason)
        if e.holds_seat:
            release_seat(s, e.session_id)
            promote_waitlist(uow, e.session_id, actor="system:waitlist")
        uow.commit()
        return dict(s.execute(select(T.enrollments).where(T.enrollments.c.id == enrollment_id)).one()._mapping)


def promote_waitlist(uow: UnitOfWork, session_id: int, actor: str) -> list[int]:
    """Give freed seats to waitlisted trainees, first come first served. Runs inside the caller's uow."""
    s = uow.session
    promoted: list[int] = []
    while True:
        q = (select(T.enrollments).where(T.enrollments.c.session_id == session_id,
                                         T.enrollments.c.status == "waitlisted")
             .order_by(T.enrollments.c.waitlisted_at, T.enrollments.c.id).limit(1))
        if dialect_name(s) == "postgresql":
            q = q.with_for_update(skip_locked=True)
        nxt = s.execute(q).first()
        if nxt is None or not take_seat(s, session_id):
            return promoted
        now = utcnow()
        s.execute(update(T.enrollments).where(T.enrollments.c.id == nxt.id).values(
            status="confirmed", holds_seat=True, version=nxt.version + 1, updated_at=now))
        record_transition(s, nxt.id, "waitlisted", "confirmed", actor, "대기자 자동 승급 / promoted from waitlist", now)
        _emit(uow, "hrd.enrollment.enrollment.promoted.v1", nxt.id, "waitlisted", actor,
              "promoted from waitlist")
        promoted.append(nxt.id)
