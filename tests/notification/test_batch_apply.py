"""The consumer's batch apply (``service_layer.batch``) must leave exactly what the per-event handlers leave.

Each scenario is applied twice on the real database: event by event through ``handlers`` (the
reference) and as consumer batches through ``batch.apply``; the enrollment state, the session state
and the planned rows (keys, statuses, details, contexts, due times of scheduled kinds, creation
order) must be identical, and redelivering the batches must change nothing.
"""
from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select

from services.notification.adapters import orm
from services.notification.service_layer import batch
from tests.conftest import _truncate
from tests.notification import events as ev
from shared.events import make_envelope

SCHEDULED = ("reminder", "prerequisite_nudge", "survey_request")
START = dt.date.today() + dt.timedelta(days=40)


def snapshot(nt) -> dict:
    with nt.db.engine.connect() as conn:
        states = [{k: v for k, v in r._mapping.items() if k != "updated_at"}
                  for r in conn.execute(select(orm.enrollment_state).order_by(orm.enrollment_state.c.enrollment_id))]
        sessions = [dict(r._mapping) for r in conn.execute(select(orm.session_state)
                                                           .order_by(orm.session_state.c.session_id))]
        T = orm.planned_messages
        planned = [(r.delivery_key, r.enrollment_id, r.trainee_id, r.kind, r.occurrence, r.channel, r.status, r.detail,
                    r.context, r.attempts, r.due_at if r.kind in SCHEDULED else None)
                   for r in conn.execute(select(T).order_by(T.c.id))]  # creation order included
    return {"states": states, "sessions": sessions, "planned": planned}


def run_both(nt, setup: list[dict], envelopes: list[dict], batch_sizes=(None,)) -> dict:
    """Apply ``setup`` then ``envelopes`` per event, then (fresh DB) ``setup`` per event and ``envelopes`` in
    consumer batches of each size in ``batch_sizes`` (None = one batch); all results must agree."""
    _truncate(nt.app)
    for env in setup:
        nt.deliver(env, per_event=True)
    for env in envelopes:
        assert nt.deliver(env, per_event=True) in (0, 1)
    expected = snapshot(nt)
    for size in batch_sizes:
        _truncate(nt.app)
        for env in setup:
            nt.deliver(env, per_event=True)
        size = size or len(envelopes)
        chunks = [envelopes[i:i + size] for i in range(0, len(envelopes), size)]
        for chunk in chunks:
            nt.deliver(*chunk)
        got = snapshot(nt)
        assert got == expected, f"batch size {size}"
        assert sum(nt.deliver(*chunk) for chunk in chunks) == 0  # redelivered: the inbox drops everything
        assert snapshot(nt) == expected
    return expected


def sess(sid: int, weeks: int = 0, **over) -> dict:
    return ev.session(sid, START + dt.timedelta(weeks=weeks), **over)


def created(eid: int, status: str, sid: int = 1, version: int = 1, **kw) -> dict:
    return ev.enrollment("created", eid, version, status, sess=kw.pop("sess", sess(sid)), **kw)


def trainee_event(tid: int, event: str = "updated", **over) -> dict:
    return make_envelope(f"hrd.enrollment.trainee.{event}.v1", "enrollment", ev.trainee(tid, **over)).to_dict()


def test_bulk_upload_stream_gives_the_per_event_result(nt):
    """What a bulk upload emits: trainee snapshots, then created events (confirmed, some waitlisted
    without a position, not in id order), and event types notification does not handle."""
    envs = [trainee_event(t, "registered") for t in range(1, 7)]
    envs += [created(1, "confirmed"), created(2, "confirmed", sid=2), created(6, "waitlisted"),
             created(4, "waitlisted"), created(5, "waitlisted", sid=2), created(3, "waitlisted"),
             created(7, "waitlisted", waitlist_position=9, tid=6),
             make_envelope("hrd.enrollment.bulk_job.finished.v1", "enrollment", {
                 "job_id": "j", "state": "done", "rows_total": 6, "rows_done": 6, "rows_failed": 0}).to_dict(),
             created(8, "confirmed", sid=3, tid=1, sess=sess(3, weeks=1)), created(9, "confirmed", tid=2)]
    result = run_both(nt, [], envs, batch_sizes=(None, 4, 1))
    positions = {p[1]: p[8]["waitlist_position"] for p in result["planned"] if p[3] == "waitlisted" and p[5] == "email"}
    assert positions == {6: 1, 4: 1, 5: 1, 3: 1, 7: 9}  # each counted after its own event, as one by one
    kinds = [p[3] for p in result["planned"] if p[1] == 1]
    assert kinds.count("enrollment_confirmed") == 2 and kinds.count("reminder") == 6


