"""Parsing of cell values as they come from CSV text or Excel cells.

Each parser returns the typed value or raises ``ValueError`` with a short
English reason; row validators turn that into a bilingual ``RowError``.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

_EXCEL_EPOCH = date(1899, 12, 30)  # Excel's day 0 (the 1900 leap-year bug is absorbed)
_DATE_SEPARATED = re.compile(
    r"^(\d{4})\s*[-./]\s*(\d{1,2})\s*[-./]\s*(\d{1,2})\s*\.?"  # 2019-03-04, 2019. 3. 4.
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"           # optional time part (00:00:00)
)
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DATE_KOREAN = re.compile(r"^(\d{4})\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일?$")


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: object) -> str:
    """Text of a cell; Excel numbers such as 12345.0 lose their '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_date(value: object) -> date:
    """Accept 2019-03-04, 2019.03.04, 2019. 3. 4., 2019/3/4, 20190304,
    2019년 3월 4일, Excel date cells (datetime) and Excel serial numbers."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = int(value)
        if 19000101 <= number <= 29991231:  # typed as 20190304 into a number cell
            return parse_date(str(number))
        if 20_000 <= number <= 80_000:  # Excel serial day number, 1954..2119 only:
            return _EXCEL_EPOCH + timedelta(days=number)  # a bare 2019 is not a date
        raise ValueError("not a date")
    text = str(value).strip()
    for pattern in (_DATE_SEPARATED, _DATE_COMPACT, _DATE_KOREAN):
        match = pattern.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups()[:3])
            return date(year, month, day)  # raises ValueError for 2019-02-30
    raise ValueError("not a date")


def parse_int(value: object, *, minimum: int | None = None) -> int:
    """Whole number; accepts '1,000', '1000명', 1000.0."""
    if isinstance(value, bool):
        raise ValueError("not a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError("not a whole number")
        number = int(value)
    else:
        text = re.sub(r"[,\s]|(?:명|회|일|시간|h)$", "", str(value).strip())
        if not re.fullmatch(r"[+-]?\d+", text):
            raise ValueError("not a whole number")
        number = int(text)
    if minimum is not None and number < minimum:
        raise ValueError(f"must be at least {minimum}")
    return number


_MOBILE_PREFIXES = ("010", "011", "016", "017", "018", "019")


def normalise_mobile(value: object) -> str:
    """Return a Korean mobile number as 010-1234-5678 (or 011-123-4567).

    Accepts any punctuation, +82 / 82 country code, and a lost leading zero
    (Excel turns 01012345678 typed into a number cell into 1012345678).
    """
    digits = re.sub(r"\D", "", cell_text(value))
    if digits.startswith("82") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    if len(digits) in (9, 10) and digits.startswith("1"):
        digits = "0" + digits
    if not digits.startswith(_MOBILE_PREFIXES):
        raise ValueError("not a Korean mobile number")
    if len(digits) == 11:
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if len(digits) == 10 and digits[:3] != "010":
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    raise ValueError("wrong number of digits")


_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-']+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


def normalise_email(value: object) -> str:
    """Trim and lower-case the domain part; reject anything not shaped like an address."""
    text = cell_text(value)
    if not _EMAIL.match(text):
        raise ValueError("not an e-mail address")
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"
