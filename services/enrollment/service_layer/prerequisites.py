"""Prerequisite e-learning (flipped learning): completions in, missed deadlines out.

* ``record_completions``: completions from the e-learning system (API or CSV), all-or-nothing; each new
  (trainee, course) completion completes the open e-learning enrollment and confirms the trainee's
  pending_prerequisite enrollments whose prerequisites are now all done.
* ``expire_deadlines``: the short-interval beat task; claims pending_prerequisite rows whose deadline
  passed (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two beats never take the same rows) and cancels
  them with reason ``prerequisite_deadline_missed``, which frees the seat for the waitlist.
* ``recheck_stuck_requests``: a 'requested' enrollment whose check task was lost (broker down right
  after commit) is checked again by the sweep.
"""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import or_, select

from services.enrollment.adapters import orm as T
from services.enrollment.service_layer import enrollments as E
from services.enrollment.service_layer.errors import invalid
from services.enrollment.service_layer.unit_of_work import SEOUL, UnitOfWork

log = logging.getLogger(__name__)


def _resolve(s, items: list[dict], label) -> tuple[list[tuple[int, int, dt.datetime, str | None]], dict]:
    codes = {i["course_code"] for i in items if i.get("course_code")}
    emps = {i["employee_no"] for i in items if i.get("employee_no")}
    tids = {i["trainee_id"] for i in items if i.get("trainee_id")}
    cids = {i["course_id"] for i in items if i.get("course_id")}
    by_code, by_cid, by_emp, known_tids = {}, {}, {}, set()
    for chunk in _chunks(list(codes)):
        by_code.update(dict(s.execute(select(T.courses.c.code, T.courses.c.id).where(T.courses.c.code.in_(chunk))).all()))
    for chunk in _chunks(list(cids)):
        by_cid.update({i: i for i in s.execute(select(T.courses.c.id).where(T.courses.c.id.in_(chunk))).scalars()})
    for chunk in _chunks(list(emps)):
        by_emp.update(dict(s.execute(select(T.trainees.c.employee_no, T.trainees.c.id)
                                     .where(T.trainees.c.employee_no.in_(chunk))).all()))
    for chunk in _chunks(list(tids)):
        known_tids.update(s.execute(select(T.trainees.c.id).where(T.trainees.c.id.in_(chunk))).scalars())
    out, errors = [], {}
    for n, item in enumerate(items):
        key = label(n, item)
        problems = {}
        trainee_id = item.get("trainee_id")
        if trainee_id is None and item.get("employee_no"):
            trainee_id = by_emp.get(item["employee_no"])
            if trainee_id is None:
                problems["employee_no"] = [f"알 수 없는 사번 / unknown employee number: {item['employee_no']}"]
        elif trainee_id is not None and trainee_id not in known_tids:
            problems["trainee_id"] = [f"알 수 없는 교육생 / unknown trainee: {trainee_id}"]
            trainee_id = None
        elif trainee_id is None:
            problems["trainee_id"] = ["trainee_id 또는 employee_no가 필요합니다 / trainee_id or employee_no is required"]
        course_id = item.get("course_id")
        if course_id is None and item.get("course_code"):
            course_id = by_code.get(item["course_code"])
            if course_id is None:
                problems["course_code"] = [f"알 수 없는 과정코드 / unknown course code: {item['course_code']}"]
        elif course_id is not None and course_id not in by_cid:
            problems["course_id"] = [f"알 수 없는 과정 / unknown course: {course_id}"]
        elif course_id is None:
            problems["course_id"] = ["course_id 또는 course_code가 필요합니다 / course_id or course_code is required"]
        if problems:
            errors[key] = problems
        else:
            out.append((trainee_id, course_id, item.get("completed_at"), item.get("source")))
    return out, errors


def _chunks(values: list, size: int = 900):
    for i in range(0, len(values), size):
        yield values[i:i + size]


def record_completions(uow: UnitOfWork, items: list[dict], actor: str, source: str = "elearning",
                       label=lambda n, item: str(n)) -> dict:
    """Record completions; every unknown trainee/course is reported (by index or line) and nothing is written."""
    with uow:
        s = uow.session
        resolved, errors = _resolve(s, items, label)
        if errors:
            raise invalid("invalid_completions", "이수 기록에 오류가 있어 아무것도 저장하지 않았습니다.",
                          "Some completions are invalid; nothing was saved.", {"items": errors})
        now = uow.now()
        recorded = duplicates = 0
        for trainee_id, course_id, completed_at, src in resolved:
            when = completed_at or now
            if isinstance(when, dt.datetime) and when.tzinfo is None:
                when = when.replace(tzinfo=SEOUL)
            elif isinstance(when, dt.date) and not isinstance(when, dt.datetime):
                when = dt.datetime.combine(when, dt.time(0, 0), tzinfo=SEOUL)
            if E.record_completion_row(uow, trainee_id, course_id, when, src or source, actor):
                recorded += 1
            else:
                duplicates += 1
        uow.commit()
        return {"received": len(items), "recorded": recorded, "already_recorded": duplicates}


def expire_deadlines(uow: UnitOfWork, batch: int = 200, actor: str = "system:prerequisite-deadline") -> int:
    with uow:
        s = uow.session
        q = (select(T.enrollments).where(T.enrollments.c.status == "pending_prerequisite",
                                         T.enrollments.c.prerequisite_deadline < uow.now())
             .order_by(T.enrollments.c.prerequisite_deadline, T.enrollments.c.id).limit(batch))
        if s.get_bind().dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        rows = s.execute(q).all()
        for e in rows:
            E.cancel_row(uow, e, actor, "prerequisite_deadline_missed")
        uow.commit()
        if rows:
            log.info("cancelled %d enrollments whose prerequisite deadline passed", len(rows))
        return len(rows)


def recheck_stuck_requests(uow_factory, older_than_seconds: float, batch: int = 200) -> int:
    uow = uow_factory()
    with uow:
        cutoff = uow.now() - dt.timedelta(seconds=older_than_seconds)
        ids = list(uow.session.execute(select(T.enrollments.c.id).where(
            T.enrollments.c.status == "requested", or_(T.enrollments.c.updated_at < cutoff))
            .order_by(T.enrollments.c.id).limit(batch)).scalars())
    for enrollment_id in ids:
        try:
            E.check_prerequisites(uow_factory(), enrollment_id)
        except Exception:  # noqa: BLE001 - one bad row must not stop the sweep
            log.exception("re-check of enrollment %s failed", enrollment_id)
    return len(ids)
