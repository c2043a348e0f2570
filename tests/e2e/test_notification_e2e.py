"""The notification service end to end: real worker processes with their beat dispatcher, a real SMTP
server (aiosmtpd) and the SMS dev sink counting what arrives while sessions move, enrollments are
cancelled, prerequisites completed, events delivered twice, two dispatchers run at once and a worker is
SIGKILLed mid-dispatch: every expected message exactly once, none unexpected."""
from __future__ import annotations

import datetime as dt
import signal
import time
from collections import Counter

import pytest
from sqlalchemy import select

from services.notification.adapters import orm
from services.notification.adapters.sms_sink import SmsSink
from services.notification.adapters.smtp_sink import SmtpSink
from services.notification.domain.idempotency import delivery_key
from services.notification.domain.kst import KST
from tests.conftest import JWT_SECRET, stop_process, wait_for
from tests.e2e.helpers import make_course, make_session, make_trainee
from tests.notification import events as E
from tests.notification.e2e_support import Bus, delivery_counts, notify_redis_url, start_notifier, stop_all

pytestmark = pytest.mark.integration


@pytest.fixture
def bus(clean, redis_url):
    b = Bus(notify_redis_url(redis_url))
    yield b
    b.redis.flushdb()


@pytest.fixture
def sinks():
    with SmtpSink() as smtp, SmsSink() as sms:
        yield smtp, sms


def future_monday(weeks: int) -> dt.date:
    d = dt.datetime.now(KST).date() + dt.timedelta(weeks=weeks)
    return d - dt.timedelta(days=d.weekday())


def mail_keys(smtp) -> Counter:
    return Counter(m.delivery_key for m in smtp.messages)


def test_enrollment_api_to_the_mailbox_once(clean, bus, sinks, db_urls, admin_headers):
    """The one path through the enrollment service's own API: enroll, then cancel."""
    smtp, sms = sinks
    from services.enrollment.app import create_app as enrollment_app
    app = enrollment_app({"DATABASE_URL": db_urls["enrollment"], "REDIS_URL": bus.url, "JWT_SECRET": JWT_SECRET})
    ec = app.test_client()
    start = future_monday(6)
    course = make_course(ec, admin_headers)
    session = make_session(ec, admin_headers, course["id"], starts_on=start.isoformat(),
                           ends_on=(start + dt.timedelta(days=1)).isoformat())
    trainee = make_trainee(ec, admin_headers, 1)
    worker = start_notifier(db_urls, bus, smtp, sms)
    try:
        e = ec.post("/api/v1/enrollments", json={"trainee_id": trainee["id"], "session_id": session["id"]},
                    headers=admin_headers).get_json()
        assert e["status"] == "confirmed"
        assert smtp.wait_for(1, 30)
        key = delivery_key(e["id"], "enrollment_confirmed", "email", "once")
        assert mail_keys(smtp) == Counter({key: 1})
        assert smtp.messages[0].rcpt_tos == ["t1@seoul.example"]
        nt = clean["notification"].test_client()
        wait_for(lambda: nt.get(f"/api/v1/messages?trainee_id={trainee['id']}", headers=admin_headers)
                 .get_json()["total"] == 1, message="in-app confirmation")
        reminders = nt.get(f"/api/v1/reminders?enrollment_id={e['id']}&kind=reminder",
                           headers=admin_headers).get_json()["items"]
        assert len(reminders) == 6 and {r["status"] for r in reminders} == {"pending"}

        r = ec.post(f"/api/v1/enrollments/{e['id']}/cancel", json={"reason": "개인 사정"}, headers=admin_headers)
        assert r.status_code == 200
        assert smtp.wait_for(2, 30)
        wait_for(lambda: {x["status"] for x in nt.get(f"/api/v1/reminders?enrollment_id={e['id']}&kind=reminder",
                                                       headers=admin_headers).get_json()["items"]} == {"withdrawn"},
                 message="reminders withdrawn")
        time.sleep(1.5)  # a few dispatcher ticks: nothing else may arrive
        assert mail_keys(smtp) == Counter({key: 1, delivery_key(e["id"], "cancelled", "email", "once"): 1})
    finally:
        stop_all(worker)


