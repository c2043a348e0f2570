"""Cheap RFC 5322 composition for bulk mail.

email.message.EmailMessage costs ~1 ms per message here (most of it re-parsing headers through
the header registry); 200,000 reminders would burn minutes of CPU on that alone. The messages we
send have one fixed shape, so they are written directly: RFC 2047 UTF-8 headers (cached: sender
and subjects repeat across a batch), base64 UTF-8 bodies (safe without 8BITMIME, lines <= 76),
multipart/alternative when there is HTML. Tests parse the result back with the stdlib parser.
"""
from __future__ import annotations

import base64
import hashlib
import re
from email.header import Header
from email.utils import formataddr, formatdate
from functools import lru_cache

from ..domain.delivery import OutboundMessage

CRLF = "\r\n"
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_CONTROL = re.compile(r"[\r\n\x00-\x1f\x7f]+")


class InvalidMessage(ValueError):
    """The message can never be sent as is (bad address, empty body): a permanent failure."""


def is_valid_address(address: str) -> bool:
    return len(address) <= 254 and bool(_ADDRESS.match(address))


@lru_cache(maxsize=8192)
def encode_header(value: str, name: str = "Subject") -> str:
    value = _CONTROL.sub(" ", value).strip()  # no header injection through CR/LF in data
    if value.isascii() and len(value) + len(name) < 76:
        return value
    return Header(value, "utf-8", header_name=name).encode(linesep=CRLF)


@lru_cache(maxsize=65536)
def encode_address(address: str, name: str | None = None) -> str:
    if not name:
        return address
    return formataddr((_CONTROL.sub(" ", name).strip(), address), charset="utf-8")


def message_id_for(delivery_id: str, domain: str) -> str:
    """Deterministic per delivery key, so a resend after an unknown outcome is recognisable."""
    return f"<{hashlib.sha256(delivery_id.encode()).hexdigest()[:32]}@{domain}>"


def _base64_lines(text: str) -> str:
    # encodebytes wraps at 76 chars with \n; SMTP wants CRLF.
    return base64.encodebytes(text.replace("\r\n", "\n").encode("utf-8")).decode("ascii").replace("\n", CRLF)


def compose_email(
    message: OutboundMessage,
    *,
    sender: str,
    sender_name: str | None = None,
    message_id_domain: str = "localhost",
    date: str | None = None,
) -> bytes:
    """The full message as CRLF bytes, ready for DATA (dot-stuffing is the transport's job)."""
    if not is_valid_address(message.to):
        raise InvalidMessage(f"invalid recipient address {message.to!r}")
    if not message.body:
        raise InvalidMessage("empty body")
    headers = [
        f"From: {encode_address(sender, sender_name)}",
        f"To: {encode_address(message.to, message.to_name)}",
        f"Subject: {encode_header(message.subject or '', 'Subject')}",
        f"Date: {date or formatdate(usegmt=True)}",
        f"Message-ID: {message_id_for(message.id, message_id_domain)}",
        f"X-Delivery-Key: {_CONTROL.sub(' ', message.id)}",
        "MIME-Version: 1.0",
    ]
    text_part = f'Content-Type: text/plain; charset="utf-8"{CRLF}Content-Transfer-Encoding: base64{CRLF}{CRLF}' + _base64_lines(message.body)
    if message.html is None:
        return (CRLF.join(headers) + CRLF + text_part).encode("ascii")
    boundary = "=_hrd_" + hashlib.sha256(message.id.encode()).hexdigest()[:24]
    html_part = f'Content-Type: text/html; charset="utf-8"{CRLF}Content-Transfer-Encoding: base64{CRLF}{CRLF}' + _base64_lines(message.html)
    body = (
        f'Content-Type: multipart/alternative; boundary="{boundary}"{CRLF}{CRLF}'
        f"--{boundary}{CRLF}{text_part}{CRLF}--{boundary}{CRLF}{html_part}{CRLF}--{boundary}--{CRLF}"
    )
    return (CRLF.join(headers) + CRLF + body).encode("ascii")
