"""Retry policy for channel failures: exponential backoff with full jitter, bounded attempts."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from .delivery import DeliveryStatus
from .kst import require_aware


def classify_smtp_code(code: int) -> DeliveryStatus:
    """RFC 5321: 2xx/3xx ok, 4xx transient (mailbox busy, greylisting, 421 closing), 5xx permanent."""
    if code < 400:
        return DeliveryStatus.SENT
    if code < 500:
        return DeliveryStatus.TRANSIENT_FAILURE
    return DeliveryStatus.PERMANENT_FAILURE


# 4xx that mean "not now" rather than "never": request timeout, conflict/locked, too many requests.
_RETRYABLE_4XX = frozenset({408, 409, 423, 425, 429})


def classify_http_status(status: int) -> DeliveryStatus:
    """2xx sent, 5xx transient, 4xx permanent except the 'try again later' family above."""
    if 200 <= status < 300:
        return DeliveryStatus.SENT
    if status >= 500 or status in _RETRYABLE_4XX:
        return DeliveryStatus.TRANSIENT_FAILURE
    return DeliveryStatus.PERMANENT_FAILURE


@dataclass(frozen=True)
class RetryPolicy:
    """Attempt n (1-based) that failed transiently waits uniform(0, min(max_delay, base*2**(n-1))).

    Full jitter (not "equal" jitter) because many deliveries fail together when the SMTP relay or
    SMS provider hiccups; spreading them uniformly avoids a thundering herd on recovery.
    With the defaults the caps are 30s, 1m, 2m, 4m, 8m, ... and attempt 8 is the last.
    """

    max_attempts: int = 8
    base_delay: float = 30.0  # seconds
    max_delay: float = 3600.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_delay <= 0 or self.max_delay < self.base_delay:
            raise ValueError(f"invalid retry policy {self}")

    def backoff_cap(self, attempt: int) -> float:
        if attempt < 1:
            raise ValueError("attempt numbers start at 1")
        return min(self.max_delay, self.base_delay * 2 ** min(attempt - 1, 62))

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        return (rng or random).uniform(0.0, self.backoff_cap(attempt))

    def should_retry(self, status: DeliveryStatus, attempt: int) -> bool:
        return status is DeliveryStatus.TRANSIENT_FAILURE and attempt < self.max_attempts

    def next_attempt_at(
        self, status: DeliveryStatus, attempt: int, now: datetime, rng: random.Random | None = None
    ) -> datetime | None:
        """When to try again after `attempt` ended with `status`; None = give up (record it)."""
        require_aware(now, "now")
        if not self.should_retry(status, attempt):
            return None
        return now + timedelta(seconds=self.backoff(attempt, rng))


DEFAULT_RETRY_POLICY = RetryPolicy()
