"""E-mail over SMTP: a batch goes through ONE reused connection (smtplib), with reconnects.

Per message the transaction is MAIL / RCPT / DATA, driven step by step instead of via
smtplib.sendmail so the adapter knows *where* a failure happened:

- a reply code: 2xx sent, 4xx transient, 5xx permanent (e.g. 550 unknown recipient); after a
  refusal the session is RSET and the rest of the batch continues on the same connection;
- the connection drops before the message body was handed over (stale connection, server
  restart, idle timeout): reconnect and retry that message on the new connection;
- the connection drops after the final "." but before the reply: the server may have queued
  it, so the result is transient with maybe_delivered=True and the message is NOT resent here
  (the caller decides; the deterministic Message-ID lets a mailbox spot a duplicate);
- the server cannot be reached at all: the rest of the batch is failed transient at once instead
  of waiting for one connect timeout per message.
"""
from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import formatdate

from ..domain.delivery import DeliveryResult, DeliveryStatus, OutboundMessage
from ..domain.kinds import ChannelType
from ..domain.retry import classify_smtp_code
from .mime import InvalidMessage, compose_email

_LEADING_DOT = re.compile(rb"(?m)^\.")
_DATA_END = b".\r\n"


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "localhost"
    port: int = 8025
    sender: str = "noreply@hrd.seoul.go.kr"
    sender_name: str | None = "서울시 인재개발원"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    use_ssl: bool = False  # implicit TLS (port 465)
    timeout: float = 30.0
    message_id_domain: str = "hrd.seoul.go.kr"
    max_messages_per_connection: int = 1000  # relays often cap a session; reconnecting is cheap
    reconnects_per_message: int = 2


class _ConnectFailed(Exception):
    pass


class _Dropped(Exception):
    """Connection lost before the message body was handed over: safe to retry."""


class SmtpEmailChannel:
    """Keeps its connection open between batches. Not thread-safe: one instance per worker
    process (or thread); call close() on worker shutdown."""

    channel_type = ChannelType.EMAIL

    def __init__(self, config: SmtpConfig, *, ssl_context: ssl.SSLContext | None = None,
                 smtp_factory: Callable[..., smtplib.SMTP] | None = None):
        self.config = config
        self._ssl_context = ssl_context
        self._factory = smtp_factory or (smtplib.SMTP_SSL if config.use_ssl else smtplib.SMTP)
        self._smtp: smtplib.SMTP | None = None
        self._sent_on_connection = 0
        self.connections_opened = 0  # observability / tests

    # -- public -------------------------------------------------------------------------------
    def send_batch(self, messages: Sequence[OutboundMessage]) -> list[DeliveryResult]:
        results: list[DeliveryResult] = []
        date = formatdate(usegmt=True)  # one Date per batch: it is seconds-resolution anyway
        for index, message in enumerate(messages):
            try:
                results.append(self._send_one(message, date))
            except _ConnectFailed as exc:
                detail = f"SMTP server unreachable: {exc}"
                results.extend(DeliveryResult.transient(m.id, detail) for m in messages[index:])
                break
        return results

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()

    def __enter__(self) -> SmtpEmailChannel:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- one message --------------------------------------------------------------------------
    def _send_one(self, message: OutboundMessage, date: str) -> DeliveryResult:
        try:
            raw = compose_email(message, sender=self.config.sender, sender_name=self.config.sender_name,
                                message_id_domain=self.config.message_id_domain, date=date)
        except InvalidMessage as exc:
            return DeliveryResult.permanent(message.id, str(exc))
        last_error = ""
        for _ in range(1 + self.config.reconnects_per_message):
            smtp = self._connection()
            try:
                result = self._transaction(smtp, message, raw)
            except _Dropped as exc:
                last_error = str(exc)
                self._drop()
                continue
            self._sent_on_connection += 1
            return result
        return DeliveryResult.transient(message.id, f"connection kept dropping: {last_error}")

    def _transaction(self, smtp: smtplib.SMTP, message: OutboundMessage, raw: bytes) -> DeliveryResult:
        try:
            code, reply = smtp.mail(self.config.sender)
            if refused := self._unless(250, code, reply, "MAIL FROM", smtp, message):
                return refused
            code, reply = smtp.rcpt(message.to)
            if code != 251 and (refused := self._unless(250, code, reply, "RCPT TO", smtp, message)):
                return refused
            smtp.putcmd("data")
            code, reply = smtp.getreply()
            if refused := self._unless(354, code, reply, "DATA", smtp, message):
                return refused
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise _Dropped(f"{type(exc).__name__}: {exc}") from exc
        try:
            # Same framing as smtplib.SMTP.data(): dot-stuff, make sure of a final CRLF, end with ".".
            payload = _LEADING_DOT.sub(b"..", raw)
            if not payload.endswith(b"\r\n"):
                payload += b"\r\n"
            smtp.send(payload + _DATA_END)
            code, reply = smtp.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            return DeliveryResult.transient(
                message.id, f"connection lost at end of DATA, outcome unknown: {exc}", maybe_delivered=True
            )
        if code != 250:
            return self._refused(smtp, message, code, reply, "end of DATA")
        return DeliveryResult.sent(message.id, code=code)

    def _unless(self, expected: int, code: int, reply: bytes, stage: str, smtp: smtplib.SMTP,
                message: OutboundMessage) -> DeliveryResult | None:
        if code == expected:
            return None
        if code == 421:  # "closing" (e.g. a per-session cap) before the body was sent: reconnect
            raise _Dropped(f"{stage}: 421 {reply.decode('utf-8', 'replace')}")
        return self._refused(smtp, message, code, reply, stage)

    def _refused(self, smtp: smtplib.SMTP, message: OutboundMessage, code: int, reply: bytes, stage: str) -> DeliveryResult:
        detail = f"{stage}: {code} {reply.decode('utf-8', 'replace')}"
        if code == 421 or code == -1:  # server is closing the session (-1: smtplib's "no reply")
            self._drop()
        else:
            try:
                smtp.rset()  # clear the envelope so the next message starts clean on this connection
            except (smtplib.SMTPException, OSError):
                self._drop()
        if classify_smtp_code(code) is DeliveryStatus.PERMANENT_FAILURE:
            return DeliveryResult.permanent(message.id, detail, code=code)
        return DeliveryResult.transient(message.id, detail, code=code)

    # -- connection ---------------------------------------------------------------------------
    def _connection(self) -> smtplib.SMTP:
        limit = self.config.max_messages_per_connection
        if self._smtp is not None and limit and self._sent_on_connection >= limit:
            self.close()
        if self._smtp is None:
            self._smtp = self._connect()
            self._sent_on_connection = 0
        return self._smtp

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        try:
            if cfg.use_ssl:
                smtp = self._factory(cfg.host, cfg.port, timeout=cfg.timeout, context=self._ssl_context)
            else:
                smtp = self._factory(cfg.host, cfg.port, timeout=cfg.timeout)
            smtp.ehlo()
            if cfg.starttls:
                smtp.starttls(context=self._ssl_context)
                smtp.ehlo()
            if cfg.username:
                smtp.login(cfg.username, cfg.password or "")
        except (smtplib.SMTPException, OSError) as exc:
            raise _ConnectFailed(f"{cfg.host}:{cfg.port}: {type(exc).__name__}: {exc}") from exc
        self.connections_opened += 1
        return smtp

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            except OSError:
                pass
        self._smtp = None
        self._sent_on_connection = 0
