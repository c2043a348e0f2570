"""The SMTP adapter against a REAL SMTP server (aiosmtpd, started per test on a free port)."""
import email
import time
from email import policy

import pytest

from services.notification.adapters.channel import Channel
from services.notification.adapters.mime import compose_email
from services.notification.adapters.smtp import SmtpConfig, SmtpEmailChannel
from services.notification.adapters.smtp_sink import RecordingHandler, SmtpSink, free_port
from services.notification.domain.delivery import DeliveryStatus, OutboundMessage
from services.notification.domain.idempotency import delivery_key
from services.notification.domain.kinds import ChannelType
from services.notification.domain.rendering import render, sample_context


def reminder_mails(count, *, html=False, start=0):
    out = []
    for i in range(start, start + count):
        context = {**sample_context("reminder"), "trainee_name": f"수강생{i}"}
        rendered = render("reminder", "email", "ko", context)
        out.append(OutboundMessage(
            id=delivery_key(i, "reminder", "email", "D-7@2019-03-04"), channel=ChannelType.EMAIL,
            to=f"trainee{i}@seoul.go.kr", to_name=context["trainee_name"], subject=rendered.subject,
            body=rendered.body, html=rendered.html if html else None,
        ))
    return out


def channel_for(sink, **overrides):
    return SmtpEmailChannel(SmtpConfig(host=sink.host, port=sink.port, timeout=5, **overrides))


@pytest.fixture
def sink():
    with SmtpSink(reject=lambda address: address.endswith("@bounce.invalid")) as running:
        yield running


def parse(received):
    return email.message_from_bytes(received.raw, policy=policy.default)


def test_batch_goes_over_one_connection_and_arrives_intact(sink):
    mails = reminder_mails(200, html=True)
    with channel_for(sink) as smtp:
        assert isinstance(smtp, Channel)
        results = smtp.send_batch(mails)
        assert smtp.connections_opened == 1
    assert [r.message_id for r in results] == [m.id for m in mails]
    assert all(r.status is DeliveryStatus.SENT and r.code == 250 for r in results)
    assert sink.wait_for(200) and sink.count == 200
    first = parse(sink.messages[0])
    assert first["Subject"] == mails[0].subject and "노동법 실무" in first["Subject"]
    assert first["To"].addresses[0].display_name == "수강생0"
    assert first.get_body(("plain",)).get_content().rstrip("\n") == mails[0].body
    assert "수강생0 님" in first.get_body(("html",)).get_content()
    assert {m.delivery_key for m in sink.messages} == {m.id for m in mails}  # each exactly once


def test_rejected_recipient_is_permanent_and_the_rest_of_the_batch_still_goes(sink):
    mails = reminder_mails(6)
    bounced = OutboundMessage(id="bounce-1", channel=ChannelType.EMAIL, to="nobody@bounce.invalid",
                              subject="제목", body="본문")
    with channel_for(sink) as smtp:
        results = smtp.send_batch(mails[:3] + [bounced] + mails[3:])
        assert smtp.connections_opened == 1  # RSET, not reconnect, after a refusal
    failed = results[3]
    assert failed.status is DeliveryStatus.PERMANENT_FAILURE and failed.code == 550
    assert "nobody@bounce.invalid" in failed.detail
    assert [r.status for i, r in enumerate(results) if i != 3] == [DeliveryStatus.SENT] * 6
    assert sink.wait_for(6) and sink.count == 6 and sink.handler.rejected == 1


class DropsConnectionAtMail(RecordingHandler):
    """Closes the TCP connection when the n-th MAIL FROM arrives (a crash/restart mid-session)."""

    def __init__(self, drop_at, **kwargs):
        super().__init__(**kwargs)
        self.drop_at = set(drop_at)
        self.mail_commands = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.mail_commands += 1
        if self.mail_commands in self.drop_at:
            server.transport.close()
            return "421 4.3.0 going away"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"


def test_dropped_connection_reconnects_and_nothing_is_lost_or_doubled():
    handler = DropsConnectionAtMail(drop_at={4, 9})
    with SmtpSink(handler=handler) as sink, channel_for(sink) as smtp:
        mails = reminder_mails(12)
        results = smtp.send_batch(mails)
        assert all(r.ok for r in results), [r for r in results if not r.ok]
        assert smtp.connections_opened == 3
        assert sink.wait_for(12)
        keys = [m.delivery_key for m in sink.messages]
        assert sorted(keys) == sorted(m.id for m in mails) and len(keys) == 12


