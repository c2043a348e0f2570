"""Development SMS provider: a tiny HTTP server speaking the same API as HttpSmsChannel expects.

    python -m services.notification.adapters.sms_sink --port 8026 --dir var/sms

POST /v1/messages (any path) with JSON {id, to, body, type[, from]} and the API-key header:
401 without the right key, 400 on a malformed payload or an SMS body over 90 CP949 bytes,
otherwise 202 {"id": "sink-<n>", "status": "queued"} and one JSON line in <dir>/sms.jsonl.
GET /v1/messages lists what was recorded (dev convenience). Duplicate ids are accepted but counted,
so an exactly-once check can read `duplicates`.

Tests start it in a thread (`with SmsSink() as sink:`) and may pass `respond`, a function from the
payload to (status, body) or None, to inject provider failures.
"""
from __future__ import annotations

import argparse
import json
import signal
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO

from ..domain.sms_length import LMS_MAX_BYTES, SMS_MAX_BYTES, sms_byte_length

Responder = Callable[[dict[str, Any]], "tuple[int, dict[str, Any]] | None"]


class SmsSink:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, api_key: str = "dev-sms-key",
                 api_key_header: str = "X-API-Key", out_dir: Path | None = None, respond: Responder | None = None):
        self.api_key = api_key
        self.api_key_header = api_key_header
        self.respond = respond
        self.messages: list[dict[str, Any]] = []
        self.requests = 0
        self._ids: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._jsonl: TextIO | None = None
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            self._jsonl = (out_dir / "sms.jsonl").open("a", encoding="utf-8")
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self.host, self.port = self._server.server_address[:2]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1/messages"

    @property
    def duplicates(self) -> int:
        with self._lock:
            return sum(n - 1 for n in self._ids.values() if n > 1)

    def start(self) -> SmsSink:
        # Short poll interval: shutdown() waits up to one interval, which adds up across tests.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="sms-sink", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._jsonl is not None:
            self._jsonl.close()
            self._jsonl = None

    def __enter__(self) -> SmsSink:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # Called from request threads.
    def handle(self, headers: Any, payload: Any) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests += 1
        if headers.get(self.api_key_header) != self.api_key:
            return 401, {"error": "invalid api key"}
        problem = _validate(payload)
        if problem:
            return 400, {"error": problem}
        if self.respond is not None and (injected := self.respond(payload)) is not None:
            return injected
        record = {**payload, "received_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                  "bytes": sms_byte_length(payload["body"])}
        with self._lock:
            self.messages.append(record)
            self._ids[payload["id"]] += 1
            number = len(self.messages)
            if self._jsonl is not None:
                self._jsonl.write(json.dumps(record, ensure_ascii=False) + "\n")
                self._jsonl.flush()
        return 202, {"id": f"sink-{number}", "status": "queued"}


def _validate(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return "JSON object expected"
    for field in ("id", "to", "body", "type"):
        if not isinstance(payload.get(field), str) or not payload[field]:
            return f"'{field}' is required"
    if payload["type"] not in ("SMS", "LMS"):
        return "'type' must be SMS or LMS"
    limit = SMS_MAX_BYTES if payload["type"] == "SMS" else LMS_MAX_BYTES
    if sms_byte_length(payload["body"]) > limit:
        return f"body exceeds {limit} bytes for {payload['type']}"
    return None


def _handler_for(sink: SmsSink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like a real provider

        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            length = int(self.headers.get("Content-Length") or 0)
            try:
                payload = json.loads(self.rfile.read(length) or b"null")
            except ValueError:
                self._reply(400, {"error": "invalid JSON"})
                return
            self._reply(*sink.handle(self.headers, payload))

        def do_GET(self) -> None:  # noqa: N802
            with sink._lock:
                self._reply(200, {"count": len(sink.messages), "messages": sink.messages[-100:]})

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by default
            pass

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Development SMS provider that records messages.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8026)
    parser.add_argument("--dir", type=Path, default=Path("var/sms"))
    parser.add_argument("--api-key", default="dev-sms-key")
    args = parser.parse_args(argv)
    sink = SmsSink(args.host, args.port, api_key=args.api_key, out_dir=args.dir).start()
    print(f"SMS sink listening on {sink.url}, recording to {args.dir / 'sms.jsonl'}", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    sink.stop()
    print(f"stopped after {len(sink.messages)} messages", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
