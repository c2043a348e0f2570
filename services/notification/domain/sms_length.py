"""Korean SMS length rules: carriers count bytes in EUC-KR/CP949 (Hangul = 2 bytes, ASCII = 1).

SMS holds 90 bytes; anything longer goes as LMS, which holds 2,000 bytes; beyond that the body is
cut at a character boundary and ends with '…' so a Hangul syllable is never split in half.
"""
from __future__ import annotations

from dataclasses import dataclass

from .delivery import SmsType

SMS_MAX_BYTES = 90
LMS_MAX_BYTES = 2000
ELLIPSIS = "…"  # 2 bytes in CP949
_ENCODING = "cp949"
_UNENCODABLE_WIDTH = 2  # e.g. emoji: providers substitute or reject; count conservatively


def char_bytes(ch: str) -> int:
    try:
        return len(ch.encode(_ENCODING))
    except UnicodeEncodeError:
        return _UNENCODABLE_WIDTH


def sms_byte_length(text: str) -> int:
    try:
        return len(text.encode(_ENCODING))
    except UnicodeEncodeError:
        return sum(char_bytes(ch) for ch in text)


@dataclass(frozen=True)
class SmsBody:
    text: str
    sms_type: SmsType
    byte_length: int
    truncated: bool


def fit_sms(text: str, *, lms_max_bytes: int = LMS_MAX_BYTES) -> SmsBody:
    size = sms_byte_length(text)
    if size <= SMS_MAX_BYTES:
        return SmsBody(text, "SMS", size, truncated=False)
    if size <= lms_max_bytes:
        return SmsBody(text, "LMS", size, truncated=False)
    budget = lms_max_bytes - char_bytes(ELLIPSIS)
    used = 0
    cut = 0
    for i, ch in enumerate(text):
        width = char_bytes(ch)
        if used + width > budget:
            break
        used += width
        cut = i + 1
    clipped = text[:cut].rstrip() + ELLIPSIS
    return SmsBody(clipped, "LMS", sms_byte_length(clipped), truncated=True)
