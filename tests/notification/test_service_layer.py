"""Service layer against the real database, a real SMTP server and the real SMS dev sink (in-process
dispatcher; the e2e tests run the same code in real worker processes)."""
from __future__ import annotations

import datetime as dt
import time
from collections import Counter

import pytest

from services.notification.domain.idempotency import delivery_key
from services.notification.domain.kst import KST
from tests.notification import events as E

UTC = dt.timezone.utc


def kst_now():
    return dt.datetime.now(KST)


def future_monday(weeks: int = 5) -> dt.date:
    d = kst_now().date() + dt.timedelta(weeks=weeks)
    d -= dt.timedelta(days=d.weekday())
    while d.month == 1 or (d.month, d.day) in ((3, 1), (5, 5), (6, 6), (8, 15), (10, 3), (10, 9), (12, 25)):
        d += dt.timedelta(weeks=1)  # keep the session (and its D-7/D-1) clear of fixed holidays
    return d


def _fields(response) -> dict:
    """The fields named by a 422 (flask-smorest nests them under the location: query/json)."""
    errors = response.get_json()["errors"]
    return errors.get("query") or errors.get("json") or errors


def statuses(rows):
    return Counter((r.kind, r.occurrence.split("@")[0], r.status) for r in rows)


def test_confirmation_and_reminders_planned_then_sent_once(nt):
    start = future_monday()
    sess = E.session(1, start)
    created = E.enrollment("created", 10, 1, "confirmed", sess=sess)
    assert nt.deliver(created) == 1
    rows = nt.planned(10)
    assert statuses(rows) == Counter({("enrollment_confirmed", "once", "pending"): 2,  # e-mail + in-app
                                      ("reminder", "D-7", "pending"): 3, ("reminder", "D-1", "pending"): 3})
    d7 = [r for r in rows if r.occurrence.startswith("D-7")][0]
    assert d7.due_at.replace(tzinfo=UTC).astimezone(KST) == dt.datetime.combine(
        start - dt.timedelta(days=7), dt.time(9), KST)

    stats = nt.dispatch()
    assert stats.sent == 2 and stats.claimed == 2
    assert nt.smtp.wait_for(1, 5)
    assert [m.rcpt_tos for m in nt.smtp.messages] == [["t10@seoul.example"]]
    assert "빅데이터 분석 실무" in nt.smtp.messages[0].subject
    assert [m.kind for m in nt.inbox_messages(10)] == ["enrollment_confirmed"]

    # The same event again (redelivery), and a second dispatcher run: nothing new anywhere.
    assert nt.deliver(created) == 0
    assert nt.dispatch().claimed == 0
    assert len(nt.smtp.messages) == 1 and len(nt.inbox_messages(10)) == 1
    assert {d.status for d in nt.deliveries()} == {"sent"}

    # The reminders fall due (service clock moved): D-7 goes out on e-mail, SMS and in-app, once.
    nt.set_now(d7.due_at.replace(tzinfo=UTC) + dt.timedelta(minutes=1))
    assert nt.dispatch().sent == 3
    assert nt.dispatch().claimed == 0
    assert nt.smtp.wait_for(2, 5) and len(nt.smtp.messages) == 2
    assert [m["to"] for m in nt.sms.messages] == ["01012345678"] and nt.sms.duplicates == 0
    lateness = [d.sent_at - d.due_at for d in nt.deliveries(kind="reminder")]
    assert all(dt.timedelta(0) <= x < dt.timedelta(minutes=2) for x in lateness)


def test_out_of_order_events_cannot_resurrect_a_cancelled_enrollment(nt):
    sess = E.session(1, future_monday())
    nt.deliver(E.enrollment("cancelled", 11, 2, "cancelled", sess=sess, reason="개인 사정"))
    nt.deliver(E.enrollment("created", 11, 1, "confirmed", sess=sess))  # arrives late
    assert statuses(nt.planned(11)) == Counter({("cancelled", "once", "pending"): 2})
    nt.dispatch()
    assert nt.smtp.wait_for(1, 5)
    assert [m.kind for m in nt.inbox_messages(11)] == ["cancelled"]
    assert "개인 사정" in nt.inbox_messages(11)[0].body


def test_cancel_withdraws_pending_reminders(nt):
    sess = E.session(1, future_monday())
    nt.deliver(E.enrollment("created", 12, 1, "confirmed", sess=sess))
    nt.deliver(E.enrollment("cancelled", 12, 2, "cancelled", sess=sess))
    rows = nt.planned(12, kind="reminder")
    assert len(rows) == 6 and {r.status for r in rows} == {"withdrawn"}


