"""Dispatch: claim due planned rows, send them over their channels, record the outcome.

One round (``Dispatcher.run_once``) is three steps:

1. **Claim** (one committed transaction). Due rows — ``pending``/``deferred`` with ``next_attempt_at <= now``,
   or ``sending`` rows whose lease expired (their dispatcher died) — are selected ``FOR UPDATE SKIP LOCKED``
   on PostgreSQL (SQLite serialises writers with BEGIN IMMEDIATE), checked (enrollment still in a state
   that wants the message, channel chosen by preferences/contact data, SMS quiet hours) and marked
   ``sending`` with a lease and a claim token. In the same transaction the sent-log row is inserted with
   its UNIQUE ``delivery_key`` (``ON CONFLICT DO NOTHING``); a key already logged ``sent``/``failed`` is
   never handed to a channel again.
2. **Send**, outside any transaction: one reused SMTP connection / HTTP session per worker thread; after
   each accepted message a Redis marker is written (``adapters.sent_markers``). The in-app inbox needs no
   sending: its rows are inserted in step 3 with the delivery key as unique ``dedup_key``.
3. **Record** (one transaction): sent / retry later (``next_attempt_at`` = exponential backoff with full
   jitter, ``domain.retry``) / failed for good.

Why nothing is sent twice: two dispatchers never hold the same row (SKIP LOCKED, then the lease); a
redelivered or re-run dispatch task claims only rows still due, and a row already logged as sent is
skipped at claim time. A dispatcher stops handing messages to channels after half its lease, so a lease
never expires under a live sender. A dispatcher that dies between steps 1 and 3 leaves ``sending`` rows:
after the lease the next one takes them over, asks the Redis markers which were already accepted, and
resends only the rest — duplicates are bounded by one message per killed worker thread (accepted by the
server, marker not yet written), and carry the same Message-ID.

``maybe_delivered`` (SMTP connection lost after the final "." / SMS read timeout): treated as a
transient failure and retried with backoff, flagged on the sent-log row. A lost reminder is worse than a
rare duplicate, and the retry carries the same Message-ID (SMS: the same provider id) so the receiving
side can drop it.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterable

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from services.notification.adapters import orm
from services.notification.adapters.channel_pool import ChannelPool
from services.notification.domain.channel_selection import ChannelPreferences, ContactInfo, select_channels
from services.notification.domain.delivery import DeliveryResult, DeliveryStatus, OutboundMessage
from services.notification.domain.kinds import ChannelType, MessageKind
from services.notification.domain.kst import KST, at_kst
from services.notification.domain.rendering import (MissingContext, TemplateRenderer, default_renderer,
                                                    normalize_lang)
from services.notification.service_layer.settings import NotificationSettings
from shared.clock import as_utc as _aware
from shared.db import dialect_name, upsert_insert

log = logging.getLogger(__name__)

T = orm.planned_messages
D = orm.deliveries
S = orm.enrollment_state
SS = orm.session_state

#: The enrollment status a scheduled kind still needs at send time (else the row is withdrawn).
_STILL_WANTED = {
    MessageKind.REMINDER: ("confirmed",),
    MessageKind.PREREQUISITE_NUDGE: ("pending_prerequisite",),
    MessageKind.SURVEY_REQUEST: ("attended", "completed", "failed"),
}
_CHUNK = 500  # IN-list size (SQLite allows 32k parameters; keep statements small anyway)


def _chunks(items: list, n: int = _CHUNK) -> Iterable[list]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


@dataclass
class Work:
    row: Any  # planned_messages row
    state: Any  # enrollment_state row
    session: Any  # session_state row
    recover: bool = False  # a stale 'sending' delivery taken over: ask the sent markers first


@dataclass
class Outcome:
    work: Work
    status: str  # sent | transient | permanent | released
    code: int | None = None
    detail: str = ""
    provider_id: str | None = None
    maybe_delivered: bool = False
    inapp: tuple[str, str, str] | None = None  # (language, subject, body) for the inbox


@dataclass
class RoundStats:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    deferred: int = 0
    withdrawn: int = 0
    released: int = 0
    by_channel: dict = field(default_factory=lambda: defaultdict(int))

    def add(self, other: "RoundStats") -> None:
        for k in ("claimed", "sent", "retrying", "failed", "skipped", "deferred", "withdrawn", "released"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        for k, v in other.by_channel.items():
            self.by_channel[k] += v

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("claimed", "sent", "retrying", "failed", "skipped", "deferred",
                                              "withdrawn", "released")}


class Dispatcher:
    def __init__(self, session_factory, settings: NotificationSettings, channels: ChannelPool, markers,
                 renderer: TemplateRenderer | None = None):
        self.sf = session_factory
        self.st = settings
        self.channels = channels
        self.markers = markers
        self.renderer = renderer or default_renderer()

    # -- the loop a dispatch task runs ------------------------------------------------------------
    def run(self, max_seconds: float | None = None, batch_size: int | None = None) -> RoundStats:
        """Claim/send/record rounds until nothing is due or ``max_seconds`` have passed."""
        total = RoundStats()
        limit = batch_size or self.st.batch_size
        deadline = time.monotonic() + (self.st.task_seconds if max_seconds is None else max_seconds)
        while True:
            stats = self.run_once(limit)
            total.add(stats)
            if stats.claimed < limit or time.monotonic() >= deadline:
                return total

    def run_once(self, limit: int) -> RoundStats:
        stats = RoundStats()
        started = time.monotonic()
        token, works = self.claim(limit, stats)
        if works:
            # In-app messages (a row in our own database) are recorded before the round's e-mails and SMS
            # go out: with SMTP at four round trips a message, a 500-row round would otherwise keep the
            # trainee's inbox waiting for every remote send of the round.
            local, remote = self.send_local(works)
            if local:
                self.record(local, stats, token)
            if remote:
                self.record(self.send_remote(remote, started), stats, token)
        return stats

    # -- 1. claim ---------------------------------------------------------------------------------
    def claim(self, limit: int, stats: RoundStats) -> tuple[str, list[Work]]:
        token = str(uuid.uuid4())
        with self.sf.begin() as s:
            now = self.st.now()
            pg = dialect_name(s) == "postgresql"
            rows: list = []
            # Index-friendly queries rather than one OR: taken-over leases first, then due rows — in-app
            # ones before the rest: they only need a local insert, and a trainee's inbox should not wait
            # behind a backlog of e-mails (a bulk upload makes thousands of each due at once).
            due = _due(now, self.st.lead_seconds)
            for status, when, order in (("sending", T.c.lease_until < now, T.c.lease_until),
                                        ("pending", and_(due, T.c.channel == ChannelType.INAPP.value),
                                         T.c.next_attempt_at),
                                        ("pending", and_(due, T.c.channel != ChannelType.INAPP.value),
                                         T.c.next_attempt_at),
                                        ("deferred", T.c.next_attempt_at <= now, T.c.next_attempt_at)):
                if len(rows) >= limit:
                    break
                q = select(T).where(T.c.status == status, when).order_by(order).limit(limit - len(rows))
                if pg:
                    q = q.with_for_update(skip_locked=True)
                rows.extend(s.execute(q).all())
            stats.claimed = len(rows)
            if not rows:
                return token, []
            states = self._by_id(s, S, S.c.enrollment_id, {r.enrollment_id for r in rows})
            sessions = self._by_id(s, SS, SS.c.session_id, {st.session_id for st in states.values()})
            opted_out = self._opt_outs(s, {r.trainee_id for r in rows})

            to_send: list[Work] = []
            skipped: list[dict] = []
            withdrawn: list[dict] = []
            deferred: list[dict] = []
            for r in rows:
                state = states.get(r.enrollment_id)
                kind = MessageKind(r.kind)
                channel = ChannelType(r.channel)
                if state is None or sessions.get(state.session_id) is None:
                    skipped.append({"b_id": r.id, "b_detail": "unknown enrollment"})
                    continue
                if r.status == "sending":
                    # Taken over from a dispatcher that died: it may have sent it already. No second
                    # opinion on whether it is wanted; the sent markers decide (see _log_deliveries).
                    if channel is ChannelType.SMS and self.st.quiet_hours.contains(now):
                        deferred.append({"b_id": r.id, "b_next": self.st.quiet_hours.next_allowed(now)
                                         .astimezone(dt.timezone.utc)})
                    else:
                        to_send.append(Work(r, state, sessions[state.session_id]))
                    continue
                wanted = _STILL_WANTED.get(kind)
                if wanted and state.status not in wanted:
                    withdrawn.append({"b_id": r.id, "b_detail": f"enrollment is {state.status}"})
                    continue
                chosen = select_channels(kind, ContactInfo(state.email, state.mobile),
                                         ChannelPreferences(frozenset(opted_out.get(r.trainee_id, ()))),
                                         enabled=self.st.channels)
                if channel not in chosen:
                    skipped.append({"b_id": r.id, "b_detail": self._why_not(kind, channel, state,
                                                                            opted_out.get(r.trainee_id, ()))})
                    continue
                if channel is ChannelType.SMS and self.st.quiet_hours.contains(now):
                    deferred.append({"b_id": r.id, "b_next": self.st.quiet_hours.next_allowed(now)
                                     .astimezone(dt.timezone.utc)})
                    continue
                to_send.append(Work(r, state, sessions[state.session_id]))

            self._bulk(s, update(T).where(T.c.id == bindparam("b_id"))
                       .values(status="skipped", detail=bindparam("b_detail"), updated_at=now), skipped)
            self._bulk(s, update(T).where(T.c.id == bindparam("b_id"))
                       .values(status="withdrawn", detail=bindparam("b_detail"), updated_at=now), withdrawn)
            self._bulk(s, update(T).where(T.c.id == bindparam("b_id"))
                       .values(status="deferred", next_attempt_at=bindparam("b_next"), detail="quiet hours",
                               updated_at=now), deferred)
            stats.skipped, stats.withdrawn, stats.deferred = len(skipped), len(withdrawn), len(deferred)
            if not to_send:
                return token, []
            works = self._log_deliveries(s, to_send, token, now, stats)
            ids = [w.row.id for w in works]
            lease = now + dt.timedelta(seconds=self.st.lease_seconds)
            for chunk in _chunks(ids):
                s.execute(update(T).where(T.c.id.in_(chunk)).values(
                    status="sending", lease_until=lease, claim_token=token, attempts=T.c.attempts + 1,
                    updated_at=now))
        return token, works

    def _log_deliveries(self, s: Session, works: list[Work], token: str, now: dt.datetime,
                        stats: RoundStats) -> list[Work]:
        """Insert the sent-log rows (unique key); drop what is already logged as sent/failed."""
        insert = upsert_insert(s)
        s.execute(insert(D).on_conflict_do_nothing(index_elements=["delivery_key"]), [{
            "delivery_key": w.row.delivery_key, "planned_id": w.row.id, "enrollment_id": w.row.enrollment_id,
            "trainee_id": w.row.trainee_id, "kind": w.row.kind, "channel": w.row.channel,
            "occurrence": w.row.occurrence, "recipient": _recipient(w), "status": "sending", "attempts": 0,
            "claim_token": token, "maybe_delivered": False, "due_at": w.row.due_at, "created_at": now,
            "updated_at": now} for w in works])
        logged = {}
        for chunk in _chunks([w.row.delivery_key for w in works]):
            for d in s.execute(select(D.c.delivery_key, D.c.status, D.c.claim_token)
                               .where(D.c.delivery_key.in_(chunk))):
                logged[d.delivery_key] = d
        keep: list[Work] = []
        done: list[dict] = []
        take_over: list[str] = []
        for w in works:
            d = logged[w.row.delivery_key]
            if d.claim_token == token:
                keep.append(w)
            elif d.status in ("sent", "failed"):  # logged by an earlier run: never hand it over again
                done.append({"b_id": w.row.id, "b_status": d.status})
            else:  # 'retrying', or 'sending' left by a dispatcher that died: ours now
                w.recover = d.status == "sending"
                take_over.append(w.row.delivery_key)
                keep.append(w)
        self._bulk(s, update(T).where(T.c.id == bindparam("b_id"))
                   .values(status=bindparam("b_status"), lease_until=None, detail="already in the sent-log",
                           updated_at=now), done)
        for chunk in _chunks(take_over):
            s.execute(update(D).where(D.c.delivery_key.in_(chunk))
                      .values(status="sending", claim_token=token, updated_at=now))
        stats.skipped += len(done)
        return keep

    @staticmethod
    def _why_not(kind, channel, state, opted_out) -> str:
        if channel in opted_out:
            return f"trainee opted out of {channel}"
        if channel is ChannelType.EMAIL and not (state.email or "").strip():
            return "no e-mail address"
        if channel is ChannelType.SMS and not (state.mobile or "").strip():
            return "no mobile number"
        return f"{channel} not used for {kind} (disabled or not needed)"

    @staticmethod
    def _by_id(s: Session, table, col, ids) -> dict:
        out = {}
        for chunk in _chunks(sorted(ids)):
            for r in s.execute(select(table).where(col.in_(chunk))):
                out[getattr(r, col.key)] = r
        return out

    @staticmethod
    def _opt_outs(s: Session, trainee_ids) -> dict[int, set[ChannelType]]:
        out: dict[int, set[ChannelType]] = defaultdict(set)
        P = orm.preferences
        for chunk in _chunks(sorted(trainee_ids)):
            for r in s.execute(select(P.c.trainee_id, P.c.channel)
                               .where(P.c.trainee_id.in_(chunk), P.c.opted_out.is_(True))):
                out[r.trainee_id].add(ChannelType(r.channel))
        return out

    @staticmethod
    def _bulk(s: Session, stmt, params: list[dict]) -> None:
        if params:
            s.execute(stmt, params)

    # -- 2. send ----------------------------------------------------------------------------------
    def send(self, works: list[Work], started: float) -> list[Outcome]:
        """Every claimed row's outcome: in-app and recovered ones, then the remote channels'."""
        local, remote = self.send_local(works)
        return local + self.send_remote(remote, started)

    def send_local(self, works: list[Work]) -> tuple[list[Outcome], list[Work]]:
        """Outcomes that need no remote call (sent before a crash, in-app); the works left to send."""
        recovered = self.markers.sent_among([w.row.delivery_key for w in works if w.recover])
        outcomes: list[Outcome] = []
        remote: list[Work] = []
        for w in works:
            if w.row.delivery_key in recovered:
                outcomes.append(Outcome(w, "sent", detail="accepted before the previous dispatcher died"))
            elif w.row.channel == ChannelType.INAPP:
                outcomes.append(self._send_one(ChannelType.INAPP, w))
            else:
                remote.append(w)
        return outcomes, remote

    def send_remote(self, works: list[Work], started: float) -> list[Outcome]:
        outcomes: list[Outcome] = []
        cutoff = started + self.st.lease_seconds / 2
        remote = [(ChannelType(w.row.channel), w) for w in works]
        threads = max(1, min(self.st.send_threads, len(remote) // 20 or 1))
        if threads == 1:
            outcomes.extend(self._send_slice(remote, cutoff))
        else:
            # SMTP costs four round trips per message: a few connections in parallel (each one reused,
            # one per sender thread) keep the wire busy while each waits for its replies.
            slices = [remote[i::threads] for i in range(threads)]
            for part in _sender_pool(self.st.send_threads).map(lambda sl: self._send_slice(sl, cutoff), slices):
                outcomes.extend(part)
        return outcomes

    def _send_slice(self, items: list[tuple[ChannelType, Work]], cutoff: float) -> list[Outcome]:
        out = []
        for channel, w in items:
            if time.monotonic() > cutoff:
                out.append(Outcome(w, "released", detail="lease half-time reached"))
            else:
                out.append(self._send_one(channel, w))
        return out

    def _send_one(self, channel: ChannelType, w: Work) -> Outcome:
        try:
            lang = normalize_lang(w.state.language)
            rendered = self.renderer.render(w.row.kind, channel, lang, self.context(w, lang))
        except (MissingContext, ValueError, LookupError) as exc:
            return Outcome(w, "permanent", detail=f"cannot render: {exc}")
        if channel is ChannelType.INAPP:
            return Outcome(w, "sent", inapp=(lang, rendered.subject or "", rendered.body))
        if channel is ChannelType.EMAIL:
            msg = OutboundMessage(id=w.row.delivery_key, channel=channel, to=(w.state.email or "").strip(),
                                  to_name=w.state.trainee_name, subject=rendered.subject, body=rendered.body,
                                  html=rendered.html)
            result = self.channels.email().send_batch([msg])[0]
        else:
            msg = OutboundMessage(id=w.row.delivery_key, channel=channel, to=(w.state.mobile or "").strip(),
                                  body=rendered.body, sms_type=rendered.sms_type)
            result = self.channels.sms().send_batch([msg])[0]
        if result.ok:
            self.markers.mark_sent(w.row.delivery_key)
        return _outcome(w, result)

    def context(self, w: Work, lang: str) -> dict[str, Any]:
        st, state, session = self.st, w.state, w.session
        en = lang == "en"
        ctx: dict[str, Any] = {
            "trainee_name": state.trainee_name,
            "course_name": (state.course_name_en if en and state.course_name_en else state.course_name_ko),
            "session_start": at_kst(session.starts_on, st.session_start_time),
            "session_end": at_kst(session.ends_on, st.session_end_time),
            "location": session.venue or ("To be announced" if en else "추후 안내"),
            "portal_url": st.portal_url,
        }
        kind = MessageKind(w.row.kind)
        if kind is MessageKind.PREREQUISITE_NUDGE:
            missing = state.missing_prerequisites or []
            names = [(m.get("name_en") if en and m.get("name_en") else m.get("name_ko")) for m in missing]
            ctx["prerequisite_name"] = ", ".join(n for n in names if n) or ("pre-study" if en else "사전학습")
            deadline = _aware(state.prerequisite_deadline)
            ctx["prerequisite_deadline"] = (deadline.astimezone(KST).date() if deadline is not None
                                            else session.starts_on - dt.timedelta(days=1))
        if kind is MessageKind.SURVEY_REQUEST:
            ctx["survey_url"] = st.survey_url_template.format(portal_url=st.portal_url,
                                                              enrollment_id=state.enrollment_id)
        if kind is MessageKind.WAITLISTED:
            ctx["waitlist_position"] = 1
        for key, value in (w.row.context or {}).items():
            if value is None:
                continue
            if key in ("previous_start", "previous_end") and isinstance(value, str):
                value = dt.datetime.fromisoformat(value)
            ctx[key] = value
        if kind is MessageKind.SESSION_RESCHEDULED:
            ctx.setdefault("previous_start", ctx["session_start"])
            ctx.setdefault("previous_end", ctx["session_end"])
        return ctx

    # -- 3. record --------------------------------------------------------------------------------
    def record(self, outcomes: list[Outcome], stats: RoundStats, token: str) -> None:
        with self.sf.begin() as s:
            now = self.st.now()
            # Only rows still claimed by this round: if a lease was ever taken over, the new owner
            # decides (it finds the sent markers this round wrote), never both.
            owned: set[int] = set()
            for chunk in _chunks([o.work.row.id for o in outcomes]):
                q = select(T.c.id).where(T.c.id.in_(chunk), T.c.claim_token == token)
                if dialect_name(s) == "postgresql":
                    q = q.with_for_update()
                owned.update(s.execute(q).scalars())
            lost = len(outcomes) - len(owned)
            if lost:
                log.warning("dispatch: %d rows were taken over by another dispatcher before recording", lost)
            outcomes = [o for o in outcomes if o.work.row.id in owned]
            inapp = [o for o in outcomes if o.status == "sent" and o.inapp is not None]
            if inapp:
                s.execute(upsert_insert(s)(orm.messages).on_conflict_do_nothing(index_elements=["dedup_key"]), [{
                    "trainee_id": o.work.row.trainee_id, "enrollment_id": o.work.row.enrollment_id,
                    "kind": o.work.row.kind, "dedup_key": o.work.row.delivery_key, "language": o.inapp[0],
                    "subject": o.inapp[1][:300], "body": o.inapp[2], "created_at": now} for o in inapp])
            sent = [o for o in outcomes if o.status == "sent"]
            for chunk in _chunks([o.work.row.id for o in sent]):
                s.execute(update(T).where(T.c.id.in_(chunk)).values(
                    status="sent", lease_until=None, claim_token=None, detail=None, updated_at=now))
            by_code: dict[int | None, list[str]] = defaultdict(list)
            with_provider = []
            for o in sent:
                if o.provider_id is None:
                    by_code[o.code].append(o.work.row.delivery_key)
                else:
                    with_provider.append(o)
            for code, keys in by_code.items():
                for chunk in _chunks(keys):
                    s.execute(update(D).where(D.c.delivery_key.in_(chunk)).values(
                        status="sent", sent_at=now, attempts=D.c.attempts + 1, claim_token=None, code=code,
                        updated_at=now))
            self._bulk(s, update(D).where(D.c.delivery_key == bindparam("b_key")).values(
                status="sent", sent_at=now, attempts=D.c.attempts + 1, claim_token=None, updated_at=now,
                code=bindparam("b_code"), provider_id=bindparam("b_provider"), detail=bindparam("b_detail")),
                [{"b_key": o.work.row.delivery_key, "b_code": o.code, "b_provider": o.provider_id,
                  "b_detail": o.detail or None} for o in with_provider])
            stats.sent += len(sent)
            for o in sent:
                stats.by_channel[o.work.row.channel] += 1

            planned_updates, delivery_updates = [], []
            for o in outcomes:
                if o.status == "sent":
                    continue
                attempt = (o.work.row.attempts or 0) + 1
                if o.status == "released":
                    nxt, p_status, d_status, counted = now, "pending", "retrying", 0
                    stats.released += 1
                elif o.status == "transient":
                    at = self.st.retry.next_attempt_at(DeliveryStatus.TRANSIENT_FAILURE, attempt, now)
                    nxt, counted = at or now, 1
                    p_status, d_status = ("pending", "retrying") if at else ("failed", "failed")
                    if at:
                        stats.retrying += 1
                    else:
                        stats.failed += 1
                else:
                    nxt, p_status, d_status, counted = now, "failed", "failed", 1
                    stats.failed += 1
                planned_updates.append({"b_id": o.work.row.id, "b_status": p_status, "b_next": nxt,
                                        "b_detail": o.detail[:2000]})
                delivery_updates.append({"b_key": o.work.row.delivery_key, "b_status": d_status,
                                         "b_n": counted, "b_code": o.code, "b_detail": o.detail[:2000],
                                         "b_maybe": o.maybe_delivered})
            self._bulk(s, update(T).where(T.c.id == bindparam("b_id")).values(
                status=bindparam("b_status"), next_attempt_at=bindparam("b_next"), detail=bindparam("b_detail"),
                lease_until=None, claim_token=None, updated_at=now), planned_updates)
            self._bulk(s, update(D).where(D.c.delivery_key == bindparam("b_key")).values(
                status=bindparam("b_status"), attempts=D.c.attempts + bindparam("b_n"), code=bindparam("b_code"),
                detail=bindparam("b_detail"), maybe_delivered=D.c.maybe_delivered | bindparam("b_maybe"),
                claim_token=None, updated_at=now), delivery_updates)


_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _sender_pool(size: int) -> ThreadPoolExecutor:
    """Sender threads of this process (each keeps its own SMTP connection and HTTP session)."""
    with _POOLS_LOCK:
        pool = _POOLS.get(size)
        if pool is None:
            pool = _POOLS[size] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="notify-send")
        return pool


def _recipient(w: Work) -> str | None:
    if w.row.channel == ChannelType.EMAIL:
        return w.state.email
    if w.row.channel == ChannelType.SMS:
        return w.state.mobile
    return f"trainee:{w.row.trainee_id}"


def _outcome(w: Work, result: DeliveryResult) -> Outcome:
    if result.ok:
        return Outcome(w, "sent", code=result.code, provider_id=result.provider_id)
    status = "transient" if result.status is DeliveryStatus.TRANSIENT_FAILURE else "permanent"
    detail = result.detail + (" (maybe delivered; retried with the same Message-ID)" if result.maybe_delivered else "")
    return Outcome(w, status, code=result.code, detail=detail, maybe_delivered=result.maybe_delivered)


def _due(now: dt.datetime, lead_seconds: float):
    """A pending row is due at next_attempt_at; a first attempt may start up to ``lead_seconds`` early
    (DISPATCH_LEAD_SECONDS), so a spike of reminders all planned for 09:00 is spread over the minutes
    before it instead of piling up after it. Retries never start early (their backoff stands)."""
    if lead_seconds <= 0:
        return T.c.next_attempt_at <= now
    return and_(T.c.next_attempt_at <= now + dt.timedelta(seconds=lead_seconds),
                or_(T.c.attempts == 0, T.c.next_attempt_at <= now))


def count_due(session_factory, st: NotificationSettings, cap: int) -> int:
    """How many rows are due now (up to ``cap``): what the beat tick fans out for."""
    now = st.now()
    with session_factory() as s:
        q = select(T.c.id).where(T.c.status == "pending", _due(now, st.lead_seconds)).limit(cap)
        n = s.execute(select(func.count()).select_from(q.subquery())).scalar_one()
        if n < cap:
            q = select(T.c.id).where(T.c.status == "deferred", T.c.next_attempt_at <= now).limit(cap - n)
            n += s.execute(select(func.count()).select_from(q.subquery())).scalar_one()
        if n < cap:
            q = select(T.c.id).where(T.c.status == "sending", T.c.lease_until < now).limit(cap - n)
            n += s.execute(select(func.count()).select_from(q.subquery())).scalar_one()
    return n

