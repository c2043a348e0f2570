"""Shared setup of the reporting benchmarks: fresh databases, apps, machine description."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")
JWT_SECRET = "bench-secret-0123456789-0123456789-abcdef"

from dbs import PG, fresh_database  # noqa: E402,F401 - re-exported for the reporting benches


def make_app(service: str, db_url: str, **extra):
    import importlib
    factory = importlib.import_module(f"services.{service}.app").create_app
    app = factory({"DATABASE_URL": db_url, "REDIS_URL": REDIS, "JWT_SECRET": JWT_SECRET, **extra})
    app.extensions["db"].upgrade(db_url)
    return app


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        model = cpu
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    try:
        pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        pg = "?"
    load = os.getloadavg()
    return (f"{model}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}, {pg}; "
            f"load average {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} (shared machine, other engineers busy)")


def percentile(values, p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1)))))
    return ordered[k]