def test_reschedule_replans_reminders_and_notifies_once(nt):
    old_start = future_monday(5)
    new_start = old_start + dt.timedelta(weeks=2)
    sess = E.session(1, old_start)
    nt.deliver(E.session_event("created", 1, old_start))
    nt.deliver(E.enrollment("created", 13, 1, "confirmed", sess=sess),
               E.enrollment("created", 14, 1, "waitlisted", sess=sess))
    moved = E.session_event("rescheduled", 1, new_start, previous=(old_start, old_start + dt.timedelta(days=1)))
    nt.deliver(moved)
    nt.deliver(moved)  # redelivered
    rows = nt.planned(13, kind="reminder")
    assert {r.occurrence for r in rows if r.status == "withdrawn"} == {f"D-7@{old_start}", f"D-1@{old_start}"}
    assert {r.occurrence for r in rows if r.status == "pending"} == {f"D-7@{new_start}", f"D-1@{new_start}"}
    assert not nt.planned(14, kind="reminder")  # waitlisted: no reminders, but told about the move
    nt.dispatch()
    notices = [d for d in nt.deliveries(kind="session_rescheduled")]
    assert Counter((d.enrollment_id, d.channel) for d in notices) == Counter(
        {(13, "email"): 1, (13, "sms"): 1, (13, "inapp"): 1, (14, "email"): 1, (14, "sms"): 1, (14, "inapp"): 1})
    # An older snapshot of the session arriving late changes nothing.
    nt.deliver(E.session_event("updated", 1, old_start, occurred_at=dt.datetime.now(UTC) - dt.timedelta(hours=1)))
    assert {r.occurrence for r in nt.planned(13, kind="reminder", status="pending")} == {
        f"D-7@{new_start}", f"D-1@{new_start}"}


def test_session_cancelled_notifies_once_even_with_the_enrollment_event(nt):
    start = future_monday()
    sess = E.session(1, start)
    nt.deliver(E.enrollment("created", 15, 1, "confirmed", sess=sess))
    nt.deliver(E.session_event("cancelled", 1, start, status="cancelled"))
    nt.deliver(E.enrollment("cancelled", 15, 2, "cancelled", sess=sess, reason="회차 취소"))
    rows = nt.planned(15)
    assert statuses([r for r in rows if r.kind == "session_cancelled"]) == Counter(
        {("session_cancelled", "once", "pending"): 3})
    assert not [r for r in rows if r.kind == "cancelled"]
    assert {r.status for r in rows if r.kind == "reminder"} == {"withdrawn"}


def test_prerequisite_nudges_stop_when_the_completion_arrives(nt):
    start = future_monday(6)
    deadline = dt.datetime.combine(start - dt.timedelta(days=3), dt.time(18), KST)
    sess = E.session(1, start)
    prereq = E.course(99, name_ko="e-정보보안 기초")
    nt.deliver(E.enrollment("pending_prerequisite", 16, 1, "pending_prerequisite", sess=sess,
                            prerequisite_deadline=deadline.isoformat(), missing_prerequisites=[prereq]))
    assert statuses(nt.planned(16)) == Counter({("prerequisite_nudge", "D-14", "pending"): 2,
                                                ("prerequisite_nudge", "D-5", "pending"): 2})
    nt.deliver(E.completion(16, 99))
    assert {r.status for r in nt.planned(16)} == {"withdrawn"}


def test_confirmation_withdraws_nudges_and_survey_follows_attendance(nt):
    start = future_monday(6)
    sess = E.session(1, start)
    nt.deliver(E.enrollment("pending_prerequisite", 17, 1, "pending_prerequisite", sess=sess,
                            missing_prerequisites=[E.course(99)]))
    nt.deliver(E.enrollment("confirmed", 17, 2, "confirmed", sess=sess))
    rows = nt.planned(17)
    assert {r.status for r in rows if r.kind == "prerequisite_nudge"} == {"withdrawn"}
    assert {r.status for r in rows if r.kind == "reminder"} == {"pending"}
    nt.deliver(E.enrollment("attended", 17, 3, "attended", sess=sess))
    survey = nt.planned(17, kind="survey_request")
    assert len(survey) == 2 and {r.channel for r in survey} == {"email", "inapp"}
    assert {r.status for r in nt.planned(17, kind="reminder")} == {"withdrawn"}


