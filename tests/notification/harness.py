"""In-process harness for the notification service layer: the real app (real DB), a real SMTP server
(aiosmtpd) and the real HTTP SMS dev sink, events applied through the real inbox consumer path."""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select

from services.notification.adapters import orm
from services.notification.adapters.channel_pool import ChannelPool
from services.notification.adapters.sent_markers import RedisSentMarkers
from services.notification.adapters.sms import SmsConfig
from services.notification.adapters.smtp import SmtpConfig
from services.notification.service_layer import batch
from services.notification.service_layer.dispatch import Dispatcher
from services.notification.service_layer.handlers import handlers
from shared import inbox


class Harness:
    def __init__(self, app, smtp_sink, sms_sink, redis_url):
        self.app = app
        self.smtp = smtp_sink
        self.sms = sms_sink
        self.db = app.extensions["db"]
        self.redis_url = redis_url
        base = app.extensions.setdefault("notification_settings_base", app.extensions["notification_settings"])
        self.settings = dataclasses.replace(
            base, smtp=SmtpConfig(host=smtp_sink.host, port=smtp_sink.port, timeout=5),
            sms=SmsConfig(url=sms_sink.url, read_timeout=5))
        self._apply()
        import redis
        r = redis.Redis.from_url(redis_url)
        keys = list(r.scan_iter("notification:sent:*", count=1000))
        if keys:
            r.delete(*keys)

    def _apply(self):
        self.app.extensions["notification_settings"] = self.settings
        self.pool = ChannelPool(self.settings.smtp, self.settings.sms)
        self.dispatcher = Dispatcher(self.db.session_factory, self.settings, self.pool,
                                     RedisSentMarkers(self.redis_url, 600))

    def configure(self, **changes):
        self.pool.close_all()
        self.settings = dataclasses.replace(self.settings, **changes)
        self._apply()

    def set_now(self, when: dt.datetime):
        """Move the service clock so that it reads ``when`` (NOTIFICATION_CLOCK_OFFSET_SECONDS)."""
        offset = (when - dt.datetime.now(dt.timezone.utc)).total_seconds()
        self.configure(clock_offset=offset)

    def deliver(self, *envelopes, per_event: bool = False) -> int:
        """Apply envelopes as one consumer batch: with the worker's apply function (``batch.apply``), or
        with ``per_event`` through the one-event-at-a-time handlers it must agree with."""
        apply = handlers.apply if per_event else batch.apply
        with self.app.app_context():
            return inbox.process_batch(self.db.session_factory, orm.inbox, list(envelopes), apply)

    def dispatch(self):
        with self.app.app_context():
            return self.dispatcher.run(max_seconds=30)

    def planned(self, enrollment_id=None, **where):
        T = orm.planned_messages
        q = select(T).order_by(T.c.due_at, T.c.id)
        if enrollment_id is not None:
            q = q.where(T.c.enrollment_id == enrollment_id)
        for k, v in where.items():
            q = q.where(T.c[k] == v)
        with self.db.engine.connect() as conn:
            return conn.execute(q).all()

    def deliveries(self, **where):
        T = orm.deliveries
        q = select(T).order_by(T.c.id)
        for k, v in where.items():
            q = q.where(T.c[k] == v)
        with self.db.engine.connect() as conn:
            return conn.execute(q).all()

    def inbox_messages(self, trainee_id):
        with self.db.engine.connect() as conn:
            return conn.execute(select(orm.messages).where(orm.messages.c.trainee_id == trainee_id)
                                .order_by(orm.messages.c.id)).all()

    def mail_keys(self) -> list[str]:
        return [m.delivery_key for m in self.smtp.messages]

    def close(self):
        self.pool.close_all()
