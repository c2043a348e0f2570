"""Benchmark: the notification consumer applying bulk-enrollment events, in-process, on a fresh database.

    python -m bench.notify_consume [--count 9060] [--batch 500] [--impl batch|per-event ...] [--sqlite]

What it feeds is what a bulk upload of new hires makes the enrollment service emit (bulk/service.py):
per chunk of 1,000 trainees, 1,000 ``trainee.registered`` snapshots then one ``enrollment.created``
(status confirmed, version 1, no waitlist) per placement — three courses per trainee — in sessions of
40 seats. ``--count`` is the number of enrollment events (9,060 = the 3,020 new hires of issue 4);
``--no-trainee-events`` leaves the snapshots out. The stream is cut into consumer batches of ``--batch``
envelopes and each batch goes through ``shared.inbox.process_batch`` (inbox claim + apply + commit), as
``notification.consume_events`` runs it, minus the broker.

Each ``--impl`` gets a fresh database (PostgreSQL ``bench_notify_consume`` from BENCH_DATABASE_URL,
default postgresql://postgres@127.0.0.1:5432/postgres; or SQLite with --sqlite) and reports wall time,
events/s, the Python process's CPU time and, when the server runs on this machine, the PostgreSQL
backend's CPU time. Nothing is asserted; the planned rows of the implementations are compared.
Run it under ``flock /tmp/bench.lock`` (the machine is shared).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench import dbs

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "enrollment"


def fresh_database(sqlite: bool) -> str:
    if sqlite:
        return f"sqlite:///{Path(tempfile.mkdtemp(prefix='notify-consume-')) / 'notification.db'}"
    return dbs.fresh_database("bench_notify_consume")


def bulk_stream(count: int, trainee_events: bool, start: dt.date) -> list[dict]:
    """The envelopes of a bulk upload, in the order the enrollment service writes them to its outbox."""
    from shared.events import make_envelope
    now = dt.datetime.now(dt.timezone.utc).isoformat()
    courses = [{"id": c, "code": f"C19-{c:03d}", "year": 2019, "name_ko": name, "name_en": en, "delivery": "classroom",
                "competency_area": "job", "status": "continuing"}
               for c, name, en in ((1, "신규임용자 기본교육", "Induction"), (2, "공직가치와 청렴", "Integrity"),
                                   (3, "서울시정 이해", "Understanding Seoul"))]
    trainees = -(-count // 3)
    out: list[dict] = []
    eid = 0
    for first in range(1, trainees + 1, 1000):
        chunk = range(first, min(first + 1000, trainees + 1))
        refs = {}
        for tid in chunk:
            refs[tid] = {"id": tid, "employee_no": f"N{tid:07d}", "name": f"김신규{tid}", "organisation_type": "city",
                         "organisation": "서울특별시", "grade": "9", "job_series": "행정", "email": f"n{tid}@seoul.example",
                         "mobile": "010-2345-6789", "preferred_language": "ko"}
            if trainee_events:
                out.append(make_envelope("hrd.enrollment.trainee.registered.v1", SOURCE, {
                    **refs[tid], "department": None, "appointed_on": start.isoformat(),
                    "accessibility_needs": None}).to_dict())
        for tid in chunk:
            for k, c in enumerate(courses):
                if eid >= count:
                    break
                eid += 1
                seat = (tid - 1) // 40
                day = start + dt.timedelta(days=7 * k + seat % 20)
                sess = {"id": c["id"] * 10000 + seat, "starts_on": day.isoformat(),
                        "ends_on": (day + dt.timedelta(days=1)).isoformat(), "venue": "인재개발원 다산홀",
                        "seq_no": seat + 1}
                out.append(make_envelope("hrd.enrollment.enrollment.created.v1", SOURCE, {
                    "enrollment_id": eid, "version": 1, "status": "confirmed", "previous_status": None,
                    "reason": None, "actor": "bulk:bench", "requested_at": now, "prerequisite_deadline": None,
                    "missing_prerequisites": [], "trainee": refs[tid], "course": c, "session": sess},
                    correlation_id=uuid.uuid4().hex).to_dict())
    return out


def backend_cpu(conn) -> float | None:
    """CPU seconds of this connection's PostgreSQL backend, if it runs on this machine."""
    try:
        import psutil
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        t = psutil.Process(pid).cpu_times()
        return t.user + t.system
    except Exception:  # noqa: BLE001 - a remote server, or no permission: report nothing
        return None


