"""Backbone throughput: N events committed to the enrollment outbox → relayed in batches → applied by
real notification and reporting worker processes (inbox dedup + effect). Prints events/s end to end.

    .venv/bin/python -m bench.backbone_events --events 20000 [--pg postgresql://postgres@127.0.0.1/test]
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time

from sqlalchemy import func, select

from shared.embedded_redis import EmbeddedRedis
from shared.testing.infra import database_urls

SERVICES = ("enrollment", "notification", "reporting")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--pg", help="PostgreSQL admin URL (default: SQLite)")
    ap.add_argument("--concurrency", type=int, default=2)
    args = ap.parse_args()
    if args.pg:
        os.environ["TEST_DATABASE_URL"] = args.pg
        os.environ["TEST_DB_TAG"] = "bench_backbone"
    redis = EmbeddedRedis().start()
    urls = database_urls()
    from services.enrollment.adapters import orm as eorm
    from services.enrollment.app import create_app as enrollment_app
    from services.notification.adapters import orm as norm
    from services.notification.app import create_app as notification_app
    from services.reporting.adapters import orm as rorm
    from services.reporting.app import create_app as reporting_app

    apps = {}
    for svc, factory in (("enrollment", enrollment_app), ("notification", notification_app),
                         ("reporting", reporting_app)):
        apps[svc] = factory({"DATABASE_URL": urls[svc], "REDIS_URL": redis.url})
        apps[svc].extensions["db"].upgrade(urls[svc])
    procs = []
    for svc in ("notification", "reporting"):
        env = dict(os.environ, **{f"{svc.upper()}_DATABASE_URL": urls[svc], "REDIS_URL": redis.url,
                                  "HRD_LOG_LEVEL": "WARNING"})
        procs.append(subprocess.Popen([sys.executable, "-m", "celery", "-A", f"services.{svc}.worker", "worker",
                                       "-Q", f"{svc}.events", "-c", str(args.concurrency), "-P", "prefork",
                                       "--without-mingle", "--without-gossip", "--loglevel", "WARNING"], env=env))
    time.sleep(4)  # let workers connect
    try:
        from services.enrollment.service_layer.unit_of_work import UnitOfWork
        app = apps["enrollment"]
        db = app.extensions["db"]
        payloads = [{"id": i, "employee_no": f"B{i:07d}", "name": f"부하{i}", "organisation_type": "city_hq"}
                    for i in range(args.events)]
        t0 = time.perf_counter()
        with app.app_context():
            uow = UnitOfWork(db.session_factory, db.engine, app.extensions["celery"], validate_events=False)
            with uow:
                for p in payloads:
                    uow.emit("hrd.enrollment.trainee.registered.v1", p)
                uow.commit()
        t_commit = time.perf_counter() - t0

        def inbox_count(svc, table):
            with apps[svc].extensions["db"].engine.connect() as c:
                return c.execute(select(func.count()).select_from(table)).scalar_one()

        while inbox_count("notification", norm.inbox) < args.events or inbox_count("reporting", rorm.inbox) < args.events:
            time.sleep(0.05)
            if time.perf_counter() - t0 > 600:
                raise SystemExit("timed out")
        total = time.perf_counter() - t0
        backend = "PostgreSQL" if args.pg else "SQLite"
        print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, {backend}")
        print(f"events: {args.events}; commit+relay: {t_commit:.2f}s; both consumers done: {total:.2f}s; "
              f"{args.events / total:,.0f} events/s per consumer (2 consumers in parallel)")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(30)
        redis.stop()


if __name__ == "__main__":
    main()