def test_waitlist_positions_follow_the_events_before_them_in_the_batch(nt):
    setup = [created(10, "waitlisted"), created(20, "confirmed")]
    envs = [created(15, "waitlisted"), created(12, "waitlisted"),
            ev.enrollment("confirmed", 10, 2, "confirmed", sess=sess(1)),   # leaves the waitlist
            created(11, "waitlisted"),
            ev.enrollment("waitlisted", 20, 2, "waitlisted", sess=sess(1)),  # joins it
            created(30, "waitlisted"), created(25, "waitlisted", sid=2)]
    result = run_both(nt, setup, envs, batch_sizes=(None, 2, 3))
    positions = {p[1]: p[8]["waitlist_position"] for p in result["planned"] if p[3] == "waitlisted" and p[5] == "email"}
    assert positions == {10: 1, 15: 2, 12: 2, 11: 1, 20: 4, 30: 5, 25: 1}


def test_out_of_order_versions_and_duplicates_in_one_batch(nt):
    cancel = ev.enrollment("cancelled", 1, 2, "cancelled", sess=sess(1), reason="본인 취소")
    first = created(1, "confirmed")
    dup = created(2, "confirmed")
    envs = [cancel, first,                              # v2 before v1: v1 is ignored
            created(3, "waitlisted"), ev.enrollment("confirmed", 3, 3, "confirmed", sess=sess(1)),
            ev.enrollment("waitlisted", 3, 2, "waitlisted", sess=sess(1)),    # stale between two runs
            dup, dup, dict(dup),                        # the same event id three times
            created(2, "confirmed", version=1),         # same version, new event id: stale
            ev.enrollment("confirmed", 4, 2, "confirmed", sess=sess(1)), created(4, "waitlisted")]
    result = run_both(nt, [], envs, batch_sizes=(None, 1, 2))
    by_id = {s["enrollment_id"]: s for s in result["states"]}
    assert {k: (v["version"], v["status"]) for k, v in by_id.items()} == {
        1: (2, "cancelled"), 2: (1, "confirmed"), 3: (3, "confirmed"), 4: (2, "confirmed")}
    assert not [p for p in result["planned"] if p[1] == 1 and p[3] in ("enrollment_confirmed", "reminder")]
    assert not [p for p in result["planned"] if p[1] == 4 and p[3] == "waitlisted"]


def test_existing_plans_course_offsets_cancelled_sessions_and_revival(nt):
    """Confirmations on top of earlier state: nudges withdrawn, per-course offsets, a cancelled
    session (no reminders), re-confirmation after a cancellation (withdrawn reminders revived),
    a session already known with other dates (the stored one wins)."""
    deadline = dt.datetime.combine(START - dt.timedelta(days=3), dt.time(9), tzinfo=dt.timezone.utc)
    setup = [ev.course_event(2, [3, 1]),
             ev.session_event("created", 5, START + dt.timedelta(days=14), cid=1),
             ev.session_event("cancelled", 6, START, cid=1, status="cancelled"),
             ev.enrollment("created", 1, 1, "pending_prerequisite", sess=sess(1), prerequisite_deadline=deadline.isoformat(),
                           missing_prerequisites=[ev.course(9)]),
             created(2, "confirmed"), ev.enrollment("cancelled", 2, 2, "cancelled", sess=sess(1), reason="x")]
    envs = [ev.enrollment("confirmed", 1, 2, "confirmed", sess=sess(1)),
            ev.enrollment("confirmed", 2, 3, "confirmed", sess=sess(1)),
            ev.enrollment("created", 3, 1, "confirmed", cid=2, sess=sess(4, weeks=2)),
            created(4, "confirmed", sid=6), created(5, "confirmed", sess=sess(5, weeks=1)),
            created(6, "confirmed", sess=sess(7, weeks=3)), created(7, "confirmed", sess=sess(7, weeks=4))]
    result = run_both(nt, setup, envs, batch_sizes=(None, 3))
    planned = result["planned"]
    assert {p[6] for p in planned if p[1] == 1 and p[3] == "prerequisite_nudge"} == {"withdrawn"}
    assert {p[6] for p in planned if p[1] == 2 and p[3] == "reminder"} == {"pending"}  # revived
    offsets = {p[4][:3] for p in planned if p[1] == 3 and p[3] == "reminder"}
    assert "D-1" in offsets and offsets <= {"D-3", "D-1"}  # the course's offsets (D-3 may merge into D-1)
    assert not [p for p in planned if p[1] == 4 and p[3] == "reminder"]
    assert [s["starts_on"] for s in result["sessions"] if s["session_id"] == 7] == [START + dt.timedelta(weeks=3)]


