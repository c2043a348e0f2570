"""Local SMTP sink for development and tests (aiosmtpd): accepts mail, records it, counts it.

    python -m services.notification.adapters.smtp_sink --port 8025 --dir var/mail

writes one JSON line per received mail to <dir>/mail.jsonl (from, to, subject, Message-ID,
X-Delivery-Key, size, time) and, with --eml, the raw message as <dir>/eml/<n>.eml.
Recipients ending in --reject-suffix (default "@bounce.invalid") get "550 5.1.1", so permanent
failures can be tried by hand.

In tests:
    with SmtpSink() as sink:           # free port on 127.0.0.1, own thread
        ...send to sink.host, sink.port...
        sink.wait_for(3); sink.messages
"""
from __future__ import annotations

import argparse
import json
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from typing import Any, TextIO

from aiosmtpd.controller import Controller

_HEADERS = BytesHeaderParser(policy=compat32)  # headers only, no body parsing: cheap at volume


@dataclass(frozen=True)
class ReceivedMail:
    received_at: str
    mail_from: str
    rcpt_tos: list[str]
    subject: str
    message_id: str
    delivery_key: str
    size: int
    raw: bytes | None = None  # kept only when the sink keeps messages in memory

    def to_json(self) -> str:
        record = asdict(self)
        record.pop("raw")
        return json.dumps(record, ensure_ascii=False)


class RecordingHandler:
    """aiosmtpd handler: rejects some recipients, records every accepted mail."""

    def __init__(self, *, out_dir: Path | None = None, keep_in_memory: bool = True, save_eml: bool = False,
                 reject: Callable[[str], bool] | None = None):
        self.keep_in_memory = keep_in_memory
        self.reject = reject or (lambda address: False)
        self.messages: list[ReceivedMail] = []
        self.count = 0
        self.rejected = 0
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._jsonl: TextIO | None = None
        self._eml_dir: Path | None = None
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            self._jsonl = (out_dir / "mail.jsonl").open("a", encoding="utf-8")
            if save_eml:
                self._eml_dir = out_dir / "eml"
                self._eml_dir.mkdir(exist_ok=True)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        if self.reject(address):
            with self._lock:
                self.rejected += 1
            return f"550 5.1.1 <{address}>: Recipient address rejected: user unknown"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw: bytes = envelope.content
        headers = _HEADERS.parsebytes(raw)
        mail = ReceivedMail(
            received_at=datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            mail_from=envelope.mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            subject=str(make_header(decode_header(headers.get("Subject", "")))),
            message_id=headers.get("Message-ID", ""),
            delivery_key=headers.get("X-Delivery-Key", ""),
            size=len(raw),
            raw=raw if self.keep_in_memory else None,
        )
        with self._arrived:
            self.count += 1
            number = self.count
            if self.keep_in_memory:
                self.messages.append(mail)
            if self._jsonl is not None:
                self._jsonl.write(mail.to_json() + "\n")
                self._jsonl.flush()
            self._arrived.notify_all()
        if self._eml_dir is not None:
            (self._eml_dir / f"{number:08d}.eml").write_bytes(raw)
        return "250 2.0.0 OK: queued"

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while self.count < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._arrived.wait(remaining)
        return True

    def close(self) -> None:
        if self._jsonl is not None:
            self._jsonl.close()
            self._jsonl = None


def free_port(host: str = "127.0.0.1") -> int:
    # aiosmtpd's Controller cannot bind port 0 (it connects to the port to check readiness).
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class SmtpSink:
    """An aiosmtpd server in a background thread, recording through a RecordingHandler."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, handler: RecordingHandler | None = None,
                 idle_timeout: float = 300.0, **handler_options: Any):
        self.host = host
        self.port = port or free_port(host)
        self.handler = handler or RecordingHandler(**handler_options)
        # 8BITMIME/SMTPUTF8 advertised like a real MTA; data limit well above our largest mail.
        self._controller = Controller(self.handler, hostname=host, port=self.port, timeout=idle_timeout,
                                      enable_SMTPUTF8=True, data_size_limit=10 * 1024 * 1024)

    @property
    def messages(self) -> list[ReceivedMail]:
        return self.handler.messages

    @property
    def count(self) -> int:
        return self.handler.count

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        return self.handler.wait_for(count, timeout)

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
        self.handler.close()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local SMTP sink that records received mail.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=Path("var/mail"), help="where mail.jsonl is appended")
    parser.add_argument("--eml", action="store_true", help="also save each raw message as .eml")
    parser.add_argument("--reject-suffix", default="@bounce.invalid",
                        help="recipients ending with this get 550 (empty: accept all)")
    args = parser.parse_args(argv)
    suffix = args.reject_suffix.lower()
    handler = RecordingHandler(out_dir=args.dir, keep_in_memory=False, save_eml=args.eml,
                               reject=(lambda a: a.lower().endswith(suffix)) if suffix else None)
    sink = SmtpSink(args.host, args.port, handler=handler).start()
    print(f"SMTP sink listening on {args.host}:{args.port}, recording to {args.dir / 'mail.jsonl'}", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    last = -1
    while not stop.wait(5.0):
        if handler.count != last:
            last = handler.count
            print(f"received {handler.count} mails ({handler.rejected} recipients rejected)", flush=True)
    sink.stop()
    print(f"stopped after {handler.count} mails", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
