"""Real notification worker processes (with embedded beat) on a Redis db of their own, pointed at a
real SMTP server and the SMS dev sink started by the test."""
from __future__ import annotations

import os
import tempfile
from collections import Counter

import redis as redis_lib
from celery import Celery
from sqlalchemy import func, select

from services.notification.adapters import orm
from tests.conftest import start_worker_process, stop_process


def notify_redis_url(redis_url: str) -> str:
    """TEST_NOTIFY_REDIS_URL, else the suite's Redis with db+4: the suite's session workers never see
    our queues, and our workers (own SMTP sink, own clock) never see theirs."""
    explicit = os.environ.get("TEST_NOTIFY_REDIS_URL")
    if explicit:
        return explicit
    base, db = redis_url.rsplit("/", 1)
    return f"{base}/{(int(db or 0) + 4) % 16}"


class Bus:
    def __init__(self, url: str):
        self.url = url
        self.redis = redis_lib.Redis.from_url(url)
        self.redis.flushdb()
        self.publisher = Celery("notify-test-publisher", broker=url)
        self.publisher.conf.update(task_serializer="json", accept_content=["json"])

    def publish(self, envelopes):
        from shared import outbox
        outbox.publish(self.publisher, list(envelopes))

    def idle(self) -> bool:
        r = self.redis
        return r.llen("notification.events") == 0 and r.llen("notification") == 0 and r.hlen("unacked") == 0


def start_notifier(db_urls, bus: Bus, smtp, sms, *, clock_offset: float = 0.0, **extra):
    schedule = tempfile.mktemp(prefix="notify-beat-")
    env = {"NOTIFICATION_SMTP_HOST": smtp.host, "NOTIFICATION_SMTP_PORT": smtp.port,
           "NOTIFICATION_SMS_URL": sms.url, "NOTIFICATION_SMS_QUIET_HOURS": "off",
           "NOTIFICATION_DISPATCH_INTERVAL_SECONDS": 0.5, "NOTIFICATION_DISPATCH_BATCH_SIZE": 100,
           "NOTIFICATION_CLOCK_OFFSET_SECONDS": clock_offset, "NOTIFICATION_CLAIM_LEASE_SECONDS": 6,
           "HRD_CELERY_VISIBILITY_TIMEOUT": 8, "HRD_CELERY_UNACKED_RESTORE_INTERVAL": 1, **extra}
    return start_worker_process("notification", db_urls, bus.url, "-B", "-s", schedule, **env)


def stop_all(*procs):
    for p in procs:
        stop_process(p)


def delivery_counts(app, **where) -> Counter:
    T = orm.deliveries
    q = select(T.c.status, func.count()).group_by(T.c.status)
    for k, v in where.items():
        q = q.where(T.c[k] == v)
    with app.extensions["db"].engine.connect() as conn:
        return Counter(dict(conn.execute(q).all()))


def pending_due(app) -> int:
    T = orm.planned_messages
    with app.extensions["db"].engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(T).where(
            T.c.status.in_(("pending", "sending", "deferred")), T.c.attempts == 0,
            T.c.kind != "reminder")).scalar_one()