def test_other_events_between_fast_ones_keep_their_place(nt):
    """A trainee update, a session cancellation and a promotion between confirmations: each sees
    exactly the state the events before it left."""
    envs = [trainee_event(1, "registered"), created(1, "confirmed"), created(2, "confirmed"),
            trainee_event(1, name="이름변경", email="new@seoul.example"), trainee_event(1, name="두번째"),
            created(3, "confirmed", tid=1),
            ev.session_event("cancelled", 1, START, cid=1, status="cancelled"),
            created(4, "confirmed"), created(5, "waitlisted", sid=2),
            ev.enrollment("promoted", 5, 2, "confirmed", sess=sess(2)),
            trainee_event(2, preferred_language="en"), created(6, "confirmed", tid=2, sid=2),
            ev.completion(2, 9)]
    result = run_both(nt, [], envs, batch_sizes=(None, 2, 5))
    names = {s["enrollment_id"]: s["trainee_name"] for s in result["states"]}
    assert names[1] == "두번째" and names[3] == "김서울1"  # enrollment 3's own event came after the updates
    assert {s["enrollment_id"]: s["language"] for s in result["states"] if s["trainee_id"] == 2} == {2: "en", 6: "ko"}
    assert {p[6] for p in result["planned"] if p[1] == 1 and p[3] == "reminder"} == {"withdrawn"}
    assert not [p for p in result["planned"] if p[1] == 4 and p[3] == "reminder"]


def test_random_streams_agree_with_the_per_event_handlers(nt):
    """Random mixes of every enrollment transition, trainee snapshots and session moves, shuffled
    (late and duplicated deliveries), cut into random batches."""
    rng = random.Random(20190311)
    statuses = ["confirmed", "waitlisted", "pending_prerequisite", "cancelled", "attended", "completed", "no_show"]
    for _ in range(4):
        envs = []
        for eid in range(1, 13):
            sid = rng.choice([1, 2, 3])
            for version in range(1, rng.randint(1, 4) + 1):
                status = "confirmed" if version == 1 and rng.random() < 0.6 else rng.choice(statuses)
                event = "created" if version == 1 else ("promoted" if rng.random() < 0.15 else status)
                extra = {}
                if status == "pending_prerequisite":
                    extra["missing_prerequisites"] = [ev.course(9)]
                envs.append(ev.enrollment(event, eid, version, status, tid=eid % 5 + 1,
                                          sess=sess(sid, weeks=rng.choice([0, 1])), **extra))
        for tid in range(1, 6):
            envs.append(trainee_event(tid, name=f"이름{rng.randint(1, 9)}"))
        envs.append(ev.session_event("rescheduled", 2, START + dt.timedelta(days=21), cid=1,
                                     previous=(START, START + dt.timedelta(days=1))))
        rng.shuffle(envs)
        envs += rng.sample(envs, 5)  # redeliveries inside the stream
        run_both(nt, [], envs, batch_sizes=(None, rng.randint(2, 9)))

