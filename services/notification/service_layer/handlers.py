"""What the notification service does with each enrollment-service event.

Runs inside ``notification.consume_events``: the inbox row, the state change and the planned rows
commit together, so a redelivered event changes nothing. Enrollment events carry a per-enrollment
``version``; the state keeps the highest one and older events are ignored, so a late "confirmed"
cannot resurrect a cancelled enrollment (nor re-plan its reminders).

| event | effect |
| --- | --- |
| enrollment created/confirmed (status confirmed) | confirmation (now) + reminders; nudges withdrawn |
| enrollment waitlisted (or created waitlisted) | waitlist notice (now) |
| enrollment promoted | promotion notice (now) + reminders (or nudges if promoted to pending_prerequisite) |
| enrollment pending_prerequisite | prerequisite nudges before the deadline |
| enrollment cancelled | pending reminders/nudges/survey withdrawn; cancellation notice (session_cancelled if the session was) |
| enrollment attended/completed | survey request after the session ends; reminders/nudges withdrawn |
| enrollment no_show | pending reminders/nudges/survey withdrawn |
| session rescheduled (or any session event moving its dates) | reminders (and nudges, deadline moved along) re-planned, notice (now) |
| session cancelled | pending reminders/nudges/survey withdrawn, session_cancelled notice (now) |
| course created/updated | reminder offsets stored; reminders of confirmed enrollments re-planned |
| trainee registered/updated | contact data and language updated |
| completion recorded | prerequisite crossed off; no prerequisite left = nudges withdrawn |
"""
from __future__ import annotations

import datetime as dt
import logging

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.notification.adapters import orm
from services.notification.domain import occurrence as occ
from services.notification.domain.kinds import MessageKind as K
from services.notification.domain.planning import plan_prerequisite_nudges, plan_reminders, plan_survey_request
from services.notification.service_layer import planner
from services.notification.service_layer.settings import NotificationSettings
from shared.clock import as_utc as _aware
from shared.consumer import EventHandlers
from shared.db import upsert_insert
from shared.events import enrollment as ev

log = logging.getLogger(__name__)

handlers = EventHandlers()
#: One schema instance per payload type: building a marshmallow schema per event was ~10% of a batch.
_SCHEMAS = {name: getattr(ev, name)() for name in ("EnrollmentEventV1", "SessionSnapshotV1", "CourseSnapshotV1",
                                                    "TraineeSnapshotV1", "CompletionRecordedV1")}

S = orm.enrollment_state
SS = orm.session_state
OPEN = ("confirmed", "waitlisted", "pending_prerequisite")
SURVEY_STATUSES = ("attended", "completed", "failed")
#: What a cancellation withdraws: the planned kinds. Notices already decided (a confirmation not yet
#: out when the cancellation arrives) still go, so the trainee's inbox tells the whole story.
SCHEDULED = (K.REMINDER, K.PREREQUISITE_NUDGE, K.SURVEY_REQUEST)


def settings() -> NotificationSettings:
    return current_app.extensions["notification_settings"]


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else _aware(value).astimezone(dt.timezone.utc)


# -- enrollment events -----------------------------------------------------------------------------

ENROLLMENT_EVENTS = ("hrd.enrollment.enrollment.created.v1", "hrd.enrollment.enrollment.promoted.v1",
                     *(f"hrd.enrollment.enrollment.{s}.v1" for s in ev.ENROLLMENT_STATUSES if s != "requested"))


def load_enrollment(env: dict) -> dict:
    """The validated payload of an enrollment event (raises on a payload the catalogue does not allow)."""
    return _SCHEMAS['EnrollmentEventV1'].load(env["payload"])


def enrollment_action(env: dict) -> str:
    """``created``, ``promoted`` or the target status, from the event type."""
    return env["type"].split(".")[3]


@handlers.on(*ENROLLMENT_EVENTS)
def on_enrollment(s: Session, env: dict) -> None:
    apply_enrollment(s, settings(), load_enrollment(env), enrollment_action(env))


