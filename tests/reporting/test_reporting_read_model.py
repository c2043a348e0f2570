"""The projector against the real database (SQLite, or PostgreSQL with TEST_DATABASE_URL): counters by the
domain's rules, any delivery order and duplicates converge, dimensions frozen, surveys, catalogue guards."""
from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select

from services.reporting.adapters import orm
from services.reporting.service_layer import projector
from shared import inbox
from tests.reporting.factories import enrollment_events, envelope, survey_event, trainee_ref

COURSES = [
    {"id": 1, "code": "C19-001", "year": 2019, "name_ko": "리더십 과정", "name_en": None, "delivery": "classroom",
     "competency_area": "leadership", "status": "new", "planned_sessions": 2, "planned_seats": 60},
    {"id": 2, "code": "E19-001", "year": 2019, "name_ko": "e-빅데이터의 이해", "name_en": None, "delivery": "elearning",
     "competency_area": "it", "status": "improved", "planned_sessions": 1, "planned_seats": 500},
]
SESSIONS = [
    {"id": 11, "course_id": 1, "year": 2019, "seq_no": 1, "starts_on": "2019-03-11", "ends_on": "2019-03-12", "capacity": 30},
    {"id": 12, "course_id": 1, "year": 2019, "seq_no": 2, "starts_on": "2019-09-02", "ends_on": "2019-09-03", "capacity": 30},
    {"id": 21, "course_id": 2, "year": 2019, "seq_no": 1, "starts_on": "2019-03-04", "ends_on": "2019-03-29", "capacity": 500},
]
PATHS = [["confirmed", "attended", "completed"], ["waitlisted", "confirmed", "cancelled"], ["confirmed", "no_show"],
         ["confirmed", "attended", "failed"], ["pending_prerequisite", "confirmed"], ["waitlisted"],
         ["confirmed", "cancelled"]]


def _apply(app, envelopes, batch=500):
    db = app.extensions["db"]
    for i in range(0, len(envelopes), batch):
        inbox.process_batch(db.session_factory, orm.inbox, envelopes[i:i + batch], projector.apply)


def _rollups(app):
    with app.extensions["db"].engine.connect() as conn:
        rows = conn.execute(select(orm.rm_rollups)).mappings().all()
    return {(r["year"], r["dimension"], r["key"]): {k: r[k] for k in orm.COUNTER_NAMES} for r in rows
            if any(r[k] for k in orm.COUNTER_NAMES)}


def _world(n=42):
    catalogue = ([envelope("hrd.enrollment.course.created.v1", c) for c in COURSES]
                 + [envelope("hrd.enrollment.session.created.v1", s) for s in SESSIONS])
    events, finals = [], {}
    for eid in range(1, n + 1):
        session = SESSIONS[eid % 3]
        course = COURSES[0] if session["course_id"] == 1 else COURSES[1]
        path = PATHS[eid % len(PATHS)]
        events += enrollment_events(eid, path, course, session, trainee_ref(eid))
        finals[eid] = (path[-1], session, trainee_ref(eid))
    return catalogue, events, finals


def test_counters_follow_the_domain_definitions(clean):
    app = clean["reporting"]
    catalogue, events, finals = _world(14)  # each of the 7 paths twice
    _apply(app, catalogue + events)
    total = _rollups(app)[(2019, "total", "")]
    assert total == {"requested": 0, "pending_prerequisite": 0, "waitlisted": 2, "cancelled": 4,
                     # enrolled: confirmed(2, from pending) + attended-completed 2 + no_show 2 + failed 2
                     "enrolled": 8, "attended": 4, "no_show": 2, "completed": 2, "failed": 2,
                     "satisfaction_sum_x100": 0, "satisfaction_count": 0}
    rows = _rollups(app)
    # month = the month the session starts: sessions 11 and 21 start in March, 12 in September
    march, september = rows[(2019, "month", "03")], rows[(2019, "month", "09")]
    assert march["enrolled"] + september["enrolled"] == 8
    assert sum(1 for e, (st, s, _) in finals.items() if s["id"] == 12 and st == "waitlisted") == september["waitlisted"]
    assert rows[(2019, "delivery", "classroom")]["cancelled"] + rows[(2019, "delivery", "elearning")]["cancelled"] == 4