def test_connection_closed_by_idle_server_between_batches_is_reopened():
    with SmtpSink(idle_timeout=0.3) as sink, channel_for(sink) as smtp:
        assert all(r.ok for r in smtp.send_batch(reminder_mails(3)))
        time.sleep(0.8)  # the server hangs up on the idle connection meanwhile
        assert all(r.ok for r in smtp.send_batch(reminder_mails(3, start=3)))
        assert sink.wait_for(6) and sink.count == 6 and smtp.connections_opened == 2


def test_server_restart_between_batches():
    port = free_port()
    smtp = SmtpEmailChannel(SmtpConfig(host="127.0.0.1", port=port, timeout=5))
    with SmtpSink(port=port) as first:
        assert all(r.ok for r in smtp.send_batch(reminder_mails(2)))
        assert first.wait_for(2)
    with SmtpSink(port=port) as second:
        assert all(r.ok for r in smtp.send_batch(reminder_mails(2, start=2)))
        assert second.wait_for(2) and second.count == 2
    smtp.close()


class GreylistsRecipient(RecordingHandler):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("grey"):
            return "451 4.7.1 Greylisted, try again later"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


def test_4xx_recipient_reply_is_transient():
    with SmtpSink(handler=GreylistsRecipient()) as sink, channel_for(sink) as smtp:
        grey = OutboundMessage(id="g", channel=ChannelType.EMAIL, to="grey@seoul.go.kr", subject="s", body="b")
        results = smtp.send_batch([grey] + reminder_mails(2))
        assert results[0].status is DeliveryStatus.TRANSIENT_FAILURE and results[0].code == 451
        assert all(r.ok for r in results[1:]) and sink.wait_for(2)


def test_unreachable_server_fails_the_batch_transiently_and_fast():
    smtp = SmtpEmailChannel(SmtpConfig(host="127.0.0.1", port=free_port(), timeout=2))
    started = time.monotonic()
    results = smtp.send_batch(reminder_mails(50))
    assert time.monotonic() - started < 2
    assert len(results) == 50 and all(r.status is DeliveryStatus.TRANSIENT_FAILURE for r in results)
    assert "unreachable" in results[-1].detail


def test_invalid_address_is_permanent_without_bothering_the_server(sink):
    bad = OutboundMessage(id="bad", channel=ChannelType.EMAIL, to="not an address", subject="s", body="b")
    with channel_for(sink) as smtp:
        results = smtp.send_batch([bad])
        assert results[0].status is DeliveryStatus.PERMANENT_FAILURE and smtp.connections_opened == 0


def test_connection_is_recycled_after_the_configured_number_of_messages(sink):
    with channel_for(sink, max_messages_per_connection=10) as smtp:
        assert all(r.ok for r in smtp.send_batch(reminder_mails(25)))
        assert smtp.connections_opened == 3
    assert sink.wait_for(25)


def test_composed_mail_parses_back_with_the_stdlib_and_resists_header_injection():
    message = OutboundMessage(id="v1|7|reminder|email|once", channel=ChannelType.EMAIL, to="kim@seoul.go.kr",
                              to_name="김서울", subject="제목\r\nBcc: evil@example.com", body=".\n.첫 줄이 점\n둘째 줄")
    parsed = email.message_from_bytes(compose_email(message, sender="noreply@hrd.seoul.go.kr",
                                                    sender_name="서울시 인재개발원"), policy=policy.default)
    assert parsed["Bcc"] is None and parsed["Subject"] == "제목 Bcc: evil@example.com"
    assert parsed["From"].addresses[0].display_name == "서울시 인재개발원"
    assert parsed.get_content() == ".\n.첫 줄이 점\n둘째 줄"  # byte-exact, dot lines included
    assert parsed["Message-ID"].endswith("@localhost>") and parsed["X-Delivery-Key"] == message.id


class HangsUpAfterData(RecordingHandler):
    """Accepts the first message, then drops the line instead of answering 250."""

    async def handle_DATA(self, server, session, envelope):
        await super().handle_DATA(server, session, envelope)
        if self.count == 1:
            server.transport.close()
        return "250 2.0.0 OK: queued"


def test_lost_reply_after_data_is_flagged_maybe_delivered_and_not_resent():
    with SmtpSink(handler=HangsUpAfterData()) as sink, channel_for(sink) as smtp:
        results = smtp.send_batch(reminder_mails(3))
        assert results[0].status is DeliveryStatus.TRANSIENT_FAILURE and results[0].maybe_delivered
        assert all(r.ok for r in results[1:])
        assert sink.wait_for(3) and sink.count == 3  # the first arrived once, never twice
