"""Per-message "this one went out" markers in Redis, written right after the channel confirms it.

The sent-log row is committed as ``sending`` before a batch is handed to SMTP/SMS and updated once the
whole batch is done (one transaction per batch, not per message). If the worker dies in between, the
rows stay ``sending``; whoever takes them over asks these markers which ones were already accepted by
the channel and only resends the others. What remains uncertain is the one message per worker thread
whose acceptance had arrived but whose marker was not yet written (~0.1 ms): at most one duplicate per
killed thread, carrying the same Message-ID.
"""
from __future__ import annotations

from collections.abc import Iterable

import redis as redis_lib

PREFIX = "notification:sent:"


class RedisSentMarkers:
    def __init__(self, url: str, ttl_seconds: int = 7 * 86400):
        self._client = redis_lib.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3)
        self._ttl = ttl_seconds

    def mark_sent(self, key: str) -> None:
        try:
            self._client.set(PREFIX + key, b"1", ex=self._ttl)
        except redis_lib.RedisError:  # only narrows the recovery window; never fail a send for it
            pass

    def sent_among(self, keys: Iterable[str]) -> set[str]:
        keys = list(keys)
        if not keys:
            return set()
        values = self._client.mget([PREFIX + k for k in keys])
        return {k for k, v in zip(keys, values) if v is not None}


class NoMarkers:
    def mark_sent(self, key: str) -> None:
        pass

    def sent_among(self, keys: Iterable[str]) -> set[str]:
        return set()