def test_opt_outs_quiet_hours_and_mandatory_fallback(nt):
    start = future_monday()
    sess = E.session(1, start)
    client = nt.app.test_client()
    from tests.conftest import trainee_headers
    r = client.put("/api/v1/preferences/18", json={"opted_out": ["email", "sms", "inapp"]},
                   headers=trainee_headers(18))
    assert r.status_code == 200 and r.get_json()["opted_out"] == ["email", "sms", "inapp"]
    assert client.put("/api/v1/preferences/18", json={"opted_out": ["fax"]},
                      headers=trainee_headers(18)).status_code == 422
    assert client.get("/api/v1/preferences/18", headers=trainee_headers(19)).status_code == 403
    nt.deliver(E.enrollment("created", 18, 1, "confirmed", sess=sess))
    nt.dispatch()
    # Mandatory: opted out of everything, still reaches the in-app inbox; e-mail skipped.
    assert [m.kind for m in nt.inbox_messages(18)] == ["enrollment_confirmed"]
    assert [d.channel for d in nt.deliveries()] == ["inapp"]
    # Optional reminders: nothing at all for this trainee.
    d1 = nt.planned(18, kind="reminder")[-1]
    nt.set_now(d1.due_at.replace(tzinfo=UTC) + dt.timedelta(seconds=5))
    nt.dispatch()
    assert {r.status for r in nt.planned(18, kind="reminder") if r.occurrence.startswith("D-1")} == {"skipped"}

    # SMS quiet hours: a reminder due at 09:00 but sent at 22:30 KST is deferred to 08:00, not dropped.
    client.put("/api/v1/preferences/18", json={"opted_out": []}, headers=trainee_headers(18))
    nt.configure(clock_offset=0.0)
    nt.deliver(E.enrollment("created", 20, 1, "confirmed", sess=sess))
    d1 = [r for r in nt.planned(20, kind="reminder") if r.occurrence.startswith("D-1")]
    from services.notification.domain.quiet_hours import QuietHours
    evening = dt.datetime.combine(start - dt.timedelta(days=1), dt.time(22, 30), KST)
    nt.configure(quiet_hours=QuietHours.parse("21:00-08:00"))
    nt.set_now(evening)
    nt.dispatch()
    sms = [r for r in nt.planned(20, kind="reminder") if r.channel == "sms" and r.occurrence.startswith("D-1")][0]
    assert sms.status == "deferred"
    assert sms.next_attempt_at.replace(tzinfo=UTC).astimezone(KST) == dt.datetime.combine(start, dt.time(8), KST)
    assert {r.status for r in nt.planned(20, kind="reminder") if r.occurrence.startswith("D-1")
            and r.channel != "sms"} == {"sent"}
    nt.set_now(dt.datetime.combine(start, dt.time(8, 0, 30), KST))
    nt.dispatch()
    assert nt.planned(20, kind="reminder", channel="sms", id=sms.id)[0].status == "sent"
    assert len(d1) == 3


def test_channel_failures_are_retried_with_backoff_or_recorded(nt):
    calls = Counter()

    def flaky(payload):
        calls[payload["id"]] += 1
        return (503, {"error": "busy"}) if calls[payload["id"]] == 1 else None

    nt.sms.respond = flaky
    start = future_monday()
    sess = E.session(1, start)
    nt.deliver(E.enrollment("promoted", 21, 2, "confirmed", sess=sess),
               E.enrollment("created", 22, 1, "confirmed", sess=sess,
                            trainee_over={"email": "nobody@bounce.invalid"}))
    nt.dispatch()
    sms = nt.planned(21, kind="promoted", channel="sms")[0]
    assert sms.status == "pending" and sms.attempts == 1
    assert nt.deliveries(channel="sms")[0].status == "retrying"
    assert sms.next_attempt_at.replace(tzinfo=UTC) > dt.datetime.now(UTC) - dt.timedelta(seconds=1)
    bounce = nt.deliveries(enrollment_id=22, channel="email")[0]
    assert bounce.status == "failed" and bounce.code == 550  # permanent: recorded, not retried
    nt.set_now(dt.datetime.now(UTC) + dt.timedelta(seconds=5))
    nt.dispatch()
    assert nt.deliveries(channel="sms")[0].status == "sent" and nt.deliveries(channel="sms")[0].attempts == 2
    assert len(nt.sms.messages) == 1 and nt.planned(22, kind="enrollment_confirmed", channel="email")[0].status == "failed"


