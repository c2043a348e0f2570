import random
from datetime import datetime, timedelta

import pytest

from services.notification.domain.channel_selection import ChannelPreferences, ContactInfo, select_channels
from services.notification.domain.delivery import DeliveryStatus
from services.notification.domain.idempotency import delivery_key
from services.notification.domain.kinds import KIND_SPECS, ChannelType, MessageKind, is_mandatory
from services.notification.domain.kst import KST
from services.notification.domain.phone import normalize_kr_mobile
from services.notification.domain.retry import RetryPolicy, classify_http_status, classify_smtp_code

E, S, I = ChannelType.EMAIL, ChannelType.SMS, ChannelType.INAPP
FULL = ContactInfo(email="kim@seoul.go.kr", mobile="010-1234-5678")
EVERYTHING_OFF = ChannelPreferences.opt_out_of(["email", "sms", "inapp"])


def test_every_kind_has_a_spec_and_mandatory_split():
    assert set(KIND_SPECS) == set(MessageKind)
    assert {k for k in MessageKind if is_mandatory(k)} == {
        MessageKind.ENROLLMENT_CONFIRMED, MessageKind.WAITLISTED, MessageKind.PROMOTED,
        MessageKind.CANCELLED, MessageKind.SESSION_CANCELLED, MessageKind.SESSION_RESCHEDULED,
    }


def test_defaults_with_full_contact_data():
    assert select_channels(MessageKind.REMINDER, FULL) == (E, S, I)
    assert select_channels(MessageKind.ENROLLMENT_CONFIRMED, FULL) == (E, I)


@pytest.mark.parametrize("kind", [k for k in MessageKind if is_mandatory(k)])
def test_mandatory_with_everything_opted_out_falls_back_to_inapp(kind):
    assert select_channels(kind, FULL, EVERYTHING_OFF) == (I,)


def test_optional_with_everything_opted_out_goes_nowhere():
    assert select_channels(MessageKind.SURVEY_REQUEST, FULL, EVERYTHING_OFF) == ()


def test_opt_out_of_one_channel_keeps_the_others():
    prefs = ChannelPreferences.opt_out_of(["sms"])
    assert select_channels(MessageKind.REMINDER, FULL, prefs) == (E, I)
    assert select_channels(MessageKind.SESSION_CANCELLED, FULL, prefs) == (E, I)


def test_missing_contact_data_removes_the_channel():
    no_mobile = ContactInfo(email="kim@seoul.go.kr", mobile=" ")
    assert select_channels(MessageKind.PROMOTED, no_mobile) == (E, I)
    assert select_channels(MessageKind.PROMOTED, ContactInfo()) == (I,)


def test_channels_disabled_for_the_deployment():
    assert select_channels(MessageKind.REMINDER, FULL, enabled=frozenset({E})) == (E, I)
    # in-app cannot be switched off: it is the mandatory fallback
    assert select_channels(MessageKind.CANCELLED, FULL, EVERYTHING_OFF, enabled=frozenset()) == (I,)


# --- sent-log key ----------------------------------------------------------------------------------

def test_delivery_key_is_stable_readable_and_normalised():
    key = delivery_key(42, MessageKind.REMINDER, ChannelType.EMAIL, "D-7@2019-03-04")
    assert key == "v1|42|reminder|email|D-7%402019-03-04"
    assert delivery_key("42", "reminder", "email", "D-7@2019-03-04") == key


def test_delivery_key_differs_per_part_and_cannot_be_forged_by_separators():
    base = delivery_key(1, "reminder", "email", "D-7@2019-03-04")
    assert len({base, delivery_key(2, "reminder", "email", "D-7@2019-03-04"),
                delivery_key(1, "reminder", "sms", "D-7@2019-03-04"),
                delivery_key(1, "reminder", "email", "D-1@2019-03-04"),
                delivery_key(1, "survey_request", "email", "D-7@2019-03-04")}) == 5
    assert delivery_key("a|reminder", "cancelled", "email", "once") != delivery_key("a", "reminder", "email", "once")


def test_delivery_key_rejects_unknown_kinds_and_caps_length():
    with pytest.raises(ValueError):
        delivery_key(1, "newsletter", "email", "once")
    long_key = delivery_key("x" * 400, "reminder", "email", "once")
    assert len(long_key) <= 255 and long_key == delivery_key("x" * 400, "reminder", "email", "once")


# --- retry policy ------------------------------------------------------------------------------------

def test_failure_classification():
    assert classify_smtp_code(250) is DeliveryStatus.SENT
    assert classify_smtp_code(451) is DeliveryStatus.TRANSIENT_FAILURE
    assert classify_smtp_code(421) is DeliveryStatus.TRANSIENT_FAILURE
    assert classify_smtp_code(550) is DeliveryStatus.PERMANENT_FAILURE
    assert classify_http_status(202) is DeliveryStatus.SENT
    assert classify_http_status(400) is DeliveryStatus.PERMANENT_FAILURE
    assert classify_http_status(401) is DeliveryStatus.PERMANENT_FAILURE
    assert classify_http_status(429) is DeliveryStatus.TRANSIENT_FAILURE
    assert classify_http_status(503) is DeliveryStatus.TRANSIENT_FAILURE


def test_backoff_is_full_jitter_under_an_exponential_cap():
    policy = RetryPolicy(max_attempts=10, base_delay=30, max_delay=600)
    assert [policy.backoff_cap(n) for n in range(1, 7)] == [30, 60, 120, 240, 480, 600]
    rng = random.Random(7)
    samples = [policy.backoff(3, rng) for _ in range(2000)]
    assert 0 <= min(samples) < 10 and 110 < max(samples) <= 120  # spread over the whole [0, cap]


def test_gives_up_after_max_attempts_and_never_retries_permanent_failures():
    policy = RetryPolicy(max_attempts=3)
    now = datetime(2019, 3, 4, 9, 0, tzinfo=KST)
    nxt = policy.next_attempt_at(DeliveryStatus.TRANSIENT_FAILURE, 1, now, random.Random(1))
    assert nxt is not None and now <= nxt <= now + timedelta(seconds=30)
    assert policy.next_attempt_at(DeliveryStatus.TRANSIENT_FAILURE, 3, now) is None
    assert policy.next_attempt_at(DeliveryStatus.PERMANENT_FAILURE, 1, now) is None
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


@pytest.mark.parametrize(("raw", "expected"), [
    ("010-1234-5678", "01012345678"), ("+82 10 1234 5678", "01012345678"), ("011-123-4567", "0111234567"),
    ("02-123-4567", None), ("", None), ("010-12", None),
])
def test_korean_mobile_normalisation(raw, expected):
    assert normalize_kr_mobile(raw) == expected
