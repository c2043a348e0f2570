"""The notification consumer's apply function: a batch of events with a handful of statements.

``handlers`` says what each event does, one event at a time (~15 statements per event). A bulk upload
sends thousands of ``enrollment.created`` events (confirmed or waitlisted) and trainee snapshots in a
row; ``apply`` gives those the same effects set-based and leaves every other event to ``handlers``:

* The batch is cut into *runs* of consecutive fast events of one sort (enrollment confirmed/waitlisted,
  or trainee snapshots). A run is applied as a whole before anything after it; any other event is
  applied on its own by ``handlers`` between runs; so the effects come in event order, as one event
  at a time would have them. Event types nobody handles do nothing and cut nothing.
* A run holds each enrollment at most once: a second event of the same enrollment starts a new run,
  so the version check sees the first one's state. Within a run, enrollments do not see each other's
  planned rows (keys carry the enrollment id), and the session rows they read are only ever inserted
  in the run, first reference wins, as ``_ensure_session`` would.
* Enrollment run (``EnrollmentRun.flush``): one upsert of ``enrollment_state`` that inserts or
  overwrites only an older version and returns the ids it applied (stale events then do nothing,
  exactly like ``_apply_state`` returning None); one insert of the missing ``session_state`` rows;
  the withdrawal of nudges of the confirmed; one read of their reminders, ``diff_plans`` per
  enrollment and one withdrawal of what is no longer wanted; one executemany of the new planned rows
  (confirmation/waitlist notice, reminders), in event order. Waitlist positions the event does not
  carry are counted as ``_waitlist_position`` would have counted them after each event.
* Trainee run: one executemany ``UPDATE`` of the contact data, the last snapshot of each trainee.

Everything stays in the caller's transaction with the inbox rows (``shared.inbox.process_batch``).
"""
from __future__ import annotations

import bisect

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from services.notification.adapters import orm, pg_bulk
from services.notification.domain import occurrence as occ
from services.notification.domain.kinds import MessageKind as K
from services.notification.service_layer import handlers as h
from services.notification.service_layer import planner
from services.notification.service_layer.settings import NotificationSettings
from shared.db import dialect_name, upsert_insert

S = orm.enrollment_state
SS = orm.session_state
ENROLLMENT_EVENTS = frozenset(h.ENROLLMENT_EVENTS)
TRAINEE_EVENTS = frozenset(("hrd.enrollment.trainee.registered.v1", "hrd.enrollment.trainee.updated.v1"))
#: Statuses an enrollment event (other than ``promoted``) is applied set-based for.
FAST_STATUSES = ("confirmed", "waitlisted")
#: Events per run at most (bounds IN lists and statement sizes; a consumer batch is 500 envelopes).
MAX_RUN = 500


def apply(s: Session, envelopes: list[dict]) -> None:
    """``shared.consumer`` apply function: the effects of ``handlers``, the common events set-based."""
    st = h.settings()
    enrollments = EnrollmentRun(s, st)
    trainees = TraineeRun(s)
    for env in envelopes:
        t = env["type"]
        if t in ENROLLMENT_EVENTS:
            p = h.load_enrollment(env)
            action = h.enrollment_action(env)
            if action != "promoted" and p["status"] in FAST_STATUSES:
                trainees.flush()
                if p["enrollment_id"] in enrollments or len(enrollments) >= MAX_RUN:
                    enrollments.flush()
                enrollments.add(p)
                continue
            trainees.flush()
            enrollments.flush()
            h.apply_enrollment(s, st, p, action)
        elif t in TRAINEE_EVENTS:
            p = h.load_trainee(env)
            enrollments.flush()
            trainees.add(p)
        elif h.handlers.handles(t):
            trainees.flush()
            enrollments.flush()
            h.handlers.apply(s, [env])
    trainees.flush()
    enrollments.flush()


class TraineeRun:
    """Consecutive trainee snapshots: each overwrites the contact data of the trainee's enrollments."""

    def __init__(self, s: Session):
        self.s = s
        self.latest: dict[int, dict] = {}

    def add(self, p: dict) -> None:
        self.latest[p["id"]] = p  # the last snapshot of a trainee is what the updates in order leave

    def flush(self) -> None:
        if not self.latest:
            return
        rows = [h.trainee_values(p) for _, p in sorted(self.latest.items())]
        self.latest = {}
        self.s.execute(update(S).where(S.c.trainee_id == bindparam("b_trainee_id")).values(
            {k: bindparam(f"b_{k}") for k in rows[0] if k != "trainee_id"}),
            [{f"b_{k}": v for k, v in r.items()} for r in rows])


