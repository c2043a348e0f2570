"""Benchmark of bulk enrollment (issue 4), end to end with real processes on this machine.

    python -m bench.bulk_enrollment [--pg postgresql://postgres@127.0.0.1:5432/postgres]
                                    [--redis redis://127.0.0.1:6379/2] [--port 18011] [--big 100000]

1. Fresh PostgreSQL databases ``bench_bulk_<service>``, a flushed Redis db, migrations, the 2019 track and its
   demo courses; gunicorn (2 workers) for the enrollment service on ``--port``; the Celery workers
   of ``make run`` (one per service, -c 2 prefork; notification's event queue on a worker of its own, -c 2; derived workers and sinks at low priority as tools/lowprio.py does).
2. 3,020 new hires (CP949 CSV, Korean headers) POSTed over HTTP: time to the 202, to job done, and until the
   notification service has stored a message for every enrollment.
3. ``--big`` rows (new people) the same way: time to job done, rows/s, and peak RSS of the enrollment worker
   (memory must stay flat: the file is streamed, chunks are ~1,000 rows).
4. PostgreSQL ``COPY`` of the same big file's rows into a scratch table, timed in the same run: our ingest
   rate is reported as a ratio to it.

Timings are printed and written to bench/out/bulk_enrollment.json. Nothing here is asserted.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import redis as redis_lib
import requests
from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.enrollment.bulk import demo  # noqa: E402
from shared.auth import issue_token  # noqa: E402
from bench import dbs  # noqa: E402
from tools.devrun import LOW_PRIORITY, SEPARATE_EVENT_CONSUMER, worker_queues  # noqa: E402

SERVICES = ("enrollment", "notification", "reporting")
SECRET = "bench-secret-0123456789-0123456789-abcdef"


def pg_urls(base: str) -> dict[str, str]:
    return {svc: dbs.fresh_database(f"bench_bulk_{svc}", base) for svc in SERVICES}


def env_for(urls, redis_url) -> dict:
    env = dict(os.environ)
    env.update({f"{s.upper()}_DATABASE_URL": u for s, u in urls.items()})
    env.update({"REDIS_URL": redis_url, "HRD_JWT_SECRET": SECRET, "HRD_LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(ROOT)})
    return env


def csv_bytes(count: int, first_no: int) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=demo.HEADERS_KO, lineterminator="\r\n")
    w.writeheader()
    for row in demo.new_hire_rows(count, first_no=first_no):
        w.writerow(row)
    return buf.getvalue().encode("cp949")


class RssSampler(threading.Thread):
    """Peak RSS (MiB) of a process tree, sampled every 100 ms."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = 0.0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                self.peak = max(self.peak, max(p.memory_info().rss for p in procs) / 2 ** 20)
            except psutil.Error:
                pass
            time.sleep(0.1)


def run_upload(base_url, headers, data: bytes, msg_engine=None, expect_msgs: int | None = None) -> dict:
    t0 = time.perf_counter()
    r = requests.post(f"{base_url}/api/v1/bulk-enrollments", headers=headers,
                      files={"file": ("신규임용자.csv", data, "text/csv")}, timeout=60)
    t_accepted = time.perf_counter() - t0
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    while True:
        job = requests.get(f"{base_url}/api/v1/bulk-enrollments/{job_id}", headers=headers, timeout=30).json()
        if job["state"] in ("done", "failed"):
            break
        # 50 ms polls for the first seconds (small jobs), then 250 ms: polling a long job every 50 ms cost the
        # 2-core machine ~5 % (gunicorn + this script) and shifts "done" by at most 0.25 s.
        time.sleep(0.05 if time.perf_counter() - t0 < 10 else 0.25)
    t_done = time.perf_counter() - t0
    out = {"job": job_id, "state": job["state"], "accepted_s": round(t_accepted, 3), "done_s": round(t_done, 2),
           "rows": job["progress"]["rows_total"], "enrollments": job["enrollments"]["created"],
           "confirmed": job["enrollments"]["confirmed"], "waitlisted": job["enrollments"]["waitlisted"],
           "rows_per_s": round(job["progress"]["rows_total"] / t_done, 1)}
    if msg_engine is not None and expect_msgs is not None:
        deadline = time.perf_counter() + 300
        while time.perf_counter() < deadline:
            with msg_engine.connect() as conn:
                n = conn.execute(text("SELECT count(*) FROM messages")).scalar_one()
            if n >= expect_msgs:
                break
            time.sleep(0.1)
        out["messages"] = n
        out["all_messages_s"] = round(time.perf_counter() - t0, 2)
    return out


