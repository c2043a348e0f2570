"""What the notification service does with each enrollment event."""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from services.notification.adapters import orm
from shared.consumer import EventHandlers
from shared.db import upsert_insert

handlers = EventHandlers()

_TEXT = {
    "enrollment_confirmed": ("[인재개발원] 수강신청 확정: {course}", "{name}님, '{course}' {seq}회차({start}~{end}) 수강이 확정되었습니다."),
    "waitlisted": ("[인재개발원] 대기 등록: {course}", "{name}님, '{course}' {seq}회차는 정원이 차서 대기자로 등록되었습니다. 자리가 나면 자동으로 확정됩니다."),
    "promoted": ("[인재개발원] 대기 → 수강 확정: {course}", "{name}님, 대기 중이던 '{course}' {seq}회차 수강이 확정되었습니다."),
    "cancelled": ("[인재개발원] 수강 취소: {course}", "{name}님, '{course}' {seq}회차 수강신청이 취소되었습니다."),
}


def store_message(session: Session, trainee_id: int, enrollment_id: int | None, kind: str, dedup_key: str,
                  subject: str, body: str, language: str = "ko") -> None:
    insert = upsert_insert(session)
    session.execute(insert(orm.messages).values(
        trainee_id=trainee_id, enrollment_id=enrollment_id, kind=kind, dedup_key=dedup_key, language=language,
        subject=subject, body=body, created_at=dt.datetime.now(dt.timezone.utc)
    ).on_conflict_do_nothing(index_elements=["dedup_key"]))


def _message_for(session: Session, env: dict, kind: str) -> None:
    p = env["payload"]
    subject_t, body_t = _TEXT[kind]
    ctx = {"name": p["trainee"]["name"], "course": p["course"]["name_ko"], "seq": p["session"].get("seq_no") or "",
           "start": p["session"]["starts_on"], "end": p["session"]["ends_on"]}
    store_message(session, p["trainee"]["id"], p["enrollment_id"], kind,
                  f"{p['enrollment_id']}:{kind}:v{p['version']}", subject_t.format(**ctx), body_t.format(**ctx))


@handlers.on("hrd.enrollment.enrollment.created.v1", "hrd.enrollment.enrollment.confirmed.v1",
             "hrd.enrollment.enrollment.waitlisted.v1")
def on_enrollment_placed(session: Session, env: dict) -> None:
    status = env["payload"]["status"]
    if status == "confirmed":
        _message_for(session, env, "enrollment_confirmed")
    elif status == "waitlisted":
        _message_for(session, env, "waitlisted")


@handlers.on("hrd.enrollment.enrollment.promoted.v1")
def on_promoted(session: Session, env: dict) -> None:
    _message_for(session, env, "promoted")


@handlers.on("hrd.enrollment.enrollment.cancelled.v1")
def on_cancelled(session: Session, env: dict) -> None:
    _message_for(session, env, "cancelled")
