"""Rebuild of the read model from N events.

A (default, 1,000,000 events): the consumer code path in-process. Pages of ``--page`` events (the replay's
page size) are serialised to JSON beforehand, then timed: ``json.loads`` + ``maintenance.apply_replay_page``
(cursor check, inbox claim, projector, cursor move, one transaction per page), exactly what the
``reporting.consume_replay`` task runs. Redis and the enrollment side are not in this figure.

B (``--bus N``): the full bus path for a smaller history: N events written as enrollment outbox history,
real enrollment and reporting worker processes, ``start_rebuild`` → enrollment.replay_events pages over
Redis → reporting.consume_replay → ... until finished.

    python bench/report_rebuild.py [--events 1000000] [--bus 100000] [--database sqlite]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import uuid

from report_common import JWT_SECRET, PG, REDIS, ROOT, fresh_database, machine, make_app

PATHS = (["confirmed", "attended", "completed"], ["waitlisted", "confirmed", "cancelled"], ["confirmed", "no_show"],
         ["confirmed", "attended", "failed"], ["confirmed"], ["waitlisted"], ["confirmed", "attended", "completed"],
         ["confirmed", "cancelled"])


def events(n: int):
    """Yield the demo plan's catalogue events, then enrollment events until ``n`` events in total."""
    from tests.reporting.factories import demo_plan_catalogue, enrollment_events, envelope, trainee_ref

    courses, sessions = demo_plan_catalogue()
    by_id = {c["id"]: c for c in courses}
    emitted = 0
    for c in courses:
        yield envelope("hrd.enrollment.course.created.v1", c, validate=False)
    for s in sessions:
        yield envelope("hrd.enrollment.session.created.v1", s, validate=False)
    emitted = len(courses) + len(sessions)
    eid = 0
    while emitted < n:
        eid += 1
        s = sessions[(eid * 7919) % len(sessions)]
        path = PATHS[eid % len(PATHS)][: n - emitted]
        for env in enrollment_events(eid, path, by_id[s["course_id"]], s, trainee_ref(eid % 45_000 + 1),
                                     validate=False):
            yield env
        emitted += len(path)


def pages(n: int, size: int):
    page = []
    for env in events(n):
        page.append(env)
        if len(page) == size:
            yield page
            page = []
    if page:
        yield page


def in_process(n: int, size: int, database: str) -> None:
    from sqlalchemy import func, select

    from services.reporting.adapters import orm
    from services.reporting.service_layer import maintenance

    url = fresh_database("report_svc_bench_rebuild", PG if database == "postgresql" else "sqlite")
    app = make_app("reporting", url)
    sf = app.extensions["db"].session_factory
    now = dt.datetime.now(dt.timezone.utc)
    rid = str(uuid.uuid4())
    with sf.begin() as s:
        maintenance.wipe(s)
        s.execute(orm.rm_rebuilds.insert().values(id=rid, state="running", cursor_seq=0, pages=0, events_received=0,
                                                  events_applied=0, started_at=now, updated_at=now))
    timed = 0.0
    seq = 0
    count = 0
    t_all = time.perf_counter()
    for page in pages(n, size):
        blob = json.dumps(page)
        t0 = time.perf_counter()
        envelopes = json.loads(blob)
        outcome = maintenance.apply_replay_page(sf, envelopes, rid, seq, seq + len(envelopes),
                                                done=count + len(envelopes) >= n)
        timed += time.perf_counter() - t0
        assert outcome in ("applied", "finished"), outcome
        seq += len(envelopes)
        count += len(envelopes)
        if count % 100_000 < size:
            print(f"  {count:,} events, {timed:.1f} s applying", flush=True)
    wall = time.perf_counter() - t_all
    with sf() as s:
        rebuilt = maintenance.get_rebuild(s, rid)
        enrollments = s.execute(select(func.count()).select_from(orm.rm_enrollments)).scalar_one()
        total = s.execute(select(orm.rm_rollups).where(orm.rm_rollups.c.dimension == "total")).mappings().one()
    assert rebuilt["state"] == "finished" and rebuilt["events_applied"] == n, rebuilt
    got = sum(total[c] for c in ("requested", "pending_prerequisite", "waitlisted", "enrolled", "cancelled"))
    assert got == enrollments, (got, enrollments)
    print(f"A. in-process consumer path ({database}): {n:,} events ({enrollments:,} enrollments) in pages of {size}: "
          f"{timed:.1f} s applying ({n / timed:,.0f} events/s); wall time incl. generating events {wall:.1f} s")


def bus(n: int, size: int, database: str) -> None:
    import redis as redis_lib
    from sqlalchemy import func, select

    from services.enrollment.adapters import orm as eorm
    from services.reporting.adapters import orm
    from services.reporting.service_layer import maintenance
    from shared import outbox
    from shared.events.envelope import Envelope

    base = PG if database == "postgresql" else "sqlite"
    urls = {svc: fresh_database(f"report_svc_bench_bus_{svc}", base) for svc in ("enrollment", "reporting")}
    apps = {svc: make_app(svc, url) for svc, url in urls.items()}
    redis_lib.Redis.from_url(REDIS).flushdb()
    t0 = time.perf_counter()
    eng = apps["enrollment"].extensions["db"].engine
    with eng.begin() as conn:
        for page in pages(n, 5000):
            rows = outbox.outbox_rows([Envelope(type=e["type"], source="enrollment", payload=e["payload"], id=e["id"],
                                                occurred_at=e["occurred_at"]) for e in page])
            for r in rows:
                r["published_at"] = r["created_at"]
            conn.execute(eorm.outbox.insert(), rows)
    print(f"  wrote {n:,} outbox rows in {time.perf_counter() - t0:.1f} s")
    env = dict(os.environ, HRD_JWT_SECRET=JWT_SECRET, HRD_LOG_LEVEL="WARNING", REDIS_URL=REDIS, PYTHONPATH=str(ROOT),
               ENROLLMENT_DATABASE_URL=urls["enrollment"], REPORTING_DATABASE_URL=urls["reporting"])
    procs = [subprocess.Popen([sys.executable, "-m", "celery", "-A", f"services.{svc}.worker", "worker", "-Q",
                               f"{svc},{svc}.events", "-n", f"bench-{svc}@%h", "-P", "threads", "-c", "2",
                               "--loglevel", "WARNING", "--without-mingle", "--without-gossip"],
                              env=env, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for svc in ("enrollment", "reporting")]
    try:
        time.sleep(6)  # workers up
        app = apps["reporting"]
        sf = app.extensions["db"].session_factory
        t0 = time.perf_counter()
        started = maintenance.start_rebuild(sf, app.extensions["celery"], "bench", size)
        while True:
            time.sleep(0.5)
            with sf() as s:
                state = maintenance.get_rebuild(s, started["id"])
            if state["state"] != "running":
                break
        elapsed = time.perf_counter() - t0
        with sf() as s:
            enrollments = s.execute(select(func.count()).select_from(orm.rm_enrollments)).scalar_one()
        assert state["events_applied"] == n, state
        print(f"B. full bus path ({database}): {n:,} events ({enrollments:,} enrollments), {state['pages']} pages of "
              f"{size}: {elapsed:.1f} s ({n / elapsed:,.0f} events/s)")
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            p.wait(20)
        redis_lib.Redis.from_url(REDIS).flushdb()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--bus", type=int, default=0, help="also time the full bus path for this many events")
    ap.add_argument("--page", type=int, default=2000)
    ap.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    if args.events:
        in_process(args.events, args.page, args.database)
    if args.bus:
        bus(args.bus, args.page, args.database)


if __name__ == "__main__":
    main()
