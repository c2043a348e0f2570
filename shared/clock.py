"""Time helpers every service uses: aware UTC now, and UTC for the naive datetimes SQLite gives back."""
from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """``value`` with tzinfo; a naive one is UTC (SQLite returns stored timestamps without their zone)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.timezone.utc)
