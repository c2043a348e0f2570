"""Dates as trainees read them, always in KST: '2019년 3월 4일(월) 09:00' / 'Mon 4 Mar 2019, 09:00 KST'."""
from __future__ import annotations

from datetime import date, datetime

from .kst import to_kst

_KO_WEEKDAYS = "월화수목금토일"
_EN_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _day(value: date | datetime) -> date:
    return to_kst(value).date() if isinstance(value, datetime) else value


def format_date(value: date | datetime, lang: str = "ko") -> str:
    d = _day(value)
    if lang == "en":
        return f"{_EN_WEEKDAYS[d.weekday()]} {d.day} {_EN_MONTHS[d.month - 1]} {d.year}"
    return f"{d.year}년 {d.month}월 {d.day}일({_KO_WEEKDAYS[d.weekday()]})"


def format_short_date(value: date | datetime, lang: str = "ko") -> str:
    """Without the year, for SMS where every byte counts: '3/4(월)' / '4 Mar'."""
    d = _day(value)
    if lang == "en":
        return f"{d.day} {_EN_MONTHS[d.month - 1]}"
    return f"{d.month}/{d.day}({_KO_WEEKDAYS[d.weekday()]})"


def format_short_datetime(value: datetime, lang: str = "ko") -> str:
    return f"{format_short_date(value, lang)} {format_time(value)}"


def format_time(value: datetime) -> str:
    return to_kst(value).strftime("%H:%M")


def format_datetime(value: datetime, lang: str = "ko") -> str:
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    if lang == "en":
        return f"{format_date(value, 'en')}, {format_time(value)} KST"
    return f"{format_date(value, 'ko')} {format_time(value)}"