def test_dispatcher_that_died_mid_batch_is_taken_over_without_resending(nt):
    sess = E.session(1, future_monday())
    nt.deliver(*[E.enrollment("created", 100 + i, 1, "confirmed", sess=sess) for i in range(6)])
    from services.notification.service_layer.dispatch import RoundStats
    with nt.app.app_context():
        _, works = nt.dispatcher.claim(100, RoundStats())
    email = [w for w in works if w.row.channel == "email"]
    # It sent the first two mails, then died before recording anything.
    nt.dispatcher.send(email[:2], started=time.monotonic())
    assert nt.smtp.wait_for(2, 5)
    assert {r.status for r in nt.planned(kind="enrollment_confirmed")} == {"sending"}
    assert nt.dispatch().claimed == 0  # the lease is held
    nt.set_now(dt.datetime.now(UTC) + dt.timedelta(seconds=61))  # lease expired
    nt.dispatch()
    assert Counter(nt.mail_keys()) == Counter({w.row.delivery_key: 1 for w in email})
    assert len(nt.inbox_messages(100)) == 1
    assert {d.status for d in nt.deliveries()} == {"sent"}


def test_course_offsets_and_api_lists(nt, admin_headers):
    start = future_monday(5)
    nt.deliver(E.course_event(1, [3]))
    nt.deliver(E.enrollment("created", 30, 1, "confirmed", sess=E.session(1, start)))
    assert {r.occurrence for r in nt.planned(30, kind="reminder")} == {f"D-3@{start}"}
    nt.deliver(E.course_event(1, [10, 2], "updated"))
    assert {r.occurrence for r in nt.planned(30, kind="reminder", status="pending")} == {
        f"D-10@{start}", f"D-2@{start}"}
    nt.dispatch()
    c = nt.app.test_client()
    from tests.conftest import trainee_headers
    r = c.get("/api/v1/reminders?enrollment_id=30&kind=reminder&status=pending&per_page=2", headers=admin_headers)
    assert r.status_code == 200 and r.get_json()["total"] == 6 and len(r.get_json()["items"]) == 2
    r = c.get("/api/v1/deliveries?trainee_id=30&channel=email&status=sent", headers=admin_headers)
    assert [i["kind"] for i in r.get_json()["items"]] == ["enrollment_confirmed"]
    assert c.get("/api/v1/deliveries?trainee_id=30", headers=trainee_headers(31)).status_code == 403
    assert c.get("/api/v1/deliveries", headers=trainee_headers(30)).get_json()["total"] == 2
    r = c.get("/api/v1/deliveries?from=2030-01-01T00:00:00%2B09:00&to=2020-01-01T00:00:00%2B09:00",
              headers=admin_headers)
    assert r.status_code == 422 and "from" in _fields(r)
    msg = nt.inbox_messages(30)[0]
    assert c.post(f"/api/v1/messages/{msg.id}/read", headers=trainee_headers(30)).get_json()["read_at"]


def test_template_list_and_preview(nt, admin_headers):
    c = nt.app.test_client()
    r = c.get("/api/v1/templates?kind=reminder", headers=admin_headers)
    assert r.get_json()["total"] == 3
    r = c.post("/api/v1/templates/preview", json={"kind": "reminder", "channel": "sms", "lang": "ko",
               "context": {"course_name": "빅데이터", "session_start": "2019-03-11T09:00:00+09:00"}},
               headers=admin_headers)
    body = r.get_json()
    assert r.status_code == 200 and body["sms_type"] == "SMS" and body["byte_length"] <= 90
    assert "3/11(월)" in body["body"]
    r = c.post("/api/v1/templates/preview", json={"kind": "reminder", "channel": "email", "lang": "en",
               "context": {"session_start": "2019-03-11 09:00"}}, headers=admin_headers)
    assert r.status_code == 422 and "session_start" in r.get_json()["errors"]["context"]
    r = c.post("/api/v1/templates/preview", json={"kind": "nope", "channel": "email"}, headers=admin_headers)
    assert r.status_code == 422 and "kind" in _fields(r)


def test_lead_window_starts_first_attempts_early_but_never_retries(nt):
    start = future_monday()
    nt.deliver(E.enrollment("created", 40, 1, "confirmed", sess=E.session(1, start)))
    nt.dispatch()
    d7 = [r for r in nt.planned(40, kind="reminder") if r.occurrence.startswith("D-7")]
    due = d7[0].due_at.replace(tzinfo=UTC)
    nt.set_now(due - dt.timedelta(seconds=100))
    nt.configure(lead_seconds=0)
    assert nt.dispatch().claimed == 0  # no lead: not yet
    nt.configure(lead_seconds=120)
    assert nt.dispatch().sent == 3  # first attempts may start up to 120 s early
    from sqlalchemy import update
    from services.notification.adapters import orm
    d1 = [r for r in nt.planned(40, kind="reminder") if r.occurrence.startswith("D-1")]
    with nt.db.engine.begin() as conn:  # a retry due in 100 s keeps its backoff
        conn.execute(update(orm.planned_messages).where(orm.planned_messages.c.id == d1[0].id)
                     .values(attempts=1))
    nt.set_now(d1[0].due_at.replace(tzinfo=UTC) - dt.timedelta(seconds=100))
    assert nt.dispatch().sent == 2
    assert nt.planned(40, id=d1[0].id)[0].status == "pending"


