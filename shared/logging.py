"""Structured JSON logs with a correlation id that follows a request through HTTP and Celery.

The id lives in a ContextVar: set from the ``X-Correlation-ID`` header (or made up) when a request
starts, copied into every task's headers when it is published, and restored when a worker runs it.
Events carry it in their envelope, so one id ties an HTTP call to the messages it caused downstream.
"""
from __future__ import annotations

import logging
import os
import sys
import uuid
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

_correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
CORRELATION_HEADER = "X-Correlation-ID"


def get_correlation_id() -> str | None:
    return _correlation_id.get()


def set_correlation_id(value: str | None):
    return _correlation_id.set(value)


def reset_correlation_id(token) -> None:
    _correlation_id.reset(token)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


class _ContextFilter(logging.Filter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = get_correlation_id()
        record.service = self.service
        return True


_configured: set[str] = set()


def configure_logging(service: str, level: str | None = None) -> None:
    """JSON lines on stderr; idempotent so app factories and workers may both call it."""
    if service in _configured:
        return
    _configured.add(service)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(correlation_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(_ContextFilter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level or os.environ.get("HRD_LOG_LEVEL", "INFO"))
    for noisy in ("werkzeug", "urllib3", "amqp", "kombu"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def init_flask(app) -> None:
    """Give each request a correlation id and echo it back."""
    from flask import g, request

    @app.before_request
    def _start_correlation():
        cid = request.headers.get(CORRELATION_HEADER) or new_correlation_id()
        g._correlation_token = set_correlation_id(cid[:64])

    @app.after_request
    def _echo_correlation(response):
        cid = get_correlation_id()
        if cid:
            response.headers[CORRELATION_HEADER] = cid
        return response

    @app.teardown_request
    def _end_correlation(_exc):
        token = g.pop("_correlation_token", None)
        if token is not None:
            reset_correlation_id(token)
