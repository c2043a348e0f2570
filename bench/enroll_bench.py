"""Enrollment service benchmarks (issue 3): run from the repository root.

    python bench/enroll_bench.py --db pg         # PostgreSQL (BENCH_PG_URL, default postgresql://postgres@127.0.0.1:5432)
    python bench/enroll_bench.py --db sqlite

(a) Single enrollment over HTTP under gunicorn (2 workers, gthread) measured with ``wrk`` (``apt install wrk``):
    every request enrolls a different trainee (confirmed path: eligibility, calendar, seat, history, outbox,
    relay to Redis). Target: >= 500 req/s, p99 <= 100 ms.
(b) 20,000 concurrent enrollment attempts for 5,000 seats of ONE session (19,500 trainees + 500 repeated
    attempts), 200 client connections: checks zero overbooking, zero lost requests and that every attempt is
    answered confirmed / waitlisted / refused with a reason code.

The database is created fresh (PG: database ``enroll_svc_bench``; SQLite: a temp file); Redis is REDIS_URL
(default redis://127.0.0.1:6379/1); events published during the run are deleted from Redis afterwards.
Prints one JSON document with the figures.
"""
from __future__ import annotations

import argparse
import collections
import datetime as dt
import http.client
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis
from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.enrollment.adapters import orm  # noqa: E402
from shared.auth import issue_token  # noqa: E402
from shared.db import make_engine  # noqa: E402
from shared.migrations import upgrade  # noqa: E402

PORT = int(os.environ.get("BENCH_PORT", "18001"))
SECRET = "bench-secret-0123456789-0123456789-abcdef"
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1")


def fresh_database(kind: str) -> str:
    if kind == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp(prefix='enroll-bench-')}/enrollment.db"
        upgrade(ROOT / "services/enrollment/migrations", url)
        return url
    base = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://") + "/postgres",
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "enroll_svc_bench" WITH (FORCE)'))
        conn.execute(text('CREATE DATABASE "enroll_svc_bench"'))
    admin.dispose()
    url = f"{base}/enroll_svc_bench"
    upgrade(ROOT / "services/enrollment/migrations", url)
    return url


def seed(url: str, trainees: int, sessions: int, capacity: int) -> tuple[list[int], list[int]]:
    engine = make_engine(url)
    now = dt.datetime.now(dt.timezone.utc)
    with engine.begin() as conn:
        cid = conn.execute(orm.courses.insert().values(
            code=f"BENCH-{time.time_ns()}", year=2019, name_ko="부하 시험 과정", delivery="classroom",
            competency_area="job", status="continuing", planned_sessions=sessions, planned_seats=sessions * capacity,
            generated=True, created_at=now, updated_at=now)).inserted_primary_key[0]
        conn.execute(orm.sessions.insert(), [
            {"course_id": cid, "seq_no": n + 1, "starts_on": dt.date(2019, 3, 4), "ends_on": dt.date(2019, 3, 5),
             "capacity": capacity, "seats_taken": 0, "status": "scheduled", "created_at": now, "updated_at": now}
            for n in range(sessions)])
        for i in range(0, trainees, 5000):
            conn.execute(orm.trainees.insert(), [
                {"employee_no": f"B{n:07d}", "name": f"부하{n}", "organisation_type": "city_hq", "grade": "7급",
                 "job_series": "행정", "preferred_language": "ko", "created_at": now, "updated_at": now}
                for n in range(i, min(trainees, i + 5000))])
        tids = conn.execute(select(orm.trainees.c.id).order_by(orm.trainees.c.id)).scalars().all()
        sids = conn.execute(select(orm.sessions.c.id).where(orm.sessions.c.course_id == cid)
                            .order_by(orm.sessions.c.id)).scalars().all()
    engine.dispose()
    return tids, sids


def settle(url: str) -> None:
    """Start the measurement from a quiet database: flush the seed's dirty pages (a checkpoint in the
    middle of the run would add its writes and full-page images to the measured requests)."""
    if url.startswith("postgresql"):
        engine = make_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("CHECKPOINT"))  # (no ANALYZE: of tables that are empty now, it would mislead the planner)
        engine.dispose()


def start_gunicorn(url: str, workers: int, threads: int) -> subprocess.Popen:
    env = dict(os.environ, ENROLLMENT_DATABASE_URL=url, REDIS_URL=REDIS_URL, HRD_JWT_SECRET=SECRET,
               HRD_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-w", str(workers), "-k", "gthread",
                             "--threads", str(threads), "--reuse-port", "-b", f"127.0.0.1:{PORT}", "--log-level", "warning",
                             "services.enrollment.app:create_app()"], cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=1)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(20)


WRK_LUA = """
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  base = tonumber(args[1]); stride = tonumber(args[2]); nsessions = tonumber(args[3]); sfirst = tonumber(args[4])
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. args[5]
end
function request()
  local t = base + tid * stride + counter
  counter = counter + 1
  return wrk.format(nil, "/api/v1/enrollments",
    nil, string.format('{"trainee_id": %d, "session_id": %d}', t, sfirst + (t %% nsessions)))
end
statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
"""


