"""The enrollment hot path's SQL, built once (building and cache-keying a statement costs ~0.3 ms each).

On PostgreSQL a single enrollment is five round trips: BEGIN; load session + course + trainee (locking
the trainee, drawing the new enrollment's id from its sequence); take a seat and read the trainee's
calendar in one statement; write the enrollment, its history and its outbox event in one statement;
COMMIT. Every round trip costs the request ~0.1 ms of waiting plus client and server CPU, and under load
the trainee and seat locks are held for fewer of them. SQLite has no network round trips and uses the
plain statements one by one.
"""
from __future__ import annotations

from sqlalchemy import (LABEL_STYLE_TABLENAME_PLUS_COL, and_, bindparam, func, literal, literal_column, or_, select,
                        text, true, update)

from services.enrollment.adapters import orm as T

CALENDAR_STATUSES = T.OPEN_STATUSES + ("attended",)
ENROLLMENT_COLUMNS = ("trainee_id", "session_id", "course_id", "status", "holds_seat", "version", "waitlisted_at",
                      "source", "requested_at", "updated_at")
HISTORY_COLUMNS = ("from_status", "to_status", "actor", "reason", "at")
OUTBOX_COLUMNS = ("event_id", "event_type", "source", "occurred_at", "correlation_id", "payload", "created_at",
                  "publish_attempts")


def _build() -> dict:
    has_prereq = (select(func.count()).select_from(T.course_prerequisites)
                  .where(T.course_prerequisites.c.course_id == T.courses.c.id).scalar_subquery())
    load = (select(T.sessions, T.courses, T.trainees, has_prereq.label("n_prereq"))
            .join(T.courses, T.courses.c.id == T.sessions.c.course_id)
            .join(T.trainees, T.trainees.c.id == bindparam("trainee_id"))
            .where(T.sessions.c.id == bindparam("session_id")).set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL))
    # PostgreSQL: lock the trainee (two requests of one trainee serialise, so the calendar check that
    # follows cannot be raced) and draw the enrollment id now, so the writes need not wait for it.
    next_id = literal_column("nextval(pg_get_serial_sequence('enrollments', 'id'))").label("next_id")
    load_pg = load.add_columns(next_id).with_for_update(of=T.trainees)

    e, ss, c = T.enrollments, T.sessions, T.courses
    calendar = (select(e.c.id, e.c.session_id, e.c.status, ss.c.starts_on, ss.c.ends_on, ss.c.seq_no, c.c.code,
                       c.c.name_ko, c.c.delivery)
                .join(ss, ss.c.id == e.c.session_id).join(c, c.c.id == e.c.course_id)
                .where(e.c.trainee_id == bindparam("trainee_id"), e.c.status.in_(CALENDAR_STATUSES),
                       or_(e.c.session_id == bindparam("session_id"),
                           and_(ss.c.starts_on <= bindparam("to_day"), ss.c.ends_on >= bindparam("from_day")))))
    take = (update(T.sessions).where(T.sessions.c.id == bindparam("sid"),
                                     T.sessions.c.seats_taken < T.sessions.c.capacity)
            .values(seats_taken=T.sessions.c.seats_taken + 1))

    # (Bind names must not be columns of ``sessions``: an UPDATE would take them as values to SET.)
    # PostgreSQL: the conditional seat UPDATE as a CTE beside the calendar read. One row per calendar
    # entry (or one row of NULLs), each carrying whether the seat was taken. If the calendar refuses the
    # enrollment the transaction rolls back and the seat with it.
    seat = take.returning(T.sessions.c.id).cte("seat")
    cal = calendar.subquery("cal")
    one = select(literal(1).label("one")).subquery("one")
    seat_and_calendar_pg = select(select(func.count()).select_from(seat).scalar_subquery().label("seated"),
                                  *cal.c).select_from(one.outerjoin(cal, true()))

    return {"load": load, "load_pg": load_pg, "calendar": calendar, "take": take,
            "seat_and_calendar_pg": seat_and_calendar_pg,
            "insert": T.enrollments.insert(), "history": T.enrollment_history.insert(),
            "write_pg_1": _write_pg(1), "write_pg_2": _write_pg(2)}


def _write_pg(history_rows: int):
    """INSERT the enrollment (id given), its history rows and its outbox row in one statement.

    Written as text over the tables' column names: SQLAlchemy cannot cache-key an INSERT carrying INSERT
    CTEs, and recompiling it cost ~1 ms per request.
    """
    def row(prefix, columns, first=()):
        return "(" + ", ".join([*first, *(f":{prefix}{c}" for c in columns)]) + ")"

    history = ", ".join(row(f"h{n}_", HISTORY_COLUMNS, first=(":e_id",)) for n in range(history_rows))
    sql = (f"WITH new_enrollment AS (INSERT INTO {T.enrollments.name} (id, {', '.join(ENROLLMENT_COLUMNS)}) "
           f"VALUES {row('e_', ENROLLMENT_COLUMNS, first=(':e_id',))}), "
           f"new_history AS (INSERT INTO {T.enrollment_history.name} (enrollment_id, {', '.join(HISTORY_COLUMNS)}) "
           f"VALUES {history}) "
           f"INSERT INTO {T.outbox.name} ({', '.join(OUTBOX_COLUMNS)}) VALUES {row('o_', OUTBOX_COLUMNS)}")
    return text(sql).bindparams(bindparam("o_payload", type_=T.outbox.c.payload.type))


def write_pg_params(enrollment_id: int, enrollment: dict, history: list[dict], outbox_row: dict) -> dict:
    params = {"e_id": enrollment_id, **{f"e_{k}": enrollment[k] for k in ENROLLMENT_COLUMNS},
              **{f"o_{k}": outbox_row[k] for k in OUTBOX_COLUMNS}}
    for n, h in enumerate(history):
        params.update({f"h{n}_{k}": h.get(k) for k in HISTORY_COLUMNS})
    return params


STATEMENTS = _build()
