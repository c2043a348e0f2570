"""Korea Standard Time helpers: every planned time in this service is timezone-aware."""
from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

KST = ZoneInfo("Asia/Seoul")


def require_aware(value: datetime, name: str = "datetime") -> datetime:
    """Reject naive datetimes: a naive 09:00 is ambiguous between UTC servers and KST users."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    return value


def to_kst(value: datetime) -> datetime:
    return require_aware(value).astimezone(KST)


def kst_date(value: date | datetime) -> date:
    """The calendar day in Seoul; a plain date is taken as already being a KST day."""
    if isinstance(value, datetime):
        return to_kst(value).date()
    return value


def at_kst(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=KST)