def apply_enrollment(s: Session, st: NotificationSettings, p: dict, action: str) -> None:
    """One enrollment event, on its own (``service_layer.batch`` applies the common ones set-based)."""
    state = _apply_state(s, st, p)
    if state is None:  # an older (or the same) version: already superseded, nothing to do
        return
    _ensure_session(s, p["session"], p["course"]["id"])
    eid = state["enrollment_id"]
    status = p["status"]
    if action == "promoted":  # a seat from the waitlist: confirmed, or pending_prerequisite first
        planner.add_immediate(s, st, state, K.PROMOTED)
        if status == "pending_prerequisite":
            plan_nudges(s, st, state)
        else:
            planner.withdraw(s, st, [eid], [K.PREREQUISITE_NUDGE], "confirmed")
            plan_enrollment_reminders(s, st, state)
    elif status == "confirmed":
        planner.add_immediate(s, st, state, K.ENROLLMENT_CONFIRMED)
        planner.withdraw(s, st, [eid], [K.PREREQUISITE_NUDGE], "confirmed")
        plan_enrollment_reminders(s, st, state)
    elif status == "waitlisted":
        position = p.get("waitlist_position") or _waitlist_position(s, state)
        planner.add_immediate(s, st, state, K.WAITLISTED, context={"waitlist_position": position})
    elif status == "pending_prerequisite":
        plan_nudges(s, st, state)
    elif status == "cancelled":
        planner.withdraw(s, st, [eid], SCHEDULED, "cancelled")
        session = s.execute(select(SS).where(SS.c.session_id == state["session_id"])).first()
        by_session = (session is not None and session.status == "cancelled") or \
            (p.get("reason") or "").startswith("session_cancelled")
        kind = K.SESSION_CANCELLED if by_session else K.CANCELLED
        planner.add_immediate(s, st, state, kind, context={"reason": p.get("reason")})
    elif status in SURVEY_STATUSES:
        planner.withdraw(s, st, [eid], [K.REMINDER, K.PREREQUISITE_NUDGE], status)
        if status != "failed":  # failed implies attended: the survey planned then still stands
            plan_survey(s, st, state)
    elif status == "no_show":
        planner.withdraw(s, st, [eid], SCHEDULED, "no_show")


def state_values(p: dict, now: dt.datetime) -> dict:
    """The ``enrollment_state`` row an enrollment event carries."""
    t, c = p["trainee"], p["course"]
    return {
        "enrollment_id": p["enrollment_id"], "version": p["version"], "status": p["status"],
        "trainee_id": t["id"], "trainee_name": t["name"], "email": t.get("email"), "mobile": t.get("mobile"),
        "language": t.get("preferred_language") or "ko", "course_id": c["id"], "course_name_ko": c["name_ko"],
        "course_name_en": c.get("name_en"), "session_id": p["session"]["id"],
        "prerequisite_deadline": _utc(p.get("prerequisite_deadline")),
        "missing_prerequisites": [{"id": m["id"], "name_ko": m["name_ko"], "name_en": m.get("name_en")}
                                  for m in p.get("missing_prerequisites") or []],
        "updated_at": now,
    }


def _apply_state(s: Session, st: NotificationSettings, p: dict) -> dict | None:
    """Store the enrollment at ``p['version']`` unless a newer version is there; None if stale."""
    values = state_values(p, st.now())
    inserted = s.execute(upsert_insert(s)(S).values(**values)
                         .on_conflict_do_nothing(index_elements=["enrollment_id"])
                         .returning(S.c.enrollment_id)).first()
    if inserted is None:
        # Conditional on the version: two workers applying v2 and v3 at once cannot go backwards.
        updated = s.execute(update(S).where(S.c.enrollment_id == p["enrollment_id"], S.c.version < p["version"])
                            .values(**values)).rowcount
        if not updated:
            return None
    return values


def session_values(ref: dict, course_id: int) -> dict:
    """The ``session_state`` row an enrollment event's session reference gives (no session event seen)."""
    return {"session_id": ref["id"], "course_id": course_id, "seq_no": ref.get("seq_no"), "starts_on": ref["starts_on"],
            "ends_on": ref["ends_on"], "venue": ref.get("venue"), "status": "scheduled", "event_at": None}


def _ensure_session(s: Session, ref: dict, course_id: int) -> None:
    """Know the session's dates: the first enrollment event tells them if no session event did."""
    s.execute(upsert_insert(s)(SS).values(**session_values(ref, course_id))
              .on_conflict_do_nothing(index_elements=["session_id"]))