def test_any_delivery_order_and_duplicates_converge(clean):
    app = clean["reporting"]
    catalogue, events, _ = _world()
    _apply(app, catalogue + events)
    expected = _rollups(app)
    with app.extensions["db"].engine.connect() as conn:
        statuses = dict(conn.execute(select(orm.rm_enrollments.c.enrollment_id, orm.rm_enrollments.c.status)).all())

    for seed in (1, 2):
        for t in orm.READ_MODEL_TABLES:
            with app.extensions["db"].engine.begin() as conn:
                conn.execute(t.delete())
        rng = random.Random(seed)
        shuffled = catalogue + events + rng.sample(events, 25)  # a quarter delivered twice
        rng.shuffle(shuffled)
        _apply(app, shuffled, batch=rng.choice([3, 7, 50]))
        assert _rollups(app) == expected
        with app.extensions["db"].engine.connect() as conn:
            again = dict(conn.execute(select(orm.rm_enrollments.c.enrollment_id, orm.rm_enrollments.c.status)).all())
        assert again == statuses


def test_dimensions_are_frozen_when_first_seen(clean):
    app = clean["reporting"]
    course, session = COURSES[0], SESSIONS[0]
    first = enrollment_events(1, ["confirmed"], course, session, trainee_ref(1, "district", "7급", "행정"))
    moved = enrollment_events(1, ["confirmed", "cancelled"], course, session, trainee_ref(1, "city_hq", "6급", "기술"))[1]
    _apply(app, first + [moved])
    rows = _rollups(app)
    assert rows[(2019, "organisation_type", "district")]["cancelled"] == 1
    assert rows[(2019, "organisation_type", "district")]["enrolled"] == 0
    assert (2019, "organisation_type", "city_hq") not in rows
    assert rows[(2019, "grade", "7급")]["cancelled"] == 1


def test_survey_scores_early_late_and_corrected(clean):
    app = clean["reporting"]
    course, session = COURSES[0], SESSIONS[0]
    t0 = dt.datetime(2019, 3, 13, 9, tzinfo=dt.timezone.utc)
    early = survey_event(1, 1, course, session, 80, occurred_at=t0)
    _apply(app, [early])  # before the enrollment is known: kept aside
    assert (2019, "total", "") not in _rollups(app)
    _apply(app, enrollment_events(1, ["confirmed", "attended", "completed"], course, session, trainee_ref(1))
           + enrollment_events(2, ["confirmed", "attended", "completed"], course, session, trainee_ref(2))
           + [survey_event(2, 2, course, session, 95.5, occurred_at=t0)])
    total = _rollups(app)[(2019, "total", "")]
    assert (total["satisfaction_sum_x100"], total["satisfaction_count"]) == (17550, 2)
    # a correction replaces the earlier answer; an older answer delivered late changes nothing
    _apply(app, [survey_event(1, 1, course, session, 90, occurred_at=t0 + dt.timedelta(hours=1)),
                 survey_event(1, 1, course, session, 10, occurred_at=t0 - dt.timedelta(hours=1))])
    total = _rollups(app)[(2019, "total", "")]
    assert (total["satisfaction_sum_x100"], total["satisfaction_count"]) == (18550, 2)
    with app.extensions["db"].engine.connect() as conn:
        assert conn.execute(select(orm.rm_pending_surveys)).all() == []


def test_an_older_catalogue_snapshot_does_not_overwrite_a_newer_one(clean):
    app = clean["reporting"]
    t0 = dt.datetime(2019, 1, 2, tzinfo=dt.timezone.utc)
    newer = envelope("hrd.enrollment.course.updated.v1", {**COURSES[0], "planned_seats": 90}, occurred_at=t0)
    older = envelope("hrd.enrollment.course.created.v1", COURSES[0], occurred_at=t0 - dt.timedelta(days=1))
    _apply(app, [newer])
    _apply(app, [older])
    with app.extensions["db"].engine.connect() as conn:
        assert conn.execute(select(orm.rm_courses.c.planned_seats)).scalar_one() == 90


def test_set_based_recount_equals_the_incremental_counters(clean):
    from services.reporting.service_layer.maintenance import recount_rollups

    app = clean["reporting"]
    catalogue, events, _ = _world()
    course, session = COURSES[0], SESSIONS[0]
    _apply(app, catalogue + events + [survey_event(1, 1, course, session, 77.25)])
    incremental = _rollups(app)
    with app.extensions["db"].session_factory.begin() as s:
        recount_rollups(s, 2019)
    assert _rollups(app) == incremental
