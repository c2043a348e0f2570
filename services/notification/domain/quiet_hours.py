"""Quiet hours for SMS: messages falling inside the window are deferred to its end, never dropped."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from .kst import KST, require_aware


@dataclass(frozen=True)
class QuietHours:
    """[start, end) in local time. start > end crosses midnight (21:00-08:00); start == end = off."""

    start: time = time(21, 0)
    end: time = time(8, 0)
    tz: ZoneInfo = KST

    @classmethod
    def parse(cls, spec: str, tz: ZoneInfo = KST) -> QuietHours:
        """'21:00-08:00' -> QuietHours; '' or 'off' -> disabled (for env-var configuration)."""
        spec = spec.strip().lower()
        if spec in ("", "off", "none"):
            return cls(time(0, 0), time(0, 0), tz)
        start, end = (time.fromisoformat(part.strip()) for part in spec.split("-", 1))
        return cls(start, end, tz)

    @property
    def enabled(self) -> bool:
        return self.start != self.end

    def contains(self, at: datetime) -> bool:
        if not self.enabled:
            return False
        local = require_aware(at, "at").astimezone(self.tz).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_allowed(self, at: datetime) -> datetime:
        """`at` itself when sending is allowed, else the end of the quiet window (in self.tz)."""
        if not self.contains(at):
            return at
        local = at.astimezone(self.tz)
        day = local.date()
        if self.start > self.end and local.time() >= self.start:
            day += timedelta(days=1)  # evening part of an overnight window: ends tomorrow morning
        return datetime.combine(day, self.end, tzinfo=self.tz)


DEFAULT_SMS_QUIET_HOURS = QuietHours()


def next_allowed_send_time(at: datetime, quiet_hours: QuietHours = DEFAULT_SMS_QUIET_HOURS) -> datetime:
    return quiet_hours.next_allowed(at)