def _waitlist_position(s: Session, state: dict) -> int:
    ahead = s.execute(select(S.c.enrollment_id).where(
        S.c.session_id == state["session_id"], S.c.status == "waitlisted",
        S.c.enrollment_id < state["enrollment_id"])).all()
    return len(ahead) + 1


def _course_offsets(s: Session, st: NotificationSettings, course_id: int) -> tuple[int, ...]:
    row = s.execute(select(orm.course_settings.c.reminder_offsets_days)
                    .where(orm.course_settings.c.course_id == course_id)).first()
    return offsets_or_default(st, None if row is None else row[0])


def offsets_or_default(st: NotificationSettings, stored: list | None) -> tuple[int, ...]:
    """A course's ``reminder_offsets_days`` (NULL or empty = the service default)."""
    if stored:
        return tuple(int(x) for x in stored)
    return st.reminder_offsets


def reminders_for(st: NotificationSettings, session, offsets: tuple[int, ...]) -> list:
    """The reminders a confirmed enrollment in ``session`` (a ``session_state`` row) should have."""
    return [] if session.status == "cancelled" else plan_reminders(
        planner.session_start(session.starts_on, st), now=st.now(), offsets=offsets, send_time=st.reminder_time)


def plan_enrollment_reminders(s: Session, st: NotificationSettings, state) -> None:
    session = s.execute(select(SS).where(SS.c.session_id == state["session_id"])).one()
    desired = reminders_for(st, session, _course_offsets(s, st, state["course_id"]))
    planner.replan(s, st, enrollment_id=state["enrollment_id"], trainee_id=state["trainee_id"],
                   kinds=[K.REMINDER], desired=desired)


def plan_nudges(s: Session, st: NotificationSettings, state) -> None:
    deadline = _aware(state["prerequisite_deadline"])
    if deadline is None:  # no deadline given: the pre-study must be done the day before the session
        session = s.execute(select(SS).where(SS.c.session_id == state["session_id"])).one()
        deadline = planner.session_start(session.starts_on - dt.timedelta(days=1), st)
    missing = state["missing_prerequisites"] or []
    desired = plan_prerequisite_nudges(deadline, now=st.now(), completed=not missing, offsets=st.nudge_offsets)
    planner.replan(s, st, enrollment_id=state["enrollment_id"], trainee_id=state["trainee_id"],
                   kinds=[K.PREREQUISITE_NUDGE], desired=desired)


def plan_survey(s: Session, st: NotificationSettings, state) -> None:
    session = s.execute(select(SS).where(SS.c.session_id == state["session_id"])).one()
    desired = plan_survey_request(session.ends_on, now=st.now())
    for p in desired:
        planner.add(s, st, enrollment_id=state["enrollment_id"], trainee_id=state["trainee_id"], kind=p.kind,
                    occurrence=p.occurrence, due_at=p.due_at)


# -- session events --------------------------------------------------------------------------------

@handlers.on("hrd.enrollment.session.created.v1", "hrd.enrollment.session.updated.v1",
             "hrd.enrollment.session.rescheduled.v1", "hrd.enrollment.session.cancelled.v1")
