"""The SMS adapter against a real local HTTP server (the dev SMS sink), plus the in-app stub."""
import time

import pytest

from services.notification.adapters.channel import Channel
from services.notification.adapters.inapp import InAppChannel
from services.notification.adapters.sms import HttpSmsChannel, SmsConfig
from services.notification.adapters.sms_sink import SmsSink
from services.notification.adapters.smtp_sink import free_port
from services.notification.domain.delivery import DeliveryStatus, OutboundMessage
from services.notification.domain.kinds import ChannelType
from services.notification.domain.rendering import render, sample_context


def sms(id_, body="[서울시인재개발원] 노동법 실무 3/4(월) 09:00 시작", to="010-1234-5678", sms_type=None):
    return OutboundMessage(id=id_, channel=ChannelType.SMS, to=to, body=body, sms_type=sms_type)


@pytest.fixture
def sink():
    with SmsSink() as running:
        yield running


def channel_for(sink, **overrides):
    return HttpSmsChannel(SmsConfig(**{"url": sink.url, "read_timeout": 2, **overrides}))


def test_sms_and_lms_are_posted_with_api_key_and_normalised_number(sink):
    rendered = render("reminder", "sms", "ko", sample_context("reminder"))
    long_body = "가" * 100  # 200 bytes: LMS even if the caller claims SMS
    with channel_for(sink) as channel:
        assert isinstance(channel, Channel)
        results = channel.send_batch([sms("a", rendered.body, sms_type=rendered.sms_type),
                                      sms("b", long_body, sms_type="SMS")])
    assert [r.status for r in results] == [DeliveryStatus.SENT] * 2
    assert [r.provider_id for r in results] == ["sink-1", "sink-2"] and results[0].code == 202
    first, second = sink.messages
    assert first["to"] == "01012345678" and first["type"] == "SMS" and first["body"] == rendered.body
    assert second["type"] == "LMS" and second["bytes"] == 200


def test_over_long_body_is_truncated_to_the_lms_limit(sink):
    with channel_for(sink) as channel:
        assert channel.send_batch([sms("long", "가" * 1500)])[0].ok
    assert sink.messages[0]["bytes"] <= 2000 and sink.messages[0]["body"].endswith("…")


@pytest.mark.parametrize(("status", "expected"), [
    (400, DeliveryStatus.PERMANENT_FAILURE),
    (404, DeliveryStatus.PERMANENT_FAILURE),
    (429, DeliveryStatus.TRANSIENT_FAILURE),
    (500, DeliveryStatus.TRANSIENT_FAILURE),
    (503, DeliveryStatus.TRANSIENT_FAILURE),
])
def test_provider_status_codes_are_classified(status, expected):
    failing = lambda payload: (status, {"error": "injected"}) if payload["id"] == "x" else None  # noqa: E731
    with SmsSink(respond=failing) as sink, channel_for(sink) as channel:
        results = channel.send_batch([sms("ok-1"), sms("x"), sms("ok-2")])
    assert results[1].status is expected and results[1].code == status and "injected" in results[1].detail
    assert results[0].ok and results[2].ok and len(sink.messages) == 2


def test_wrong_api_key_is_permanent(sink):
    with channel_for(sink, api_key="wrong") as channel:
        result = channel.send_batch([sms("a")])[0]
    assert result.status is DeliveryStatus.PERMANENT_FAILURE and result.code == 401 and not sink.messages


def test_read_timeout_is_transient_and_flagged_maybe_delivered():
    def slow(payload):
        time.sleep(0.6)
        return None

    with SmsSink(respond=slow) as sink, channel_for(sink, read_timeout=0.2) as channel:
        result = channel.send_batch([sms("slow")])[0]
    assert result.status is DeliveryStatus.TRANSIENT_FAILURE and result.maybe_delivered


def test_unreachable_provider_is_transient():
    channel = HttpSmsChannel(SmsConfig(url=f"http://127.0.0.1:{free_port()}/v1/messages", connect_timeout=1))
    results = channel.send_batch([sms("a"), sms("b")])
    assert all(r.status is DeliveryStatus.TRANSIENT_FAILURE and not r.maybe_delivered for r in results)


def test_invalid_number_is_permanent_and_never_posted(sink):
    with channel_for(sink) as channel:
        result = channel.send_batch([sms("a", to="02-123-4567")])[0]
    assert result.status is DeliveryStatus.PERMANENT_FAILURE and sink.requests == 0


def test_sink_counts_duplicate_ids_for_exactly_once_checks(sink):
    with channel_for(sink) as channel:
        channel.send_batch([sms("same"), sms("same"), sms("other")])
    assert sink.duplicates == 1 and len(sink.messages) == 3


def test_sink_writes_jsonl(tmp_path):
    with SmsSink(out_dir=tmp_path) as sink, channel_for(sink) as channel:
        channel.send_batch([sms("a")])
    lines = (tmp_path / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and '"id": "a"' in lines[0] and "노동법" in lines[0]


# --- in-app stub ------------------------------------------------------------------------------------

def test_inapp_channel_stores_and_reports_writer_failures():
    channel = InAppChannel()
    assert isinstance(channel, Channel)
    message = OutboundMessage(id="i1", channel=ChannelType.INAPP, to="trainee-7", subject="수강 확정", body="본문")
    assert channel.send_batch([message])[0].ok and channel.stored == [message]
    assert channel.send_batch([]) == []

    def broken(messages):
        raise RuntimeError("db down")

    result = InAppChannel(writer=broken).send_batch([message])[0]
    assert result.status is DeliveryStatus.TRANSIENT_FAILURE and "db down" in result.detail
