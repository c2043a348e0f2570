"""Working-day calendar used to schedule the demo plan.

Korean public holidays are listed here for the plan years we generate (the
``holidays`` package is deliberately not a domain dependency; a unit test
checks this table against it).
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

KOREAN_PUBLIC_HOLIDAYS: frozenset[date] = frozenset({
    date(2019, 1, 1),                                        # 신정
    date(2019, 2, 4), date(2019, 2, 5), date(2019, 2, 6),    # 설날
    date(2019, 3, 1),                                        # 삼일절
    date(2019, 5, 5), date(2019, 5, 6),                      # 어린이날 + 대체공휴일
    date(2019, 5, 12),                                       # 부처님오신날
    date(2019, 6, 6),                                        # 현충일
    date(2019, 8, 15),                                       # 광복절
    date(2019, 9, 12), date(2019, 9, 13), date(2019, 9, 14), # 추석
    date(2019, 10, 3), date(2019, 10, 9),                    # 개천절, 한글날
    date(2019, 12, 25),                                      # 성탄절
})


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in KOREAN_PUBLIC_HOLIDAYS


def next_business_day(day: date) -> date:
    """``day`` itself when it is a business day, else the next one."""
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def business_days(start: date, count: int) -> list[date]:
    """``count`` business days starting at ``start`` (which must be one)."""
    days: list[date] = []
    day = start
    while len(days) < count:
        if is_business_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def calendar_days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def first_business_day_of_month(year: int, month: int) -> date:
    return next_business_day(date(year, month, 1))


def last_business_day_of_month(year: int, month: int) -> date:
    day = (date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)
    while not is_business_day(day):
        day -= timedelta(days=1)
    return day
