"""One SMTP connection and one HTTP session per worker thread, reused across dispatch batches.

``SmtpEmailChannel`` is not thread-safe, and a Celery worker may run tasks in threads (``-P threads``)
or processes (prefork): a thread-local channel covers both. ``close_all`` runs on worker shutdown.
"""
from __future__ import annotations

import threading

from .sms import HttpSmsChannel, SmsConfig
from .smtp import SmtpConfig, SmtpEmailChannel


class ChannelPool:
    def __init__(self, smtp: SmtpConfig, sms: SmsConfig):
        self.smtp_config = smtp
        self.sms_config = sms
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened: list = []

    def _get(self, name: str, factory):
        channel = getattr(self._local, name, None)
        if channel is None:
            channel = factory()
            setattr(self._local, name, channel)
            with self._lock:
                self._opened.append(channel)
        return channel

    def email(self) -> SmtpEmailChannel:
        return self._get("email", lambda: SmtpEmailChannel(self.smtp_config))

    def sms(self) -> HttpSmsChannel:
        return self._get("sms", lambda: HttpSmsChannel(self.sms_config))

    def close_all(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for channel in opened:
            try:
                channel.close()
            except Exception:  # noqa: BLE001 - shutting down anyway
                pass
        self._local = threading.local()