def copy_rate(pg_url: str, data: bytes) -> dict:
    """PostgreSQL COPY of the file's rows (the same columns) into a scratch table."""
    import psycopg
    body = data.decode("cp949").split("\r\n", 1)[1]
    with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy")
        conn.execute("CREATE TABLE bench_copy (employee_no text, name text, organisation text, grade text, "
                     "job_series text, appointed_on date, email text, mobile text)")
        t0 = time.perf_counter()
        with conn.cursor().copy("COPY bench_copy FROM STDIN WITH (FORMAT csv)") as cp:
            cp.write(body.encode())
        conn.commit()
        seconds = time.perf_counter() - t0
        rows = conn.execute("SELECT count(*) FROM bench_copy").fetchone()[0]
        conn.execute("DROP TABLE bench_copy")
    return {"rows": rows, "seconds": round(seconds, 3), "rows_per_s": round(rows / seconds, 1)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/2")
    ap.add_argument("--port", type=int, default=18011)
    ap.add_argument("--big", type=int, default=100_000)
    ap.add_argument("--equal-priority", action="store_true",
                    help="run the notification/reporting workers and sinks at normal priority (make run lowers it)")
    ap.add_argument("--big-without-consumers", action="store_true",
                    help="stop the notification and reporting workers before the big run (ingest alone)")
    args = ap.parse_args()

    urls = pg_urls(args.pg)
    redis_lib.Redis.from_url(args.redis).flushdb()
    env = env_for(urls, args.redis)
    py = sys.executable
    for svc in SERVICES:
        subprocess.run([str(Path(py).parent / "flask"), "--app", f"services.{svc}.app:create_app", "migrate"],
                       cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([str(Path(py).parent / "flask"), "--app", "services.enrollment.app:create_app", "bulk",
                    "load-onboarding-demo"], cwd=ROOT, env=env, check=True)
    procs = {"web": subprocess.Popen([str(Path(py).parent / "gunicorn"), "-w", "2", "-k", "gthread", "--threads", "4", "--reuse-port",
                                      "-b", f"127.0.0.1:{args.port}", "services.enrollment.app:create_app()"],
                                     cwd=ROOT, env=env, start_new_session=True)}
    def lowprio(role: str) -> list[str]:  # as make run starts them (tools/devrun.py, tools/lowprio.py)
        return [py, "-m", "tools.lowprio"] if role in LOW_PRIORITY and not args.equal_priority else []

    def worker(svc: str, queues: str, name: str, role: str, concurrency: int) -> subprocess.Popen:
        return subprocess.Popen([*lowprio(role), py, "-m", "celery", "-A", f"services.{svc}.worker", "worker", "-Q", queues,
                                 "-n", f"bench-{name}@%h", "-c", str(concurrency), "--loglevel", "WARNING",
                                 "--without-mingle", "--without-gossip"], cwd=ROOT, env=env, start_new_session=True)

    for svc in SERVICES:  # the same workers as `make run` (tools/devrun.py), at the same priorities
        procs[svc] = worker(svc, worker_queues(svc), svc, f"{svc}-worker", 2)
        if svc in SEPARATE_EVENT_CONSUMER:
            procs[f"{svc}-consumer"] = worker(svc, f"{svc}.events", f"{svc}-events", f"{svc}-consumer", 2)
    sink_dir = Path(tempfile.mkdtemp(prefix="bench-bulk-sinks-"))  # make run's mail and SMS sinks
    for sink, port in (("smtp_sink", 8025), ("sms_sink", 8026)):
        procs[sink] = subprocess.Popen([*lowprio(sink.replace("_", "-")), py, "-m", f"services.notification.adapters.{sink}", "--port", str(port),
                                        "--dir", str(sink_dir / sink)], cwd=ROOT, env=env, start_new_session=True,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{args.port}"
    headers = {"Authorization": f"Bearer {issue_token(SECRET, 'bench', 'admin')}"}
    results: dict = {"consumers_niced": not args.equal_priority,
                     "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                                 "memory_gib": round(psutil.virtual_memory().total / 2 ** 30, 1),
                                 "load_avg_at_start": os.getloadavg()}}
    try:
        for _ in range(100):
            try:
                if requests.get(f"{base}/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        time.sleep(3)  # workers connect
        msg_engine = create_engine(urls["notification"])
        sampler = RssSampler(procs["enrollment"].pid)
        sampler.start()

        small = csv_bytes(3020, 1)
        r = run_upload(base, headers, small, msg_engine, expect_msgs=None)
        r = {**r, **run_msgs(msg_engine, r["enrollments"], r)}
        r["worker_peak_rss_mib"] = round(sampler.peak, 1)
        results["hires_3020"] = r
        print(json.dumps(r, ensure_ascii=False), flush=True)

        again = run_upload(base, headers, small)
        results["hires_3020_again"] = again
        print(json.dumps(again, ensure_ascii=False), flush=True)

        if args.big_without_consumers:
            for name in [n for n in procs if n.split("-")[0] in ("notification", "reporting")]:
                os.killpg(procs[name].pid, signal.SIGTERM)
                procs[name].wait(30)
        results["big_with_consumers"] = not args.big_without_consumers
        big = csv_bytes(args.big, 100_001)
        r = run_upload(base, headers, big)
        r["worker_peak_rss_mib"] = round(sampler.peak, 1)
        sampler.stop.set()
        results[f"rows_{args.big}"] = r
        print(json.dumps(r, ensure_ascii=False), flush=True)
        c = copy_rate(urls["enrollment"], big)
        results["pg_copy"] = c
        results["ratio_to_copy"] = round(r["rows_per_s"] / c["rows_per_s"], 4)
        print(json.dumps({"pg_copy": c, "ratio_to_copy": results["ratio_to_copy"]}), flush=True)
    finally:
        for p in procs.values():
            if p.poll() is not None:
                continue
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(p.pid, signal.SIGKILL)
        shutil.rmtree(sink_dir, ignore_errors=True)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bulk_enrollment.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


def run_msgs(msg_engine, expected: int, r: dict) -> dict:
    """Wait until the notification service stored a message per enrollment; time from the upload."""
    # r["done_s"] is measured from the POST; keep counting from there
    t_start = time.perf_counter() - r["done_s"]
    deadline = time.perf_counter() + 300
    n = 0
    while time.perf_counter() < deadline:
        with msg_engine.connect() as conn:
            n = conn.execute(select(func.count()).select_from(text("messages"))).scalar_one()
        if n >= expected:
            break
        time.sleep(0.05)
    return {"messages": n, "all_messages_s": round(time.perf_counter() - t_start, 2)}


if __name__ == "__main__":
    raise SystemExit(main())