class EnrollmentRun:
    """Consecutive confirmed/waitlisted enrollment events, each enrollment at most once."""

    def __init__(self, s: Session, st: NotificationSettings):
        self.s = s
        self.st = st
        self.events: dict[int, dict] = {}  # enrollment id -> payload, in event order

    def __contains__(self, enrollment_id: int) -> bool:
        return enrollment_id in self.events

    def __len__(self) -> int:
        return len(self.events)

    def add(self, p: dict) -> None:
        self.events[p["enrollment_id"]] = p

    def flush(self) -> None:
        if not self.events:
            return
        events, self.events = list(self.events.values()), {}
        s, st = self.s, self.st
        now = st.now()
        waiting = self._waitlists(events)
        states = [h.state_values(p, now) for p in events]
        applied = _upsert_states(s, states, now)
        done = [(p, v) for p, v in zip(events, states) if v["enrollment_id"] in applied]
        if not done:
            return  # every event older than what is stored
        first_ref: dict[int, dict] = {}
        for p, _ in done:
            first_ref.setdefault(p["session"]["id"], h.session_values(p["session"], p["course"]["id"]))
        s.execute(upsert_insert(s)(SS).on_conflict_do_nothing(index_elements=["session_id"]),
                  [first_ref[k] for k in sorted(first_ref)])

        confirmed = [v for _, v in done if v["status"] == "confirmed"]
        reminders = self._replan_reminders(confirmed)
        rows: list[dict] = []
        for p, v in done:
            eid, tid = v["enrollment_id"], v["trainee_id"]
            if waiting is not None:
                _move(waiting, v)
            if v["status"] == "confirmed":
                rows += planner.planned_rows(st, enrollment_id=eid, trainee_id=tid, kind=K.ENROLLMENT_CONFIRMED,
                                             occurrence=occ.ONCE, due_at=now, now=now)
                for plan in reminders[eid]:
                    rows += planner.planned_rows(st, enrollment_id=eid, trainee_id=tid, kind=plan.kind,
                                                 occurrence=plan.occurrence, due_at=plan.due_at, now=now)
            else:
                position = p.get("waitlist_position") or _position(waiting, v)
                rows += planner.planned_rows(st, enrollment_id=eid, trainee_id=tid, kind=K.WAITLISTED,
                                             occurrence=occ.ONCE, due_at=now, now=now,
                                             context={"waitlist_position": position})
        s.info[planner.DUE_NOW] = True
        planner.add_rows(s, rows)

    def _waitlists(self, events: list[dict]) -> dict | None:
        """Before the run: who waits in the sessions of waitlisted events that carry no position
        (``ids``: session -> sorted enrollment ids; ``where``: enrollment -> session)."""
        sessions = sorted({p["session"]["id"] for p in events
                           if p["status"] == "waitlisted" and not p.get("waitlist_position")})
        if not sessions:
            return None
        ids: dict[int, list[int]] = {sid: [] for sid in sessions}
        for i in range(0, len(sessions), planner.CHUNK):
            for eid, sid in self.s.execute(select(S.c.enrollment_id, S.c.session_id).where(
                    S.c.session_id.in_(sessions[i:i + planner.CHUNK]), S.c.status == "waitlisted")):
                ids[sid].append(eid)
        where = {eid: sid for sid, eids in ids.items() for eid in eids}
        return {"ids": {sid: sorted(eids) for sid, eids in ids.items()}, "where": where}

    def _replan_reminders(self, confirmed: list[dict]) -> dict[int, list]:
        """``plan_enrollment_reminders`` for every confirmed enrollment of the run (after the nudges go)."""
        if not confirmed:
            return {}
        s, st = self.s, self.st
        eids = [v["enrollment_id"] for v in confirmed]
        planner.withdraw(s, st, sorted(eids), [K.PREREQUISITE_NUDGE], "confirmed")
        sessions = _by_key(s, SS, SS.c.session_id, {v["session_id"] for v in confirmed})
        courses = _by_key(s, orm.course_settings, orm.course_settings.c.course_id, {v["course_id"] for v in confirmed})
        desired: dict[int, list] = {}
        cache: dict[tuple[int, int], list] = {}
        for v in confirmed:
            key = (v["session_id"], v["course_id"])
            if key not in cache:
                course = courses.get(v["course_id"])
                cache[key] = h.reminders_for(st, sessions[v["session_id"]], h.offsets_or_default(
                    st, None if course is None else course.reminder_offsets_days))
            desired[v["enrollment_id"]] = cache[key]
        return planner.replan_many(s, st, kinds=[K.REMINDER], desired=desired)


def _move(waiting: dict, v: dict) -> None:
    """Follow an applied event in the waitlists (it may leave one, join one, or both)."""
    eid, sid = v["enrollment_id"], v["session_id"]
    old = waiting["where"].pop(eid, None)
    if old is not None:
        waiting["ids"][old].remove(eid)
    if v["status"] == "waitlisted" and sid in waiting["ids"]:
        bisect.insort(waiting["ids"][sid], eid)
        waiting["where"][eid] = sid


def _position(waiting: dict, v: dict) -> int:
    """``_waitlist_position`` as it reads after this event (the run's earlier events already moved)."""
    return bisect.bisect_left(waiting["ids"][v["session_id"]], v["enrollment_id"]) + 1


def _upsert_states(s: Session, states: list[dict], now) -> set[int]:
    """Insert each state, or overwrite a stored older version; the ids applied (the others are stale).

    ``ON CONFLICT DO UPDATE … WHERE version < excluded.version``: the row is locked and the version
    compared at write time, so two workers applying v2 and v3 at once still cannot go backwards."""
    ordered = sorted(states, key=lambda v: v["enrollment_id"])  # one lock order for concurrent batches
    if dialect_name(s) == "postgresql":
        return pg_bulk.upsert_states(s, ordered, now)
    base = upsert_insert(s)(S)
    stmt = base.on_conflict_do_update(
        index_elements=["enrollment_id"], set_={k: base.excluded[k] for k in states[0] if k != "enrollment_id"},
        where=S.c.version < base.excluded.version).returning(S.c.enrollment_id)
    return set(s.execute(stmt, ordered).scalars())


def _by_key(s: Session, table, column, keys: set[int]) -> dict:
    keys = sorted(keys)
    out = {}
    for i in range(0, len(keys), planner.CHUNK):
        for row in s.execute(select(table).where(column.in_(keys[i:i + planner.CHUNK]))):
            out[getattr(row, column.name)] = row
    return out

