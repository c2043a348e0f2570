"""Enrollment use cases: enroll, cancel, waitlist promotion, attendance outcomes, surveys.

Capacity is enforced by the database: a seat is taken with
``UPDATE sessions SET seats_taken = seats_taken + 1 WHERE id = :id AND seats_taken < capacity``,
which PostgreSQL re-checks after any concurrent writer commits and SQLite runs under its single
writer lock (BEGIN IMMEDIATE), and a CHECK constraint backs it up. So no interleaving of requests can
overbook, and whoever does not get a seat is waitlisted in arrival order.

Every status change goes through :func:`move`: the domain state machine validates it, the row's
``version`` is bumped with an optimistic check (two concurrent transitions cannot both apply), one
``enrollment_history`` row is appended and one ``hrd.enrollment.enrollment.<status>.v1`` event is
written to the outbox in the same transaction.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from types import SimpleNamespace

from sqlalchemy import LABEL_STYLE_TABLENAME_PLUS_COL, select, update
from sqlalchemy.exc import IntegrityError

from services.enrollment.adapters import enroll_statements, orm
from services.enrollment.domain import lifecycle, rules
from services.enrollment.domain.errors import IllegalTransition
from services.enrollment.service_layer import payloads
from services.enrollment.service_layer.errors import conflict, invalid, not_found
from services.enrollment.service_layer.mappers import domain_course, domain_trainee, merged, slot
from services.enrollment.service_layer.unit_of_work import UnitOfWork
from shared import outbox
from shared.db import dialect_name

T = orm
OPEN = orm.OPEN_STATUSES
#: Statuses whose (classroom) session occupies the trainee's calendar for conflict checks.
CALENDAR_BLOCKING = ("requested", "pending_prerequisite", "confirmed", "attended")
CHECK_PREREQUISITES_TASK = "enrollment.check_prerequisites"


_STMTS = enroll_statements.STATEMENTS


def _event_type(name: str) -> str:
    return f"hrd.enrollment.enrollment.{name}.v1"


# --- loading -------------------------------------------------------------------------------------------

def _lock(s, q):
    return q.with_for_update() if dialect_name(s) == "postgresql" else q


def load_enrollment(s, enrollment_id: int, lock: bool = False):
    q = select(T.enrollments).where(T.enrollments.c.id == enrollment_id)
    e = s.execute(_lock(s, q) if lock else q).first()
    if e is None:
        raise not_found("수강신청", "Enrollment", enrollment_id)
    return e


def _context(s, e):
    """(trainee, course, session) rows of an enrollment, in one query."""
    t, c, ss = T.trainees, T.courses, T.sessions
    row = s.execute(select(t, c, ss).select_from(t).join(c, c.c.id == e.course_id).join(ss, ss.c.id == e.session_id)
                    .where(t.c.id == e.trainee_id).set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)).one()
    m = row._mapping
    split = {}
    for key, value in m.items():
        table, _, col = key.partition("_")
        split.setdefault(table, {})[col] = value
    return (SimpleNamespace(**split["trainees"]), SimpleNamespace(**split["courses"]),
            SimpleNamespace(**split["sessions"]))


def prerequisite_rows(s, course_id: int) -> list:
    return s.execute(select(T.courses).join(T.course_prerequisites,
                                            T.course_prerequisites.c.required_course_id == T.courses.c.id)
                     .where(T.course_prerequisites.c.course_id == course_id).order_by(T.courses.c.code)).all()


def completed_course_ids(s, trainee_id: int, course_ids) -> set[int]:
    if not course_ids:
        return set()
    return set(s.execute(select(T.completions.c.course_id).where(
        T.completions.c.trainee_id == trainee_id, T.completions.c.course_id.in_(list(course_ids)))).scalars())


# --- seats and transitions -----------------------------------------------------------------------------

def take_seat(s, session_id: int) -> bool:
    """Atomically take one seat if any is free."""
    return s.execute(_STMTS["take"], {"sid": session_id}).rowcount == 1


def release_seat(s, session_id: int) -> None:
    s.execute(update(T.sessions).where(T.sessions.c.id == session_id, T.sessions.c.seats_taken > 0)
              .values(seats_taken=T.sessions.c.seats_taken - 1))


def record_transition(s, enrollment_id: int, from_status, to_status: str, actor: str, reason, at) -> None:
    s.execute(T.enrollment_history.insert().values(enrollment_id=enrollment_id, from_status=from_status,
                                                    to_status=to_status, actor=actor, reason=reason, at=at))


def move(uow: UnitOfWork, e, to_status: str, actor: str, reason: str | None = None, *, event: str | None = None,
         values: dict | None = None, missing=(), ctx=None):
    """Apply one state-machine transition to enrollment row ``e``; returns the updated row (namespace)."""
    s = uow.session
    now = uow.now()
    try:
        lifecycle.transition(e.status, to_status, actor=actor, at=now, reason=reason or "")
    except IllegalTransition as exc:
        raise conflict("illegal_transition", exc.message_ko, exc.message_en,
                       {"status": [f"{e.status} -> {to_status}"]}) from None
    changes = {"status": to_status, "version": e.version + 1, "updated_at": now, **(values or {})}
    res = s.execute(update(T.enrollments).where(T.enrollments.c.id == e.id, T.enrollments.c.version == e.version)
                    .values(**changes))
    if res.rowcount != 1:
        raise conflict("concurrent_update", "다른 요청이 이 신청을 먼저 변경했습니다. 다시 시도해 주세요.",
                       "Another request changed this enrollment first; please retry.")
    record_transition(s, e.id, e.status, to_status, actor, reason, now)
    new = merged(e, **changes)
    trainee, course, session = ctx or _context(s, new)
    uow.emit(_event_type(event or to_status),
             payloads.enrollment_event(new, trainee, course, session, e.status, actor, reason, missing))
    return new


def _emit(uow: UnitOfWork, event_type: str, enrollment_id: int, previous_status, actor, reason=None):
    """Emit an enrollment event for the row as it is now (kept for callers of the backbone's helper)."""
    e = load_enrollment(uow.session, enrollment_id)
    uow.emit(event_type, payloads.enrollment_event(e, *_context(uow.session, e), previous_status, actor, reason))
    return e


# --- enroll --------------------------------------------------------------------------------------------

def enroll(uow: UnitOfWork, trainee_id: int, session_id: int, actor: str, *, override_window: bool = False,
           source: str = "api") -> dict:
    with uow:
        s = uow.session.connection()  # Core on the unit of work's connection: no ORM bookkeeping per statement
        pg = dialect_name(s) == "postgresql"  # the five-round-trip path (adapters.enroll_statements)
        # One round trip for the session, its course and the trainee (the hot path of the service). On
        # PostgreSQL the trainee row is locked: two concurrent requests of one trainee for overlapping
        # sessions serialise, so the second sees the first and the calendar check cannot be raced.
        row = s.execute(_STMTS["load_pg" if pg else "load"], {"session_id": session_id, "trainee_id": trainee_id}).first()
        if row is None:
            if s.execute(select(T.sessions.c.id).where(T.sessions.c.id == session_id)).first() is None:
                raise not_found("회차", "Session", session_id)
            raise not_found("교육생", "Trainee", trainee_id)
        m = row._mapping
        session = SimpleNamespace(**{k[9:]: v for k, v in m.items() if k.startswith("sessions_")})
        course = SimpleNamespace(**{k[8:]: v for k, v in m.items() if k.startswith("courses_")})
        trainee = SimpleNamespace(**{k[9:]: v for k, v in m.items() if k.startswith("trainees_")})
        if session.status == "cancelled":
            raise conflict("session_cancelled", "취소된 회차에는 신청할 수 없습니다.", "The session has been cancelled.",
                           {"session_id": [session_id]})
        if not override_window:
            check_window(session, uow.today())
        refusal = rules.check_eligibility(domain_course(course), domain_trainee(trainee))
        if refusal is not None:
            raise invalid(refusal.code.lower(), refusal.reason_ko, refusal.reason_en,
                          {"trainee_id": [refusal.reason_en], "session_id": [session_id]})
        calendar_params = {"trainee_id": trainee_id, "session_id": session.id, "from_day": session.starts_on,
                           "to_day": session.ends_on}
        if pg:  # the seat is taken in the same statement; a refusal below rolls it back
            rows = s.execute(_STMTS["seat_and_calendar_pg"], {**calendar_params, "sid": session_id}).all()
            seated = rows[0].seated == 1
            refuse_calendar_conflicts([r for r in rows if r.id is not None], session, course)
        else:
            refuse_calendar_conflicts(s.execute(_STMTS["calendar"], calendar_params).all(), session, course)
            seated = take_seat(s, session_id)

        now = uow.now()
        status = "waitlisted"
        missing: list = []
        if seated:
            status = "confirmed"
            if m["n_prereq"]:
                required = prerequisite_rows(s, course.id)
                done = completed_course_ids(s, trainee_id, [r.id for r in required])
                missing = [r for r in required if r.id not in done]
                if missing:
                    status = "requested"  # the prerequisite task decides, asynchronously
        values = {"trainee_id": trainee_id, "session_id": session_id, "course_id": course.id, "status": status,
                  "holds_seat": seated, "version": 1, "waitlisted_at": None if seated else now, "source": source,
                  "requested_at": now, "updated_at": now}
        history = [{"from_status": None, "to_status": "requested", "actor": actor,
                    "reason": "정원 외 신청(기간 예외) / window overridden" if override_window else None, "at": now}]
        if status != "requested":
            history.append({"from_status": "requested", "to_status": status, "actor": actor, "at": now,
                            "reason": None if seated else "정원 초과로 대기 / waitlisted: session full"})
        try:
            if pg:  # the id was drawn by the load; everything is written in one statement below
                enrollment_id = m["next_id"]
            else:
                enrollment_id = s.execute(_STMTS["insert"], values).inserted_primary_key[0]
                s.execute(_STMTS["history"], [{"enrollment_id": enrollment_id, **h} for h in history])
            e = _new_enrollment(enrollment_id, values)
            event = uow.emit(_event_type("created"), payloads.enrollment_event(e, trainee, course, session, None,
                                                                               actor, None, missing))
            if pg:
                s.execute(_STMTS[f"write_pg_{len(history)}"], enroll_statements.write_pg_params(
                    enrollment_id, values, history, outbox.outbox_rows([event])[0]))
                uow.written_to_outbox(event)
        except IntegrityError:  # a concurrent request for the same trainee and session won the race
            raise conflict("already_enrolled", "이미 이 회차에 신청되어 있습니다.",
                           "The trainee is already enrolled in this session.", {"session_id": [session_id]})
        if status == "requested":
            celery = uow.celery
            if celery is not None:
                uow.after_commit(lambda: celery.send_task(CHECK_PREREQUISITES_TASK, args=[enrollment_id]))
        uow.commit()
        return vars(e)


def _new_enrollment(enrollment_id: int, values: dict) -> SimpleNamespace:
    return SimpleNamespace(id=enrollment_id, **values, prerequisite_deadline=None, for_enrollment_id=None)


def check_window(session, today: dt.date) -> None:
    opens, closes = session.enroll_opens_on, session.enroll_closes_on
    if opens and today < opens:
        raise conflict("enrollment_not_open", f"신청 기간은 {opens:%Y-%m-%d}부터입니다.",
                       f"Enrollment opens on {opens:%Y-%m-%d}.", {"session_id": [f"opens {opens}"]})
    if closes and today > closes:
        raise conflict("enrollment_closed", f"신청 기간({closes:%Y-%m-%d} 마감)이 지났습니다.",
                       f"Enrollment closed on {closes:%Y-%m-%d}.", {"session_id": [f"closed {closes}"]})


def refuse_calendar_conflicts(rows, session, course) -> None:
    """Refuse a second open enrollment in the same session and overlapping classroom sessions.

    ``rows`` are the trainee's open enrollments the calendar query found (same session or overlapping dates)."""
    for r in rows:
        if r.session_id == session.id and r.status in OPEN:
            raise conflict("already_enrolled", "이미 이 회차에 신청되어 있습니다.",
                           "The trainee is already enrolled in this session.",
                           {"session_id": [session.id], "enrollment_id": r.id})
    booked = {str(r.session_id): r for r in rows if r.status in CALENDAR_BLOCKING and r.session_id != session.id}
    clashes = rules.find_conflicts(slot(session.id, session.starts_on, session.ends_on, course.delivery),
                                   [slot(r.session_id, r.starts_on, r.ends_on, r.delivery) for r in booked.values()])
    if clashes:
        other = booked[clashes[0].session_code]
        raise conflict("schedule_conflict",
                       f"이미 신청한 '{other.name_ko}' {other.seq_no}회차({other.starts_on:%Y-%m-%d}~"
                       f"{other.ends_on:%Y-%m-%d})와 일정이 겹칩니다.",
                       f"The session overlaps '{other.code}' session {other.seq_no} ({other.starts_on:%Y-%m-%d} to "
                       f"{other.ends_on:%Y-%m-%d}) the trainee is already enrolled in.",
                       {"session_id": [session.id], "conflicting_enrollment_id": other.id})


# --- prerequisites ---------------------------------------------------------------------------------------

def _auto_enroll_elearning(uow: UnitOfWork, trainee_id: int, prereq, deadline: dt.datetime, for_id: int,
                           actor: str) -> int | None:
    """Enroll the trainee in a cohort of e-learning course ``prereq`` that runs before ``deadline``.

    Cohort windows are ignored (the system enrolls on the trainee's behalf). An open enrollment in the
    course already counts. Preference: a cohort running today with a free seat, then the next one
    starting before the deadline; if every such cohort is full, the trainee waits on the earliest.
    """
    s = uow.session
    existing = s.execute(select(T.enrollments.c.id).where(
        T.enrollments.c.trainee_id == trainee_id, T.enrollments.c.course_id == prereq.id,
        T.enrollments.c.status.in_(OPEN + ("attended",)))).first()
    if existing:
        return existing.id
    today = uow.today()
    last_day = deadline.astimezone(rules.SEOUL).date()
    cohorts = s.execute(select(T.sessions).where(
        T.sessions.c.course_id == prereq.id, T.sessions.c.status != "cancelled",
        T.sessions.c.starts_on <= last_day, T.sessions.c.ends_on >= today)
        .order_by(T.sessions.c.starts_on, T.sessions.c.id)).all()
    if not cohorts:  # nothing runs before the deadline: take the latest cohort that started before it
        cohorts = s.execute(select(T.sessions).where(
            T.sessions.c.course_id == prereq.id, T.sessions.c.status != "cancelled",
            T.sessions.c.starts_on <= last_day).order_by(T.sessions.c.starts_on.desc()).limit(1)).all()
    if not cohorts:
        return None
    now = uow.now()
    chosen, seated = cohorts[0], False
    for cohort in cohorts:
        if take_seat(s, cohort.id):
            chosen, seated = cohort, True
            break
    status = "confirmed" if seated else "waitlisted"
    eid = s.execute(T.enrollments.insert().values(
        trainee_id=trainee_id, session_id=chosen.id, course_id=prereq.id, status=status, holds_seat=seated,
        version=1, waitlisted_at=None if seated else now, source="prerequisite", for_enrollment_id=for_id,
        requested_at=now, updated_at=now)).inserted_primary_key[0]
    reason = f"선수 이러닝 자동 신청 / prerequisite for enrollment {for_id}"
    s.execute(T.enrollment_history.insert(), [
        {"enrollment_id": eid, "from_status": None, "to_status": "requested", "actor": actor, "reason": reason,
         "at": now},
        {"enrollment_id": eid, "from_status": "requested", "to_status": status, "actor": actor, "reason": reason,
         "at": now}])
    e = s.execute(select(T.enrollments).where(T.enrollments.c.id == eid)).one()
    uow.emit(_event_type("created"), payloads.enrollment_event(e, *_context(s, e), None, actor, reason))
    return eid


def settle_prerequisites(uow: UnitOfWork, e, actor: str, *, event: str | None = None, promote: bool = True):
    """Decide a seat-holding enrollment against its prerequisites (from ``requested`` or on promotion).

    Satisfied → confirmed; missing with time left → pending_prerequisite with a deadline, and the trainee
    is enrolled in the missing e-learning; missing and the deadline already passed → cancelled.
    """
    s = uow.session
    ctx = _context(s, e)
    trainee, course, session = ctx
    required = prerequisite_rows(s, course.id)
    done = completed_course_ids(s, e.trainee_id, [r.id for r in required])
    check = rules.check_prerequisites([r.code for r in required], [r.code for r in required if r.id in done],
                                      session.starts_on, uow.now(), int(uow.settings["PREREQUISITE_DAYS_BEFORE"]))
    if check.satisfied:
        return move(uow, e, "confirmed", actor, None, event=event, ctx=ctx)
    missing = [r for r in required if r.code in check.missing]
    if check.refusal is not None:
        return cancel_row(uow, e, actor, "prerequisite_deadline_passed", ctx=ctx, missing=missing, promote=promote)
    for prereq in missing:
        _auto_enroll_elearning(uow, e.trainee_id, prereq, check.deadline, e.id, actor)
    codes = ", ".join(r.code for r in missing)
    return move(uow, e, "pending_prerequisite", actor, f"선수 이러닝 미이수 / missing prerequisites: {codes}",
                event=event, values={"prerequisite_deadline": check.deadline.astimezone(dt.timezone.utc)}, missing=missing, ctx=ctx)


def check_prerequisites(uow: UnitOfWork, enrollment_id: int, actor: str = "system:prerequisites") -> str | None:
    """The asynchronous check of a ``requested`` enrollment (idempotent: other statuses are left alone)."""
    with uow:
        e = load_enrollment(uow.session, enrollment_id, lock=True)
        if e.status != "requested":
            return e.status
        new = settle_prerequisites(uow, e, actor)
        uow.commit()
        return new.status


def confirm_satisfied(uow: UnitOfWork, trainee_id: int, actor: str) -> list[int]:
    """After a completion: confirm the trainee's pending_prerequisite enrollments now fully satisfied."""
    s = uow.session
    pending = s.execute(_lock(s, select(T.enrollments).where(
        T.enrollments.c.trainee_id == trainee_id, T.enrollments.c.status == "pending_prerequisite"))).all()
    confirmed = []
    for e in pending:
        required = [r.id for r in prerequisite_rows(s, e.course_id)]
        if set(required) <= completed_course_ids(s, trainee_id, required):
            move(uow, e, "confirmed", actor, "선수 이러닝 이수 / prerequisites completed",
                 values={"prerequisite_deadline": None})
            confirmed.append(e.id)
    return confirmed


# --- cancel and promote ----------------------------------------------------------------------------------

def cancel_row(uow: UnitOfWork, e, actor: str, reason: str | None, *, ctx=None, missing=(), promote: bool = True):
    new = move(uow, e, "cancelled", actor, reason, values={"holds_seat": False}, ctx=ctx, missing=missing)
    if e.holds_seat:
        release_seat(uow.session, e.session_id)
        if promote:
            promote_waitlist(uow, e.session_id, actor="system:waitlist")
    return new


def cancel(uow: UnitOfWork, enrollment_id: int, actor: str, reason: str | None = None) -> dict:
    with uow:
        s = uow.session
        e = load_enrollment(s, enrollment_id, lock=True)
        if e.status not in OPEN:
            raise conflict("not_cancellable", f"'{e.status}' 상태의 신청은 취소할 수 없습니다.",
                           f"An enrollment in status '{e.status}' cannot be cancelled.", {"status": [e.status]})
        cancel_row(uow, e, actor, reason)
        uow.commit()
        return dict(load_enrollment(s, enrollment_id)._mapping)


def promote_waitlist(uow: UnitOfWork, session_id: int, actor: str, page: int = 100) -> list[int]:
    """Give free seats to waitlisted trainees, first come first served, skipping anyone who now has a
    calendar conflict (``rules.choose_promotion``). Runs inside the caller's unit of work."""
    s = uow.session
    session = s.execute(select(T.sessions).where(T.sessions.c.id == session_id)).one()
    if session.status == "cancelled":
        return []
    delivery = s.execute(select(T.courses.c.delivery).where(T.courses.c.id == session.course_id)).scalar_one()
    target = slot(session.id, session.starts_on, session.ends_on, delivery)
    promoted: list[int] = []
    passed_over: set[int] = set()
    while True:
        free = s.execute(select(T.sessions.c.capacity - T.sessions.c.seats_taken)
                         .where(T.sessions.c.id == session_id)).scalar_one()
        if free <= 0:
            return promoted
        q = (select(T.enrollments).where(T.enrollments.c.session_id == session_id,
                                         T.enrollments.c.status == "waitlisted")
             .order_by(T.enrollments.c.waitlisted_at, T.enrollments.c.id).limit(page))
        if passed_over:
            q = q.where(T.enrollments.c.id.notin_(passed_over))
        if dialect_name(s) == "postgresql":
            q = q.with_for_update(skip_locked=True)
        waiting = s.execute(q).all()
        if not waiting:
            return promoted
        booked = _calendars(s, [w.trainee_id for w in waiting], session)
        entries = [rules.WaitlistEntry(str(w.id), str(w.trainee_id), w.waitlisted_at or w.requested_at)
                   for w in waiting]
        decision = rules.choose_promotion(entries, target, booked)
        passed_over.update(int(entry.enrollment_id) for entry, _ in decision.skipped)
        if decision.promote is None:
            continue
        chosen = next(w for w in waiting if w.id == int(decision.promote.enrollment_id))
        if not take_seat(s, session_id):
            return promoted
        moved = _promote_one(uow, chosen, actor)
        if moved is not None:
            promoted.append(chosen.id)


def _promote_one(uow: UnitOfWork, e, actor: str):
    s = uow.session
    seat = {"holds_seat": True}
    required = prerequisite_rows(s, e.course_id)
    if required and not set(r.id for r in required) <= completed_course_ids(s, e.trainee_id, [r.id for r in required]):
        e = merged(e, holds_seat=True)
        s.execute(update(T.enrollments).where(T.enrollments.c.id == e.id).values(holds_seat=True))
        new = settle_prerequisites(uow, e, actor, event="promoted", promote=False)  # the caller loops on
        return new if new.status != "cancelled" else None
    return move(uow, e, "confirmed", actor, "대기자 자동 승급 / promoted from waitlist", event="promoted",
                values=seat)


def _calendars(s, trainee_ids, session) -> dict[str, list]:
    e, ss, c = T.enrollments, T.sessions, T.courses
    rows = s.execute(select(e.c.trainee_id, e.c.session_id, ss.c.starts_on, ss.c.ends_on, c.c.delivery)
                     .join(ss, ss.c.id == e.c.session_id).join(c, c.c.id == e.c.course_id)
                     .where(e.c.trainee_id.in_(trainee_ids), e.c.status.in_(CALENDAR_BLOCKING),
                            e.c.session_id != session.id,
                            ss.c.starts_on <= session.ends_on, ss.c.ends_on >= session.starts_on)).all()
    out: dict[str, list] = defaultdict(list)
    for r in rows:
        out[str(r.trainee_id)].append(slot(r.session_id, r.starts_on, r.ends_on, r.delivery))
    return out


# --- attendance, completion, survey --------------------------------------------------------------------

OUTCOMES = ("attended", "no_show", "completed", "failed")


def apply_outcome(uow: UnitOfWork, e, outcome: str, actor: str, reason: str | None = None):
    """Operator outcome: confirmed → attended | no_show; attended → completed | failed (a completed/failed
    outcome on a confirmed enrollment passes through attended, each step in the history)."""
    if outcome in ("completed", "failed") and e.status == "confirmed":
        e = move(uow, e, "attended", actor, reason)
    new = move(uow, e, outcome, actor, reason)
    if outcome == "completed":
        record_completion_row(uow, e.trainee_id, e.course_id, uow.now(), f"enrollment:{e.id}", actor)
    return new


def record_outcome(uow: UnitOfWork, enrollment_id: int, outcome: str, actor: str, reason: str | None = None) -> dict:
    with uow:
        e = load_enrollment(uow.session, enrollment_id, lock=True)
        apply_outcome(uow, e, outcome, actor, reason)
        uow.commit()
        return dict(load_enrollment(uow.session, enrollment_id)._mapping)


def record_session_outcomes(uow: UnitOfWork, session_id: int, records: list[dict], actor: str) -> list[dict]:
    """Batch attendance for one session: all records apply, or none (422 naming each bad record)."""
    with uow:
        s = uow.session
        if s.execute(select(T.sessions.c.id).where(T.sessions.c.id == session_id)).first() is None:
            raise not_found("회차", "Session", session_id)
        rows = s.execute(_lock(s, select(T.enrollments).where(T.enrollments.c.session_id == session_id))).all()
        by_id = {r.id: r for r in rows}
        by_trainee = {r.trainee_id: r for r in rows if r.status not in ("cancelled",)}
        errors: dict[str, list[str]] = {}
        plan = []
        for i, rec in enumerate(records):
            e = by_id.get(rec.get("enrollment_id")) if rec.get("enrollment_id") else by_trainee.get(rec.get("trainee_id"))
            if e is None:
                errors[str(i)] = ["이 회차의 수강신청이 아닙니다 / no such enrollment in this session"]
                continue
            path = [rec["outcome"]]
            if rec["outcome"] in ("completed", "failed") and e.status == "confirmed":
                path = ["attended", rec["outcome"]]
            current = e.status
            for step in path:
                if not lifecycle.can_transition(lifecycle.S(current), lifecycle.S(step)):
                    errors[str(i)] = [f"'{e.status}' → '{rec['outcome']}' 변경 불가 / illegal transition"]
                    break
                current = step
            plan.append((e, rec))
        if errors:
            raise invalid("invalid_records", "출결 기록에 오류가 있어 아무것도 저장하지 않았습니다.",
                          "Some records are invalid; nothing was saved.", {"records": errors})
        out = []
        for e, rec in plan:
            out.append(vars(apply_outcome(uow, e, rec["outcome"], actor, rec.get("reason"))))
        uow.commit()
        return out


def record_completion_row(uow: UnitOfWork, trainee_id: int, course_id: int, completed_at: dt.datetime,
                          source: str | None, actor: str) -> bool:
    """Store a course completion once (natural key trainee+course) and let it settle what waits on it."""
    s = uow.session
    completed_at = completed_at.astimezone(dt.timezone.utc)  # stored in UTC (SQLite drops offsets)
    if s.execute(select(T.completions.c.id).where(T.completions.c.trainee_id == trainee_id,
                                                  T.completions.c.course_id == course_id)).first():
        return False
    s.execute(T.completions.insert().values(trainee_id=trainee_id, course_id=course_id, completed_at=completed_at,
                                            source=source, created_at=uow.now()))
    uow.emit("hrd.enrollment.completion.recorded.v1", {
        "trainee_id": trainee_id, "course_id": course_id, "completed_at": payloads._iso(completed_at),
        "source": source})
    # the trainee's open e-learning enrollment in this course is completed too
    for e in s.execute(_lock(s, select(T.enrollments).where(
            T.enrollments.c.trainee_id == trainee_id, T.enrollments.c.course_id == course_id,
            T.enrollments.c.status.in_(("confirmed", "attended", "waitlisted", "requested"))))).all():
        if e.status == "waitlisted" or e.status == "requested":
            cancel_row(uow, e, actor, "completed_elsewhere")
        else:
            if e.status == "confirmed":
                e = move(uow, e, "attended", actor, "이수 기록 / completion recorded")
            move(uow, e, "completed", actor, "이수 기록 / completion recorded")
    confirm_satisfied(uow, trainee_id, actor)
    return True


def submit_survey(uow: UnitOfWork, enrollment_id: int, score: float, comment: str | None, answers, actor: str) -> dict:
    with uow:
        s = uow.session
        e = load_enrollment(s, enrollment_id)
        if e.status not in ("attended", "completed", "failed"):
            raise conflict("not_attended", "출석한 교육에 대해서만 설문에 답할 수 있습니다.",
                           "Only an attended enrollment can answer the survey.", {"status": [e.status]})
        now = uow.now()
        try:
            with s.begin_nested():
                sid = s.execute(T.survey_answers.insert().values(
                    enrollment_id=e.id, trainee_id=e.trainee_id, score=score, comment=comment, answers=answers,
                    submitted_at=now)).inserted_primary_key[0]
        except IntegrityError:
            raise conflict("survey_already_submitted", "이미 설문에 답했습니다.", "The survey was already answered.",
                           {"enrollment_id": [enrollment_id]})
        _, course, session = _context(s, e)
        uow.emit("hrd.enrollment.survey.submitted.v1", {
            "enrollment_id": e.id, "trainee_id": e.trainee_id, "course_id": e.course_id, "session_id": e.session_id,
            "year": course.year, "score": score, "comment": comment})
        uow.commit()
        return {"id": sid, "enrollment_id": e.id, "score": score, "comment": comment, "answers": answers,
                "submitted_at": now}


def history(s, enrollment_id: int) -> list[dict]:
    load_enrollment(s, enrollment_id)
    return [dict(r._mapping) for r in s.execute(select(T.enrollment_history).where(
        T.enrollment_history.c.enrollment_id == enrollment_id).order_by(T.enrollment_history.c.id))]
