"""Stable sent-log keys: one key per (enrollment, kind, channel, occurrence), unique in the DB."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from urllib.parse import quote

from .kinds import ChannelType, MessageKind

KEY_VERSION = "v1"
MAX_KEY_LENGTH = 255  # fits a VARCHAR(255) unique index on every database we target


def delivery_key(
    enrollment_id: int | str, kind: MessageKind | str, channel: ChannelType | str, occurrence: str
) -> str:
    """e.g. 'v1|42|reminder|email|D-7%402019-03-04'.

    Readable for operators; each part is percent-encoded so a '|' inside an id can never make two
    different tuples collide. Validating kind/channel through the enums keeps 'Email' and 'email'
    from producing two keys. Over-long keys (huge ids) fall back to a sha256 digest.
    """
    parts = (str(enrollment_id), str(MessageKind(kind)), str(ChannelType(channel)), occurrence)
    if not parts[0] or not occurrence:
        raise ValueError("enrollment_id and occurrence must be non-empty")
    key = "|".join([KEY_VERSION, *(_quote(p) for p in parts)])
    if len(key) > MAX_KEY_LENGTH:
        key = f"{KEY_VERSION}|sha256|{hashlib.sha256(key.encode()).hexdigest()}"
    return key


def _quote(part: str) -> str:
    """``quote(part, safe="-_.:")``; plain ASCII digits (enrollment ids) are left as they are, other
    parts (kinds, channels, occurrences: few distinct values) are quoted once and remembered."""
    if part.isascii() and part.isdigit():
        return part
    return _quote_cached(part)


@lru_cache(maxsize=4096)
def _quote_cached(part: str) -> str:
    return quote(part, safe="-_.:")