def test_every_expected_message_exactly_once(clean, bus, sinks, db_urls):
    """Reschedule, cancel, prerequisite completed, every event delivered twice, two dispatchers."""
    smtp, sms = sinks
    old_start, new_start = future_monday(6), future_monday(8)
    deadline = dt.datetime.combine(old_start - dt.timedelta(days=3), dt.time(18), KST)
    moved_deadline = deadline.date() + (new_start - old_start)  # the pre-study deadline moves with the session
    sess = E.session(1, old_start)
    n = 30
    first = [E.session_event("created", 1, old_start)]
    first += [E.enrollment("created", i, 1, "confirmed", sess=sess) for i in range(1, n + 1)]
    first += [E.enrollment("pending_prerequisite", i, 1, "pending_prerequisite", sess=sess,
                           prerequisite_deadline=deadline.isoformat(), missing_prerequisites=[E.course(99)])
              for i in (101, 102)]
    second = [E.enrollment("cancelled", 7, 2, "cancelled", sess=sess, reason="개인 사정"),
              E.session_event("rescheduled", 1, new_start, previous=(old_start, old_start + dt.timedelta(days=1))),
              E.completion(101, 99)]

    a, b = start_notifier(db_urls, bus, smtp, sms), start_notifier(db_urls, bus, smtp, sms)
    try:
        bus.publish(first)
        bus.publish(first)  # every event twice
        wait_for(lambda: smtp.count >= n, 60, message="confirmations")
        bus.publish(second)
        bus.publish(second + first[1:5])
        wait_for(lambda: smtp.count >= 2 * n, 60, message="cancel + reschedule notices")
        wait_for(bus.idle, 30, message="queues idle")
    finally:
        stop_all(a, b)

    # Time passes: two new dispatchers whose clock reads after every reminder and nudge is due.
    offset = (dt.datetime.combine(new_start, dt.time(8), KST) - dt.datetime.now(KST)).total_seconds()
    a, b = (start_notifier(db_urls, bus, smtp, sms, clock_offset=offset),
            start_notifier(db_urls, bus, smtp, sms, clock_offset=offset))
    try:
        bus.publish(first + second)  # and once more, late
        expected = Counter()
        for i in range(1, n + 1):
            expected[delivery_key(i, "enrollment_confirmed", "email", "once")] += 1
        expected[delivery_key(7, "cancelled", "email", "once")] += 1
        for i in [i for i in range(1, n + 1) if i != 7] + [101, 102]:  # pending_prerequisite ones too
            expected[delivery_key(i, "session_rescheduled", "email", f"to@{new_start}T09:00")] += 1
        for i in [i for i in range(1, n + 1) if i != 7]:
            for days in (7, 1):
                expected[delivery_key(i, "reminder", "email", f"D-{days}@{new_start}")] += 1
        for days in (14, 5):
            expected[delivery_key(102, "prerequisite_nudge", "email", f"D-{days}@{moved_deadline}")] += 1
        wait_for(lambda: smtp.count >= sum(expected.values()), 90, message="every reminder")
        time.sleep(2)  # several more ticks of both dispatchers
        assert mail_keys(smtp) == expected
        assert sms.duplicates == 0
        sms_keys = Counter(m["id"] for m in sms.messages)
        assert sms_keys[delivery_key(3, "reminder", "sms", f"D-1@{new_start}")] == 1
        assert not [k for k in sms_keys if f"@{old_start}" in k]
    finally:
        stop_all(a, b)
    with clean["notification"].extensions["db"].engine.connect() as conn:
        inapp = conn.execute(select(orm.messages.c.dedup_key)).scalars().all()
    assert len(inapp) == len(set(inapp)) == sum(expected.values())


def test_worker_killed_mid_dispatch(clean, bus, db_urls):
    """SIGKILL while mails are going out; the next dispatcher takes the lease over: every mail arrives,
    duplicates at most one per sender thread of the killed worker (accepted by the server, marker not
    yet written)."""
    from tests.notification.harness import Harness
    from services.notification.app import create_app
    n = 1500
    app = create_app({"DATABASE_URL": db_urls["notification"], "REDIS_URL": bus.url, "DISPATCH_ON_COMMIT": False,
                      "CHANNELS": "email"})
    with SmtpSink(idle_timeout=30) as smtp, SmsSink() as sms:
        h = Harness(app, smtp, sms, bus.url)
        sess = E.session(1, future_monday(6))
        h.deliver(*[E.enrollment("created", i, 1, "confirmed", sess=sess) for i in range(1, n + 1)])
        victim = start_notifier(db_urls, bus, smtp, sms, NOTIFICATION_CHANNELS="email", NOTIFICATION_SEND_THREADS=4)
        try:
            wait_for(lambda: smtp.count >= 200, 60, interval=0.01, message="dispatch under way")
            stop_process(victim, signal.SIGKILL)
        finally:
            stop_process(victim)
        at_kill = smtp.count
        assert at_kill < n, "the worker finished before it was killed; raise n"
        survivor = start_notifier(db_urls, bus, smtp, sms, NOTIFICATION_CHANNELS="email")
        try:
            wait_for(lambda: len(mail_keys(smtp)) == n, 120, message="every mail after recovery")
            wait_for(lambda: delivery_counts(app) == Counter({"sent": 2 * n}), 30,  # e-mail + in-app
                     message="sent-log complete")
        finally:
            stop_process(survivor)
        keys = mail_keys(smtp)
        dupes = sum(c - 1 for c in keys.values())
        assert set(keys) == {delivery_key(i, "enrollment_confirmed", "email", "once") for i in range(1, n + 1)}
        assert dupes <= 4, f"{dupes} duplicates (bound: one per sender thread of the killed worker, 4)"
        h.close()
