"""Korean business-day calendar (weekends + public holidays from the `holidays` package, KR).

Includes lunar holidays (설날, 추석) and substitute holidays (대체공휴일), e.g. 2019-05-06.
Centre-specific closures (e.g. an ad-hoc temporary holiday) can be added via `extra_closed`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import holidays


@dataclass(frozen=True)
class BusinessCalendar:
    extra_closed: frozenset[date] = frozenset()
    _kr: holidays.HolidayBase = field(
        default_factory=lambda: holidays.country_holidays("KR"), compare=False, repr=False
    )

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._kr and day not in self.extra_closed

    def holiday_name(self, day: date) -> str | None:
        return self._kr.get(day)

    def previous_business_day(self, day: date) -> date:
        """`day` itself if it is a business day, else the closest business day before it."""
        while not self.is_business_day(day):
            day -= timedelta(days=1)
        return day

    def next_business_day_after(self, day: date) -> date:
        """The first business day strictly after `day`."""
        day += timedelta(days=1)
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day


KR_CALENDAR = BusinessCalendar()
