"""Event → report lag: from publishing an enrollment event to the moment the read model shows it.

A real reporting worker process (threads ×2) consumes ``reporting.events`` on Redis; events are published
the way the outbox relay does (``shared.outbox.publish_to``). A poller reads ``rm_enrollments`` every 5 ms
(the rollups change in the same transaction, so a row visible there is visible in every report).

* steady: one event per publish (one enrollment committed = one relay), ``--rate`` per second;
* burst: ``--burst`` events published at once in relay batches of 500 (a bulk import).

    python bench/report_lag.py [--rate 50] [--seconds 20] [--burst 10000] [--database sqlite]
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time

from report_common import JWT_SECRET, PG, REDIS, ROOT, fresh_database, machine, make_app, percentile


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=50)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--burst", type=int, default=10_000)
    ap.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    args = ap.parse_args()

    import redis as redis_lib
    from sqlalchemy import select

    from services.reporting.adapters import orm
    from services.reporting.service_layer import projector
    from shared import inbox, outbox
    from tests.reporting.factories import demo_plan_catalogue, demo_plan_events, enrollment_events, trainee_ref

    url = fresh_database("report_svc_bench_lag", PG if args.database == "postgresql" else "sqlite")
    app = make_app("reporting", url)
    db = app.extensions["db"]
    catalogue = demo_plan_events()
    for i in range(0, len(catalogue), 500):
        inbox.process_batch(db.session_factory, orm.inbox, catalogue[i:i + 500], projector.apply)
    courses, sessions = demo_plan_catalogue()
    by_id = {c["id"]: c for c in courses}
    r = redis_lib.Redis.from_url(REDIS)
    r.flushdb()
    env = dict(os.environ, HRD_JWT_SECRET=JWT_SECRET, HRD_LOG_LEVEL="WARNING", REDIS_URL=REDIS,
               REPORTING_DATABASE_URL=url, PYTHONPATH=str(ROOT))
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "services.reporting.worker", "worker", "-Q",
                               "reporting,reporting.events", "-n", "bench-lag@%h", "-P", "threads", "-c", "2",
                               "--loglevel", "WARNING", "--without-mingle", "--without-gossip"],
                              env=env, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    celery = app.extensions["celery"]
    published: dict[int, float] = {}
    seen: dict[int, float] = {}
    stop = threading.Event()

    def poll():
        last = 0
        while not stop.is_set():
            with db.engine.connect() as conn:
                ids = conn.execute(select(orm.rm_enrollments.c.enrollment_id)
                                   .where(orm.rm_enrollments.c.enrollment_id > last)).scalars().all()
            now = time.perf_counter()
            for i in ids:
                seen.setdefault(i, now)
            if ids and len(seen) == max(seen):  # contiguous: move the window
                last = max(seen)
            time.sleep(0.005)

    def event(eid):
        s = sessions[(eid * 7919) % len(sessions)]
        return enrollment_events(eid, ["confirmed"], by_id[s["course_id"]], s, trainee_ref(eid), validate=False)[0]

    try:
        time.sleep(6)
        warm = event(-1)  # below the poller window (ids > 0)
        outbox.publish_to(celery, "reporting", [warm])
        while r.llen("reporting.events"):
            time.sleep(0.05)
        time.sleep(1)
        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        n = int(args.rate * args.seconds)
        t_start = time.perf_counter()
        for eid in range(1, n + 1):
            target = t_start + (eid - 1) / args.rate
            time.sleep(max(0.0, target - time.perf_counter()))
            e = event(eid)
            published[eid] = time.perf_counter()
            outbox.publish_to(celery, "reporting", [e])
        deadline = time.perf_counter() + 60
        while len([i for i in published if i in seen]) < n and time.perf_counter() < deadline:
            time.sleep(0.05)
        lags = [(seen[i] - published[i]) * 1000 for i in published if i in seen]
        print(f"machine: {machine()}")
        print(f"database: {args.database}")
        print(f"steady {args.rate:g} events/s for {args.seconds:g} s ({n} events, one per publish): lag p50 "
              f"{percentile(lags, 50):.0f} ms, p95 {percentile(lags, 95):.0f} ms, max {max(lags):.0f} ms; "
              f"{n - len(lags)} not seen")

        if args.burst:
            burst = [event(i) for i in range(n + 1, n + args.burst + 1)]
            t0 = time.perf_counter()
            for i in range(0, len(burst), 500):
                outbox.publish_to(celery, "reporting", burst[i:i + 500])
            for i in range(n + 1, n + args.burst + 1):
                published[i] = t0
            deadline = time.perf_counter() + 300
            while len(seen) < n + args.burst + 0 and time.perf_counter() < deadline:
                time.sleep(0.05)
            lags = [(seen[i] - t0) * 1000 for i in range(n + 1, n + args.burst + 1) if i in seen]
            print(f"burst of {args.burst:,} events (relay batches of 500): all visible after {max(lags) / 1000:.1f} s "
                  f"({args.burst / (max(lags) / 1000):,.0f} events/s); per-event lag p50 {percentile(lags, 50):.0f} ms, "
                  f"p95 {percentile(lags, 95):.0f} ms")
    finally:
        stop.set()
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(20)
        r.flushdb()


if __name__ == "__main__":
    main()
