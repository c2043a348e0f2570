"""The notification service's settings, read from the Flask config (``NOTIFICATION_*`` / ``HRD_*`` env).

Flask's prefixed-env loader strips the prefix, so ``NOTIFICATION_SMTP_HOST`` becomes ``SMTP_HOST``.
Lists may be given as ``7,1`` or JSON ``[7, 1]``; times as ``09:00``; quiet hours as ``21:00-08:00``
(``off`` disables them).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Mapping

from services.notification.adapters.sms import SmsConfig
from services.notification.adapters.smtp import SmtpConfig
from services.notification.domain.kinds import ChannelType
from services.notification.domain.quiet_hours import QuietHours
from services.notification.domain.retry import RetryPolicy

DEFAULTS: dict[str, Any] = {
    "SMTP_HOST": "localhost",
    "SMTP_PORT": 8025,
    "SMTP_USER": None,
    "SMTP_PASSWORD": None,
    "SMTP_STARTTLS": False,
    "SMTP_SSL": False,
    "SMTP_SENDER": "noreply@hrd.seoul.go.kr",
    "SMTP_SENDER_NAME": "서울시 인재개발원",
    "SMTP_TIMEOUT": 30.0,
    "SMS_URL": "http://127.0.0.1:8026/v1/messages",
    "SMS_API_KEY": "dev-sms-key",
    "SMS_SENDER": None,
    "SMS_QUIET_HOURS": "21:00-08:00",
    "CHANNELS": "email,sms,inapp",
    "REMINDER_OFFSETS_DAYS": "7,1",
    "REMINDER_TIME": "09:00",
    "NUDGE_OFFSETS_DAYS": "14,5",
    "SESSION_START_TIME": "09:00",
    "SESSION_END_TIME": "18:00",
    "PORTAL_URL": "https://hrd.seoul.go.kr",
    "SURVEY_URL_TEMPLATE": "{portal_url}/survey/{enrollment_id}",
    "DISPATCH_INTERVAL_SECONDS": 2.0,
    "DISPATCH_BATCH_SIZE": 500,
    "DISPATCH_FANOUT": 4,
    "DISPATCH_TASK_SECONDS": 20.0,
    "DISPATCH_LEAD_SECONDS": 120.0,
    "SEND_THREADS": 8,
    "CLAIM_LEASE_SECONDS": 300.0,
    "RETRY_BASE_SECONDS": 30.0,
    "RETRY_MAX_DELAY_SECONDS": 3600.0,
    "RETRY_MAX_ATTEMPTS": 8,
    "DISPATCH_ON_COMMIT": True,
    "SENT_MARKERS": True,
    "SENT_MARKER_TTL_SECONDS": 7 * 86400,
    # Test/demo only: the service clock runs this many seconds ahead of the real one (planning,
    # due checks, quiet hours, leases), so reminders days ahead can be made due now.
    "CLOCK_OFFSET_SECONDS": 0.0,
}


def apply_defaults(config) -> None:
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)


def _ints(value) -> tuple[int, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(int(v) for v in value)
    if isinstance(value, int):
        return (value,)
    return tuple(int(v) for v in str(value).replace(" ", "").split(",") if v)


def _time(value) -> dt.time:
    return value if isinstance(value, dt.time) else dt.time.fromisoformat(str(value))


def _channels(value) -> frozenset[ChannelType]:
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return frozenset(ChannelType(v.strip()) for v in items if v.strip())


def _bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


@dataclass(frozen=True)
class NotificationSettings:
    smtp: SmtpConfig
    sms: SmsConfig
    quiet_hours: QuietHours
    channels: frozenset[ChannelType]
    reminder_offsets: tuple[int, ...]
    reminder_time: dt.time
    nudge_offsets: tuple[int, ...]
    session_start_time: dt.time
    session_end_time: dt.time
    portal_url: str
    survey_url_template: str
    dispatch_interval: float
    batch_size: int
    fanout: int
    task_seconds: float
    lead_seconds: float
    send_threads: int
    lease_seconds: float
    retry: RetryPolicy
    dispatch_on_commit: bool
    sent_markers: bool
    sent_marker_ttl: int
    clock_offset: float

    @classmethod
    def from_config(cls, c: Mapping[str, Any]) -> "NotificationSettings":
        get = lambda k: c.get(k, DEFAULTS[k])  # noqa: E731
        return cls(
            smtp=SmtpConfig(host=str(get("SMTP_HOST")), port=int(get("SMTP_PORT")), sender=get("SMTP_SENDER"),
                            sender_name=get("SMTP_SENDER_NAME"), username=get("SMTP_USER"),
                            password=get("SMTP_PASSWORD"), starttls=_bool(get("SMTP_STARTTLS")),
                            use_ssl=_bool(get("SMTP_SSL")), timeout=float(get("SMTP_TIMEOUT"))),
            sms=SmsConfig(url=str(get("SMS_URL")), api_key=str(get("SMS_API_KEY")), sender=get("SMS_SENDER")),
            quiet_hours=QuietHours.parse(str(get("SMS_QUIET_HOURS") or "off")),
            channels=_channels(get("CHANNELS")),
            reminder_offsets=_ints(get("REMINDER_OFFSETS_DAYS")),
            reminder_time=_time(get("REMINDER_TIME")),
            nudge_offsets=_ints(get("NUDGE_OFFSETS_DAYS")),
            session_start_time=_time(get("SESSION_START_TIME")),
            session_end_time=_time(get("SESSION_END_TIME")),
            portal_url=str(get("PORTAL_URL")).rstrip("/"),
            survey_url_template=str(get("SURVEY_URL_TEMPLATE")),
            dispatch_interval=float(get("DISPATCH_INTERVAL_SECONDS")),
            batch_size=int(get("DISPATCH_BATCH_SIZE")),
            fanout=int(get("DISPATCH_FANOUT")),
            task_seconds=float(get("DISPATCH_TASK_SECONDS")),
            lead_seconds=float(get("DISPATCH_LEAD_SECONDS")),
            send_threads=int(get("SEND_THREADS")),
            lease_seconds=float(get("CLAIM_LEASE_SECONDS")),
            retry=RetryPolicy(max_attempts=int(get("RETRY_MAX_ATTEMPTS")),
                              base_delay=float(get("RETRY_BASE_SECONDS")),
                              max_delay=float(get("RETRY_MAX_DELAY_SECONDS"))),
            dispatch_on_commit=_bool(get("DISPATCH_ON_COMMIT")),
            sent_markers=_bool(get("SENT_MARKERS")),
            sent_marker_ttl=int(get("SENT_MARKER_TTL_SECONDS")),
            clock_offset=float(get("CLOCK_OFFSET_SECONDS")),
        )

    def now(self) -> dt.datetime:
        """The service clock (UTC, aware): real time plus CLOCK_OFFSET_SECONDS."""
        return dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=self.clock_offset)