def test_promotion_to_pending_prerequisite_and_reschedule_moves_the_nudges(nt):
    start = future_monday(8)
    deadline = dt.datetime.combine(start - dt.timedelta(days=3), dt.time(18), KST)
    sess = E.session(1, start)
    nt.deliver(E.session_event("created", 1, start))
    nt.deliver(E.enrollment("created", 50, 1, "waitlisted", sess=sess))
    nt.deliver(E.enrollment("promoted", 50, 2, "pending_prerequisite", sess=sess,
                            prerequisite_deadline=deadline.isoformat(), missing_prerequisites=[E.course(99)]))
    rows = nt.planned(50)
    assert {(r.kind, r.status) for r in rows if r.channel == "email"} == {
        ("waitlisted", "pending"), ("promoted", "pending"), ("prerequisite_nudge", "pending")}
    assert not [r for r in rows if r.kind == "reminder"]
    later = start + dt.timedelta(weeks=1)
    nt.deliver(E.session_event("rescheduled", 1, later, previous=(start, start + dt.timedelta(days=1))))
    moved = (deadline + dt.timedelta(weeks=1)).date()
    assert {r.occurrence for r in nt.planned(50, kind="prerequisite_nudge", status="pending")} == {
        f"D-14@{moved}", f"D-5@{moved}"}


def test_a_dispatcher_whose_lease_was_taken_over_records_nothing(nt):
    sess = E.session(1, future_monday())
    nt.deliver(E.enrollment("created", 60, 1, "confirmed", sess=sess))
    from services.notification.service_layer.dispatch import RoundStats
    with nt.app.app_context():
        token, works = nt.dispatcher.claim(100, RoundStats())
    assert len(works) == 2
    nt.set_now(dt.datetime.now(UTC) + dt.timedelta(seconds=61))  # the slow one's lease expires
    assert nt.dispatch().sent == 2  # the new owner sends (no marker: the slow one never sent)
    # The slow one wakes up past half its lease: it hands nothing more to SMTP...
    late = nt.dispatcher.send(works, started=time.monotonic() - 31)
    assert {o.status for o in late if o.work.row.channel == "email"} == {"released"}
    nt.dispatcher.record(late, RoundStats(), token)  # ...and cannot overwrite the new owner's state
    time.sleep(0.2)
    assert nt.mail_keys() == [delivery_key(60, "enrollment_confirmed", "email", "once")]
    assert len(nt.inbox_messages(60)) == 1
    assert {d.status for d in nt.deliveries()} == {"sent"}
    assert all(d.attempts == 1 for d in nt.deliveries())


def test_inbox_messages_are_stored_before_the_rounds_remote_sends(nt):
    """A round records its in-app messages first: the inbox never waits for the round's SMTP/SMS sends."""
    inbox_when_sms_arrived = []

    def observe(payload):
        inbox_when_sms_arrived.append(len(nt.inbox_messages(31)))
        return None

    nt.sms.respond = observe
    nt.deliver(E.enrollment("promoted", 31, 2, "confirmed", sess=E.session(1, future_monday())))
    stats = nt.dispatch()
    assert inbox_when_sms_arrived == [1]  # the SMS went out after the inbox message was committed
    assert stats.sent == 3 and {d.status for d in nt.deliveries(enrollment_id=31)} == {"sent"}


def test_due_inbox_messages_are_claimed_before_due_mail(nt):
    """A round takes due in-app rows first: a backlog of e-mails never holds the inbox back."""
    from services.notification.service_layer.dispatch import RoundStats

    sess = E.session(1, future_monday())
    nt.deliver(*[E.enrollment("created", 40 + i, 1, "confirmed", sess=sess) for i in range(4)])
    due = Counter(r.channel for r in nt.planned(kind="enrollment_confirmed"))
    assert due["inapp"] == 4 and due["email"] == 4
    with nt.app.app_context():
        _, works = nt.dispatcher.claim(4, RoundStats())
        assert sorted(w.row.channel for w in works) == ["inapp"] * 4
        _, works = nt.dispatcher.claim(10, RoundStats())
        assert sorted(w.row.channel for w in works) == ["email"] * 4
