"""Celery app factory bound to Flask (Flask's "Celery background tasks" pattern).

Every task runs inside the Flask app context; the Celery app is ``app.extensions["celery"]``.
Delivery policy for all services: JSON only, ``acks_late`` + ``reject_on_worker_lost`` (a task whose
worker dies is redelivered, never lost), a small prefetch, soft shutdown so a restarting worker
finishes what it holds, and explicit routes: ``<service>.consume_events`` → ``<service>.events``,
every other ``<service>.*`` task → ``<service>``.
"""
from __future__ import annotations

from celery import Celery, Task, signals

from shared.logging import get_correlation_id, reset_correlation_id, set_correlation_id

SERVICES = ("enrollment", "notification", "reporting")


def task_routes() -> dict:
    routes: dict = {}
    for svc in SERVICES:
        routes[f"{svc}.consume_events"] = {"queue": f"{svc}.events"}
        routes[f"{svc}.*"] = {"queue": svc}
    return routes


def celery_config(flask_config) -> dict:
    redis_url = flask_config["REDIS_URL"]
    service = flask_config["SERVICE_NAME"]
    return {
        "broker_url": redis_url,
        "result_backend": None,
        "task_ignore_result": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,
        "worker_prefetch_multiplier": flask_config["CELERY_PREFETCH_MULTIPLIER"],
        "worker_soft_shutdown_timeout": 10.0,
        "worker_enable_soft_shutdown_on_idle": True,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {
            "visibility_timeout": flask_config["CELERY_VISIBILITY_TIMEOUT"],
            # How often a worker looks for tasks a dead worker left unacknowledged (kombu's default
            # scans only every 10th tick of 10 s, i.e. ~100 s after the visibility timeout).
            "unacked_restore_interval": flask_config["CELERY_UNACKED_RESTORE_INTERVAL"],
            "unacked_restore_throttle": 1,
            "socket_timeout": 30, "socket_connect_timeout": 3},
        "broker_pool_limit": 10,
        "task_default_queue": service,
        "task_routes": task_routes(),
        "task_create_missing_queues": True,
        "timezone": "Asia/Seoul",
        "enable_utc": True,
        "worker_hijack_root_logger": False,
        "beat_schedule": {},
    }


def celery_init_app(app, include: list[str] | tuple[str, ...] = ()) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask, include=list(include))
    celery_app.conf.update(celery_config(app.config))
    celery_app.conf.update(app.config.get("CELERY", {}))
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


# Correlation id through Celery: copied into message headers on publish, restored when a task runs.
@signals.before_task_publish.connect
def _add_correlation_header(headers=None, **_):
    if headers is not None and not headers.get("correlation_id"):
        headers["correlation_id"] = get_correlation_id()


@signals.task_prerun.connect
def _restore_correlation(task=None, **_):
    cid = getattr(task.request, "correlation_id", None) if task else None
    task.request._correlation_token = set_correlation_id(cid)


@signals.task_postrun.connect
def _clear_correlation(task=None, **_):
    token = getattr(task.request, "_correlation_token", None) if task else None
    if token is not None:
        try:
            reset_correlation_id(token)
        except ValueError:
            set_correlation_id(None)
