"""Celery entrypoints of the notification service (thin: each calls the service layer).

- ``notification.consume_events`` (queue ``notification.events``): enrollment events, batched, idempotent
  (``service_layer.batch.apply``: the common events set-based, the rest through ``handlers``).
- ``notification.dispatch_tick`` (beat, every DISPATCH_INTERVAL_SECONDS): counts due rows and fans out
  up to DISPATCH_FANOUT ``dispatch_batch`` tasks, minus those already waiting in the queue.
- ``notification.dispatch_batch`` (queue ``notification``): claims due rows in batches of
  DISPATCH_BATCH_SIZE and sends them, for at most DISPATCH_TASK_SECONDS. Carries no arguments: a
  redelivered or duplicated task just claims whatever is due, so it can never send twice.
"""
from __future__ import annotations

import logging
import math

from celery import signals
from flask import current_app
from sqlalchemy import event

from services.notification.adapters import orm
from services.notification.service_layer import batch, dispatch, planner
from shared.consumer import register_consumer

log = logging.getLogger(__name__)

DISPATCH_TICK = "notification.dispatch_tick"
DISPATCH_BATCH = "notification.dispatch_batch"
QUEUE = "notification"


def dispatcher() -> dispatch.Dispatcher:
    ext = current_app.extensions
    if "notification_dispatcher" not in ext:
        from services.notification.adapters.channel_pool import ChannelPool
        from services.notification.adapters.sent_markers import NoMarkers, RedisSentMarkers
        st = ext["notification_settings"]
        markers = (RedisSentMarkers(current_app.config["REDIS_URL"], st.sent_marker_ttl)
                   if st.sent_markers else NoMarkers())
        ext["notification_dispatcher"] = dispatch.Dispatcher(
            ext["db"].session_factory, st, ChannelPool(st.smtp, st.sms), markers)
    return ext["notification_dispatcher"]


def _queue_length(celery_app) -> int:
    try:
        with celery_app.connection_for_read() as conn:
            return conn.default_channel.client.llen(QUEUE)
    except Exception:  # noqa: BLE001 - only an optimisation: assume empty
        return 0


def register_tasks(celery_app) -> None:
    register_consumer(celery_app, "notification", orm.inbox, batch.apply)
    flask_app = current_app._get_current_object()

    @celery_app.task(name=DISPATCH_BATCH, ignore_result=True)
    def dispatch_batch() -> dict:
        stats = dispatcher().run()
        if stats.claimed:
            log.info("dispatch: %s", stats.as_dict())
        return stats.as_dict()

    @celery_app.task(name=DISPATCH_TICK, ignore_result=True)
    def dispatch_tick() -> int:
        st = current_app.extensions["notification_settings"]
        due = dispatch.count_due(current_app.extensions["db"].session_factory, st, st.batch_size * st.fanout)
        wanted = min(math.ceil(due / st.batch_size), st.fanout) - _queue_length(celery_app)
        for _ in range(max(0, wanted)):
            dispatch_batch.apply_async(queue=QUEUE)
        return max(0, wanted)

    session_factory = flask_app.extensions["db"].session_factory

    @event.listens_for(session_factory, "after_commit")
    def _dispatch_now(session):
        """Immediate messages go out right after the event commits, not at the next beat tick."""
        if session.info.pop(planner.DUE_NOW, False) and flask_app.extensions["notification_settings"].dispatch_on_commit:
            try:
                dispatch_batch.apply_async(queue=QUEUE)
            except Exception:  # noqa: BLE001 - the beat tick will find the rows anyway
                log.warning("could not start a dispatch after commit", exc_info=True)

    @event.listens_for(session_factory, "after_rollback")
    def _forget(session):
        session.info.pop(planner.DUE_NOW, None)

    st = flask_app.extensions["notification_settings"]
    celery_app.conf.beat_schedule.update({
        "notification-dispatch": {"task": DISPATCH_TICK, "schedule": st.dispatch_interval,
                                  "options": {"expires": max(1.0, st.dispatch_interval * 2)}},
    })

    @signals.worker_process_shutdown.connect(weak=False)
    @signals.worker_shutdown.connect(weak=False)
    def _close_channels(**_):
        d = flask_app.extensions.get("notification_dispatcher")
        if d is not None:
            d.channels.close_all()