def on_session(s: Session, env: dict) -> None:
    st = settings()
    p = _SCHEMAS['SessionSnapshotV1'].load(env["payload"])
    at = _utc(dt.datetime.fromisoformat(env["occurred_at"]))
    old = s.execute(select(SS).where(SS.c.session_id == p["id"])).first()
    if old is not None and old.event_at is not None and _aware(old.event_at) >= at:
        return  # an older snapshot of the session than the one applied
    cancelled = env["type"].endswith(".cancelled.v1") or p.get("status") == "cancelled"
    values = {"course_id": p["course_id"], "seq_no": p.get("seq_no"), "starts_on": p["starts_on"],
              "ends_on": p["ends_on"], "venue": p.get("venue"),
              "status": "cancelled" if cancelled else (p.get("status") or "scheduled"), "event_at": at}
    if old is None:
        s.execute(upsert_insert(s)(SS).values(session_id=p["id"], **values)
                  .on_conflict_do_nothing(index_elements=["session_id"]))
    else:
        s.execute(update(SS).where(SS.c.session_id == p["id"]).values(**values))
    enrollments = [dict(r._mapping) for r in s.execute(
        select(S).where(S.c.session_id == p["id"], S.c.status.in_(OPEN))).all()]
    if not enrollments:
        return
    if cancelled and (old is None or old.status != "cancelled"):
        planner.withdraw(s, st, [e["enrollment_id"] for e in enrollments], SCHEDULED, "session cancelled")
        for e in enrollments:
            planner.add_immediate(s, st, e, K.SESSION_CANCELLED)
        return
    moved = old is not None and (old.starts_on, old.ends_on) != (p["starts_on"], p["ends_on"])
    if cancelled or not moved:
        return
    new_start = planner.session_start(p["starts_on"], st)
    previous_start = planner.session_start(p.get("previous_starts_on") or old.starts_on, st)
    previous_end = planner.session_end(p.get("previous_ends_on") or old.ends_on, st)
    for e in enrollments:
        planner.add_immediate(s, st, e, K.SESSION_RESCHEDULED, occ.rescheduled_to(new_start),
                              context={"previous_start": previous_start, "previous_end": previous_end})
        if e["status"] == "confirmed":
            plan_enrollment_reminders(s, st, e)
        elif e["status"] == "pending_prerequisite":
            # The enrollment service moves the pre-study deadline with the session (same offset from
            # the start) without an enrollment event: follow it, then re-plan the nudges.
            if e["prerequisite_deadline"] is not None:
                e["prerequisite_deadline"] = _aware(e["prerequisite_deadline"]) + (p["starts_on"] - old.starts_on)
                s.execute(update(S).where(S.c.enrollment_id == e["enrollment_id"])
                          .values(prerequisite_deadline=_utc(e["prerequisite_deadline"])))
            plan_nudges(s, st, e)


# -- course, trainee, completion events ------------------------------------------------------------

@handlers.on("hrd.enrollment.course.created.v1", "hrd.enrollment.course.updated.v1")
def on_course(s: Session, env: dict) -> None:
    st = settings()
    p = _SCHEMAS['CourseSnapshotV1'].load(env["payload"])
    offsets = p.get("reminder_offsets_days")
    old = s.execute(select(orm.course_settings).where(orm.course_settings.c.course_id == p["id"])).first()
    values = {"name_ko": p["name_ko"], "reminder_offsets_days": offsets, "updated_at": st.now()}
    if old is None:
        s.execute(upsert_insert(s)(orm.course_settings).values(course_id=p["id"], **values)
                  .on_conflict_do_nothing(index_elements=["course_id"]))
        return
    s.execute(update(orm.course_settings).where(orm.course_settings.c.course_id == p["id"]).values(**values))
    if (old.reminder_offsets_days or None) != (offsets or None):
        for e in s.execute(select(S).where(S.c.course_id == p["id"], S.c.status == "confirmed")).all():
            plan_enrollment_reminders(s, st, dict(e._mapping))


def load_trainee(env: dict) -> dict:
    return _SCHEMAS['TraineeSnapshotV1'].load(env["payload"])


def trainee_values(p: dict) -> dict:
    """What a trainee snapshot overwrites on every enrollment of the trainee (by ``trainee_id``)."""
    return {"trainee_id": p["id"], "trainee_name": p["name"], "email": p.get("email"), "mobile": p.get("mobile"),
            "language": p.get("preferred_language") or "ko"}


@handlers.on("hrd.enrollment.trainee.registered.v1", "hrd.enrollment.trainee.updated.v1")
def on_trainee(s: Session, env: dict) -> None:
    values = trainee_values(load_trainee(env))
    s.execute(update(S).where(S.c.trainee_id == values.pop("trainee_id")).values(**values))


@handlers.on("hrd.enrollment.completion.recorded.v1")
def on_completion(s: Session, env: dict) -> None:
    st = settings()
    p = _SCHEMAS['CompletionRecordedV1'].load(env["payload"])
    for row in s.execute(select(S).where(S.c.trainee_id == p["trainee_id"],
                                         S.c.status == "pending_prerequisite")).all():
        missing = [m for m in (row.missing_prerequisites or []) if int(m["id"]) != p["course_id"]]
        if len(missing) == len(row.missing_prerequisites or []):
            continue
        s.execute(update(S).where(S.c.enrollment_id == row.enrollment_id).values(missing_prerequisites=missing))
        if not missing:
            planner.withdraw(s, st, [row.enrollment_id], [K.PREREQUISITE_NUDGE], "prerequisite completed")

