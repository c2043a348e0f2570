"""Prometheus metrics common to the services (``/metrics`` on each web process)."""
from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

HTTP_REQUESTS = Counter("hrd_http_requests_total", "HTTP requests", ["service", "method", "endpoint", "status"])
HTTP_LATENCY = Histogram("hrd_http_request_seconds", "HTTP request latency", ["service", "endpoint"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
EVENTS_CONSUMED = Counter("hrd_events_consumed_total", "Events applied by a consumer", ["service", "result"])
EVENTS_PUBLISHED = Counter("hrd_events_published_total", "Events relayed from the outbox", ["service", "path"])


def init_flask(app) -> None:
    from flask import Response, g, request

    service = app.config["SERVICE_NAME"]

    @app.before_request
    def _start_timer():
        g._t0 = time.perf_counter()

    @app.after_request
    def _observe(response):
        t0 = g.pop("_t0", None)
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        if t0 is not None:
            HTTP_LATENCY.labels(service, endpoint).observe(time.perf_counter() - t0)
        HTTP_REQUESTS.labels(service, request.method, endpoint, response.status_code).inc()
        return response

    @app.get("/metrics")
    def metrics():
        return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
