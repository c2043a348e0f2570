from datetime import datetime, time, timedelta, timezone

import pytest

from services.notification.domain.kst import KST
from services.notification.domain.quiet_hours import QuietHours, next_allowed_send_time


def kst(y, m, d, hh, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=KST)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (kst(2019, 3, 4, 20, 59), kst(2019, 3, 4, 20, 59)),  # last allowed minute
        (kst(2019, 3, 4, 21, 0), kst(2019, 3, 5, 8, 0)),  # window starts: deferred to tomorrow 08:00
        (kst(2019, 3, 4, 23, 30), kst(2019, 3, 5, 8, 0)),
        (kst(2019, 3, 5, 0, 0), kst(2019, 3, 5, 8, 0)),  # after midnight: same morning
        (kst(2019, 3, 5, 7, 59), kst(2019, 3, 5, 8, 0)),
        (kst(2019, 3, 5, 8, 0), kst(2019, 3, 5, 8, 0)),  # window end is exclusive
        (kst(2019, 12, 31, 22, 0), kst(2020, 1, 1, 8, 0)),  # across the year boundary
    ],
)
def test_default_sms_quiet_hours(at, expected):
    assert next_allowed_send_time(at) == expected


def test_utc_input_is_judged_in_seoul_time():
    at = datetime(2019, 3, 4, 12, 30, tzinfo=timezone.utc)  # 21:30 KST
    result = next_allowed_send_time(at)
    assert result == kst(2019, 3, 5, 8, 0) and result.tzinfo == KST


def test_deferred_never_dropped_and_never_earlier_over_a_whole_day():
    quiet = QuietHours()
    at = kst(2019, 3, 4, 0, 0)
    for _ in range(24 * 60):
        allowed = quiet.next_allowed(at)
        assert allowed >= at and not quiet.contains(allowed)
        assert allowed - at <= timedelta(hours=11)
        at += timedelta(minutes=1)


def test_configurable_windows():
    lunch = QuietHours(time(12, 0), time(13, 0))
    assert lunch.next_allowed(kst(2019, 3, 4, 12, 30)) == kst(2019, 3, 4, 13, 0)
    assert lunch.next_allowed(kst(2019, 3, 4, 13, 0)) == kst(2019, 3, 4, 13, 0)
    assert QuietHours.parse("22:00-07:00").next_allowed(kst(2019, 3, 4, 21, 30)) == kst(2019, 3, 4, 21, 30)
    off = QuietHours.parse("off")
    assert not off.enabled and off.next_allowed(kst(2019, 3, 4, 3, 0)) == kst(2019, 3, 4, 3, 0)


def test_naive_datetimes_are_rejected():
    with pytest.raises(ValueError):
        next_allowed_send_time(datetime(2019, 3, 4, 22, 0))