def bench_http(url: str, duration: int, connections: int, workers: int, threads: int) -> dict:
    tids, sids = seed(url, trainees=60_000, sessions=50, capacity=100_000)
    settle(url)
    proc = start_gunicorn(url, workers, threads)
    token = issue_token(SECRET, "bench", "admin")
    script = Path(tempfile.mkdtemp()) / "enroll.lua"
    script.write_text(WRK_LUA.replace("%%", "%"))
    try:
        # warm-up (connections, caches), on trainees the measured run does not use
        subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", "3s", "-s", str(script),
                        f"http://127.0.0.1:{PORT}", "--", str(tids[0] + 50_000), "4000", str(len(sids)), str(sids[0]),
                        token], capture_output=True, check=True)
        out = subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--latency", "-s",
                              str(script), f"http://127.0.0.1:{PORT}", "--", str(tids[0]), "25000", str(len(sids)),
                              str(sids[0]), token], capture_output=True, text=True, check=True).stdout
    finally:
        stop(proc)
    engine = make_engine(url)
    with engine.connect() as conn:
        enrolled = conn.execute(select(func.count()).select_from(orm.enrollments)).scalar_one()
        by_status = dict(conn.execute(select(orm.enrollments.c.status, func.count()).group_by(orm.enrollments.c.status)).all())
    engine.dispose()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {p: re.search(rf"\s{p}%\s+([\d.]+\w+)", out).group(1) for p in ("50", "75", "90", "99")}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"requests_per_second": rps, "latency": lat, "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(1) if errors else None, "enrollments_in_db": enrolled,
            "statuses_in_db": by_status, "connections": connections, "duration_s": duration,
            "gunicorn": f"{workers} workers x {threads} threads (gthread, reuse-port)", "wrk_output": out}


def bench_race(url: str, attempts: int, seats: int, connections: int, workers: int, threads: int) -> dict:
    repeats = attempts // 40                         # 500 of 20,000 attempts repeat an earlier trainee
    tids, sids = seed(url, trainees=attempts - repeats, sessions=1, capacity=seats)
    plan = tids + tids[:: max(1, len(tids) // repeats)][:repeats]
    plan.sort(key=lambda t: (t * 2654435761) % 2 ** 32)  # shuffle deterministically
    proc = start_gunicorn(url, workers, threads)
    token = issue_token(SECRET, "bench", "admin")
    results: collections.Counter = collections.Counter()
    lost: list = []
    lock = threading.Lock()
    it = iter(plan)
    start_gate = threading.Barrier(connections)

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        start_gate.wait()
        while True:
            with lock:
                tid = next(it, None)
            if tid is None:
                return
            body = json.dumps({"trainee_id": tid, "session_id": sids[0]})
            for attempt in range(3):
                try:
                    conn.request("POST", "/api/v1/enrollments", body, {"Content-Type": "application/json",
                                                                      "Authorization": f"Bearer {token}"})
                    r = conn.getresponse()
                    data = json.loads(r.read())
                    key = data.get("status") if r.status == 201 else f"{r.status}:{data.get('code')}"
                    with lock:
                        results[key] += 1
                    break
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
                    if attempt == 2:
                        with lock:
                            lost.append((tid, repr(exc)))

    t0 = time.monotonic()
    pool = [threading.Thread(target=client) for _ in range(connections)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.monotonic() - t0
    stop(proc)
    engine = make_engine(url)
    with engine.connect() as conn:
        taken, capacity = conn.execute(select(orm.sessions.c.seats_taken, orm.sessions.c.capacity)
                                       .where(orm.sessions.c.id == sids[0])).one()
        held = conn.execute(select(func.count()).select_from(orm.enrollments).where(orm.enrollments.c.holds_seat)).scalar_one()
        by_status = dict(conn.execute(select(orm.enrollments.c.status, func.count()).group_by(orm.enrollments.c.status)).all())
        fifo_ok = conn.execute(text(
            "SELECT COUNT(*) FROM enrollments c JOIN enrollments w ON w.session_id = c.session_id "
            "WHERE c.status = 'confirmed' AND w.status = 'waitlisted' AND w.requested_at < c.requested_at "
            "AND w.id < c.id")).scalar_one() == 0
    engine.dispose()
    answered = sum(results.values())
    return {"attempts": len(plan), "answered": answered, "lost": len(lost), "lost_examples": lost[:3],
            "answers": dict(results), "seats": capacity, "seats_taken": taken, "rows_holding_a_seat": held,
            "overbooked": taken > capacity or held > capacity, "statuses_in_db": by_status,
            "no_waitlisted_before_a_later_confirmed": fifo_ok, "elapsed_s": round(elapsed, 1),
            "throughput_rps": round(answered / elapsed, 1), "connections": connections}


def machine() -> dict:
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "load_average_before": os.getloadavg(), "note": "shared machine, other engineers' jobs running"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=("pg", "sqlite"), default="pg")
    ap.add_argument("--only", choices=("http", "race"))
    ap.add_argument("--duration", type=int, default=20)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    out = {"db": args.db, "machine": machine()}
    r = redis.Redis.from_url(REDIS_URL)
    try:
        if args.only in (None, "http"):
            out["single_enrollment_http"] = bench_http(fresh_database(args.db), args.duration, args.connections,
                                                       args.workers, args.threads)
        if args.only in (None, "race"):
            out["race_20000_for_5000"] = bench_race(fresh_database(args.db), 20_000, 5_000, 200, args.workers,
                                                    args.threads)
    finally:
        r.delete("notification.events", "reporting.events", "enrollment")
    print(json.dumps(out, ensure_ascii=False, indent=2, default=str))


if __name__ == "__main__":
    main()