def run(impl: str, url: str, envelopes: list[dict], batch: int, redis_url: str) -> dict:
    from services.notification.adapters import orm
    from services.notification.app import create_app
    from shared import inbox

    app = create_app({"DATABASE_URL": url, "REDIS_URL": redis_url, "JWT_SECRET": "bench-" + "x" * 40,
                      "DISPATCH_ON_COMMIT": False})
    db = app.extensions["db"]
    db.upgrade(url)
    apply = resolve(impl)
    batches = [envelopes[i:i + batch] for i in range(0, len(envelopes), batch)]
    with app.app_context():
        with db.engine.connect() as probe:  # the pool keeps this one connection: its backend does the work
            cpu_pg0 = backend_cpu(probe) if db.engine.dialect.name == "postgresql" else None
        applied = 0
        t0, c0 = time.perf_counter(), time.process_time()
        for b in batches:
            applied += inbox.process_batch(db.session_factory, orm.inbox, b, apply)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        with db.engine.connect() as probe:
            cpu_pg = backend_cpu(probe) if cpu_pg0 is not None else None
            planned = probe.execute(text("SELECT kind, count(*) FROM planned_messages GROUP BY kind ORDER BY kind")).all()
            rows = probe.execute(text(
                "SELECT delivery_key, status, enrollment_id, trainee_id, context,"
                " CASE WHEN kind IN ('reminder', 'prerequisite_nudge', 'survey_request') THEN due_at END"
                " FROM planned_messages ORDER BY delivery_key")).all()  # immediate rows are due "now": not compared
            states = probe.execute(text("SELECT count(*) FROM enrollment_state")).scalar_one()
        # Redelivery: the whole stream again changes nothing (inbox).
        again = sum(inbox.process_batch(db.session_factory, orm.inbox, b, apply) for b in batches)
    db.engine.dispose()
    enrollment_events = sum(1 for e in envelopes if e["type"].startswith("hrd.enrollment.enrollment."))
    return {
        "impl": impl, "db": make_url(url).get_backend_name(), "envelopes": len(envelopes),
        "enrollment_events": enrollment_events, "batches": len(batches), "applied": applied,
        "redelivered_applied": again, "wall_s": round(wall, 3), "python_cpu_s": round(cpu, 3),
        "pg_backend_cpu_s": None if cpu_pg is None else round(cpu_pg - cpu_pg0, 3),
        "envelopes_per_s": round(len(envelopes) / wall), "enrollment_events_per_s": round(enrollment_events / wall),
        "ms_per_batch": round(1000 * wall / len(batches), 1), "enrollment_states": states,
        "planned_by_kind": {k: n for k, n in planned}, "_rows": rows,
    }


def resolve(impl: str):
    if impl == "per-event":
        from services.notification.service_layer.handlers import handlers
        return handlers.apply
    if impl == "batch":
        from services.notification.service_layer.batch import apply
        return apply
    raise SystemExit(f"unknown --impl {impl}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=9060, help="enrollment.created events (3 per trainee)")
    ap.add_argument("--batch", type=int, default=500, help="envelopes per consumer task")
    ap.add_argument("--impl", action="append", choices=("per-event", "batch"),
                    help="apply function(s) to measure, each on a fresh database (default: both)")
    ap.add_argument("--no-trainee-events", action="store_true")
    ap.add_argument("--sqlite", action="store_true")
    args = ap.parse_args(argv)
    impls = args.impl or ["per-event", "batch"]
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
    start = dt.date.today() + dt.timedelta(days=30)
    envelopes = bulk_stream(args.count, not args.no_trainee_events, start)
    results = []
    for impl in impls:
        load = os.getloadavg()[0]
        r = run(impl, fresh_database(args.sqlite), envelopes, args.batch, redis_url)
        r["load_before"] = round(load, 2)
        results.append(r)
        print(json.dumps({k: v for k, v in r.items() if not k.startswith("_")}, ensure_ascii=False), flush=True)
    if len(results) > 1:
        same = all(r["_rows"] == results[0]["_rows"] for r in results[1:])
        print(f"planned rows identical across implementations: {same}")
    summary = {"machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores",
               "results": [{k: v for k, v in r.items() if not k.startswith("_")} for r in results]}
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "notify_consume.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
