"""Benchmark: N reminders due at once, delivered to a real SMTP sink by real worker processes.

    python -m bench.notify_dispatch --count 200000 [--workers 2 --concurrency 2 --fanout 4]

1. A fresh PostgreSQL database (BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres;
   the bench creates ``bench_notify_svc_notification``) or SQLite (--sqlite), migrated.
2. N confirmed enrollments and N e-mail reminder rows inserted set-based (INSERT … SELECT
   generate_series on PostgreSQL), all due at the same instant (``--due-in`` seconds after the insert;
   0 = already due), in a session one week ahead.
3. The dev SMTP sink (``services.notification.adapters.smtp_sink``) in its own process on --smtp-port,
   a ``celery beat`` and --workers ``celery worker`` processes (prefork, --concurrency each) on a Redis
   db of the bench's own (BENCH_REDIS_URL, default redis://127.0.0.1:6379/3, flushed).
4. Waits until the sink has recorded N mails; reports the drain time, mails/s, and the lateness
   (sent_at − due_at from the sent-log) p50/p99/max, plus duplicates seen at the sink.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench import dbs

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def database_url(args) -> str:
    if args.sqlite:
        path = Path(tempfile.mkdtemp(prefix="notify-bench-")) / "notification.db"
        return f"sqlite:///{path}"
    return dbs.fresh_database("bench_notify_svc_notification")


def seed(url: str, n: int, due_at: dt.datetime) -> float:
    """Set-based insert of the enrollment state and the due reminder rows; returns seconds taken."""
    from shared.db import make_engine
    from shared.migrations import upgrade
    upgrade(ROOT / "services/notification/migrations", url)
    engine = make_engine(url)
    start_day = (due_at + dt.timedelta(days=7)).date()
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO session_state (session_id, course_id, seq_no, starts_on, ends_on, venue, status)"
                          " VALUES (1, 1, 1, :s, :e, '인재개발원 다산홀', 'scheduled')"),
                     {"s": start_day, "e": start_day + dt.timedelta(days=1)})
        occ = f"D-7%40{start_day.isoformat()}"
        params = {"n": n, "due": due_at, "now": dt.datetime.now(dt.timezone.utc), "occ": occ,
                  "occ_raw": f"D-7@{start_day.isoformat()}"}
        if engine.dialect.name == "postgresql":
            series = "generate_series(1, :n) AS g(i)"
            idx = "g.i"
        else:
            series = ("(WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < :n) "
                      "SELECT i FROM c) AS g")
            idx = "g.i"
        conn.execute(text(
            "INSERT INTO enrollment_state (enrollment_id, version, status, trainee_id, trainee_name, email, mobile,"
            " language, course_id, course_name_ko, course_name_en, session_id, missing_prerequisites, updated_at) "
            f"SELECT {idx}, 1, 'confirmed', {idx}, '김서울' || {idx}, 'trainee' || {idx} || '@seoul.example',"
            " '010-1234-5678', 'ko', 1, '빅데이터 분석 실무(시각화 및 탐색중심)', 'Big Data Analysis', 1, '[]', :now "
            f"FROM {series}"), params)
        conn.execute(text(
            "INSERT INTO planned_messages (delivery_key, enrollment_id, trainee_id, kind, occurrence, channel, due_at,"
            " status, attempts, next_attempt_at, created_at, updated_at) "
            f"SELECT 'v1|' || {idx} || '|reminder|email|' || :occ, {idx}, {idx}, 'reminder', :occ_raw, 'email', :due,"
            f" 'pending', 0, :due, :now, :now FROM {series}"), params)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE planned_messages"))
            conn.execute(text("VACUUM ANALYZE enrollment_state"))
    engine.dispose()
    return time.perf_counter() - t0


def count_lines(path: Path) -> int:
    try:
        with path.open("rb") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--fanout", type=int, default=4)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--due-in", type=float, default=0.0, help="rows fall due this many seconds after the insert")
    ap.add_argument("--lead", type=float, default=None, help="NOTIFICATION_DISPATCH_LEAD_SECONDS for the workers")
    ap.add_argument("--smtp-port", type=int, default=18025)
    ap.add_argument("--sqlite", action="store_true")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--no-markers", action="store_true", help="disable the per-message Redis sent markers")
    args = ap.parse_args(argv)

    url = database_url(args)
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
    import redis
    redis.Redis.from_url(redis_url).flushdb()
    due_at = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=args.due_in)
    seed_s = seed(url, args.count, due_at)
    print(f"seeded {args.count} due reminders in {seed_s:.1f}s ({make_url(url).get_backend_name()})", flush=True)

    mail_dir = Path(tempfile.mkdtemp(prefix="notify-bench-mail-"))
    env = dict(os.environ, PYTHONPATH=str(ROOT), REDIS_URL=redis_url, NOTIFICATION_DATABASE_URL=url,
               NOTIFICATION_SMTP_HOST="127.0.0.1", NOTIFICATION_SMTP_PORT=str(args.smtp_port),
               NOTIFICATION_CHANNELS="email", NOTIFICATION_DISPATCH_INTERVAL_SECONDS="1",
               NOTIFICATION_DISPATCH_BATCH_SIZE=str(args.batch), NOTIFICATION_DISPATCH_FANOUT=str(args.fanout),
               NOTIFICATION_SENT_MARKERS="false" if args.no_markers else "true", HRD_LOG_LEVEL="WARNING")
    if args.lead is not None:
        env["NOTIFICATION_DISPATCH_LEAD_SECONDS"] = str(args.lead)
    procs = []

    def spawn(cmd):
        p = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE if False else None)
        procs.append(p)
        return p

    spawn([PY, "-m", "services.notification.adapters.smtp_sink", "--port", str(args.smtp_port), "--dir", str(mail_dir),
           "--reject-suffix", ""])
    time.sleep(1.0)
    t_start = time.monotonic()
    for i in range(args.workers):
        spawn([PY, "-m", "celery", "-A", "services.notification.worker", "worker", "-Q", "notification,notification.events",
               "-n", f"bench{i}@%h", "-c", str(args.concurrency), "--loglevel", "WARNING", "--without-mingle",
               "--without-gossip"])
    spawn([PY, "-m", "celery", "-A", "services.notification.worker", "beat", "--loglevel", "WARNING",
           "-s", str(mail_dir / "beat-schedule")])
    jsonl = mail_dir / "mail.jsonl"
    last, progress = 0, []
    try:
        while True:
            n = count_lines(jsonl)
            elapsed = time.monotonic() - t_start
            if n != last:
                progress.append((round(elapsed, 1), n))
                last = n
            if n >= args.count or elapsed > args.timeout:
                break
            time.sleep(1.0)
        drain = time.monotonic() - t_start
        # Let the dispatchers record the last batches in the sent-log before stopping them.
        from shared.db import make_engine
        engine = make_engine(url)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                if not conn.execute(text("SELECT count(*) FROM planned_messages WHERE status <> 'sent'")).scalar_one():
                    break
            time.sleep(0.5)
        engine.dispose()
    finally:
        for p in procs[1:]:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in procs[1:]:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        time.sleep(0.5)
        os.killpg(procs[0].pid, signal.SIGTERM)
        procs[0].wait(10)

    keys = Counter(json.loads(line)["delivery_key"] for line in jsonl.open(encoding="utf-8"))
    from shared.db import make_engine
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT due_at, sent_at FROM deliveries WHERE status = 'sent'")).all()
        statuses = dict(conn.execute(text("SELECT status, count(*) FROM planned_messages GROUP BY status")).all())
    engine.dispose()

    def aware(v):
        if isinstance(v, str):
            v = dt.datetime.fromisoformat(v)
        return v if v.tzinfo else v.replace(tzinfo=dt.timezone.utc)
    late = sorted((aware(s) - aware(d)).total_seconds() for d, s in rows)
    q = statistics.quantiles(late, n=100) if len(late) > 1 else [0] * 99
    result = {
        "count": args.count, "received": sum(keys.values()), "distinct": len(keys),
        "duplicates": sum(c - 1 for c in keys.values()), "drain_seconds": round(drain, 1),
        "mails_per_second": round(sum(keys.values()) / drain, 1),
        "lateness_p50_s": round(q[49], 1), "lateness_p99_s": round(q[98], 1), "lateness_max_s": round(late[-1], 1)
        if late else None, "planned_status": statuses, "workers": args.workers, "concurrency": args.concurrency,
        "fanout": args.fanout, "batch": args.batch, "due_in": args.due_in, "lead": args.lead,
        "markers": not args.no_markers, "db": make_url(url).get_backend_name(),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "progress_tail": progress[-5:],
    }
    print(json.dumps(result, ensure_ascii=False, indent=1))
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / f"notify_dispatch_{args.count}.json").write_text(json.dumps(result, ensure_ascii=False, indent=1))
    return 0 if result["distinct"] == args.count else 1


if __name__ == "__main__":
    raise SystemExit(main())
