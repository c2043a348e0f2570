"""Summary and plan-vs-actual over a read model of 1,000,000 enrollments, timed over HTTP (gunicorn).

1. A fresh reporting database gets the 2019 demo plan's catalogue (239 courses, their sessions) through
   the projector, then ``rm_enrollments`` is seeded set-based with N enrollments spread over the plan's
   sessions (statuses, organisation types, grades, job series, survey scores varied), and ``rm_rollups``
   is computed from it set-based (``maintenance.recount_rollups``, the same definitions as the
   incremental path).
2. gunicorn serves the reporting app on BENCH_PORT (18031); each endpoint is called R times.

    python bench/report_queries.py [--enrollments 1000000] [--requests 200] [--database sqlite]
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

from report_common import JWT_SECRET, PG, ROOT, fresh_database, machine, make_app, percentile

STATUSES = (["completed"] * 9 + ["confirmed"] * 3 + ["attended", "no_show", "failed", "cancelled", "cancelled",
            "waitlisted", "pending_prerequisite", "requested"])
ORGS = ("city_hq", "district", "invested_institution", "other_city", "foreign")
GRADES = ("3급", "4급", "5급", "6급", "7급", "8급", "9급")
JOBS = ("행정", "기술", "전산", "사회복지", "세무", "간호", "보건", "환경")


def seed(app, n: int) -> None:
    from sqlalchemy import select

    from services.reporting.adapters import orm
    from services.reporting.service_layer import maintenance, projector
    from shared import inbox
    from tests.reporting.factories import demo_plan_events

    db = app.extensions["db"]
    events = demo_plan_events()
    for i in range(0, len(events), 500):
        inbox.process_batch(db.session_factory, orm.inbox, events[i:i + 500], projector.apply)
    with db.engine.connect() as conn:
        sessions = conn.execute(select(orm.rm_sessions.c.session_id, orm.rm_sessions.c.course_id,
                                       orm.rm_sessions.c.starts_on, orm.rm_courses.c.delivery,
                                       orm.rm_courses.c.competency_area)
                                .join(orm.rm_courses, orm.rm_courses.c.course_id == orm.rm_sessions.c.course_id)
                                .order_by(orm.rm_sessions.c.session_id)).all()
    t0 = time.perf_counter()
    chunk = 20_000
    with db.engine.begin() as conn:
        for start in range(1, n + 1, chunk):
            rows = []
            for i in range(start, min(n + 1, start + chunk)):
                s = sessions[(i * 7919) % len(sessions)]
                status = STATUSES[i % len(STATUSES)]
                rows.append({"enrollment_id": i, "version": 3, "status": status, "year": 2019,
                             "course_id": s.course_id, "session_id": s.session_id, "trainee_id": i % 45_000 + 1,
                             "competency_area": s.competency_area, "delivery": s.delivery,
                             "organisation_type": ORGS[i % len(ORGS)], "grade": GRADES[i % len(GRADES)],
                             "job_series": JOBS[i % len(JOBS)], "month": f"{s.starts_on.month:02d}",
                             "satisfaction_x100": 6000 + (i * 37) % 4001 if status == "completed" and i % 3 == 0 else None,
                             "survey_occurred_at": None})
            conn.execute(orm.rm_enrollments.insert(), rows)
    t1 = time.perf_counter()
    with db.session_factory.begin() as s:
        maintenance.recount_rollups(s, 2019)
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    print(f"seeded {n:,} enrollments in {t1 - t0:.1f} s; rollups recomputed set-based in "
          f"{time.perf_counter() - t1:.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--enrollments", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "18031")))
    ap.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    args = ap.parse_args()

    url = fresh_database("report_svc_bench_queries", PG if args.database == "postgresql" else "sqlite")
    app = make_app("reporting", url)
    seed(app, args.enrollments)
    app.extensions["db"].engine.dispose()

    env = dict(os.environ, REPORTING_DATABASE_URL=url, HRD_JWT_SECRET=JWT_SECRET, HRD_LOG_LEVEL="WARNING",
               PYTHONPATH=str(ROOT))
    gunicorn = [sys.executable, "-m", "gunicorn", "-w", "2", "-k", "gthread", "--threads", "4", "--reuse-port", "-b",
                f"127.0.0.1:{args.port}", "services.reporting.app:create_app()"]
    proc = subprocess.Popen(gunicorn, env=env, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    import requests

    from shared.auth import issue_token
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {issue_token(JWT_SECRET, 'bench', 'admin')}"
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(150):
            try:
                if s.get(f"{base}/healthz", timeout=5).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        endpoints = [
            "/api/v1/reports/summary?year=2019",
            "/api/v1/reports/summary?year=2019&delivery=classroom",
            "/api/v1/reports/plan-vs-actual?year=2019&by=year",
            "/api/v1/reports/plan-vs-actual?year=2019&by=area",
            "/api/v1/reports/plan-vs-actual?year=2019&by=course&per_page=50",
            "/api/v1/reports/organisations?year=2019",
            "/api/v1/reports/courses?year=2019&per_page=50",
            "/api/v1/reports/summary?year=2019&organisation_type=district&delivery=classroom",  # exact GROUP BY
        ]
        body = s.get(f"{base}{endpoints[0]}").json()
        assert body["plan"]["total"] == {"courses": 239, "seats": 198999}, body["plan"]
        assert body["counters"]["enrollments"] == args.enrollments, body["counters"]
        print(f"machine: {machine()}")
        print(f"database: {args.database}; {args.enrollments:,} enrollments; {args.requests} requests each "
              "(sequential, keep-alive, after 5 warm-up)")
        print("| endpoint | p50 ms | p95 ms | max ms |\n|---|---|---|---|")
        for path in endpoints:
            n = args.requests if "organisation_type=district&delivery" not in path else max(20, args.requests // 10)
            for _ in range(5):
                s.get(f"{base}{path}").raise_for_status()
            times = []
            for _ in range(n):
                t0 = time.perf_counter()
                s.get(f"{base}{path}").raise_for_status()
                times.append((time.perf_counter() - t0) * 1000)
            print(f"| `{path.removeprefix('/api/v1/reports/')}` | {percentile(times, 50):.1f} | "
                  f"{percentile(times, 95):.1f} | {max(times):.1f} |")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)


if __name__ == "__main__":
    main()
