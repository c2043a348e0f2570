"""In-app inbox channel. The inbox table belongs to the service layer/DB, so this adapter only
hands messages to a `writer` (e.g. a bulk INSERT); by default it keeps them in memory (dev/tests)."""
from __future__ import annotations

from collections.abc import Callable, Sequence

from ..domain.delivery import DeliveryResult, OutboundMessage
from ..domain.kinds import ChannelType

InboxWriter = Callable[[Sequence[OutboundMessage]], None]


class InAppChannel:
    channel_type = ChannelType.INAPP

    def __init__(self, writer: InboxWriter | None = None):
        self.stored: list[OutboundMessage] = []
        self._writer = writer or self.stored.extend

    def send_batch(self, messages: Sequence[OutboundMessage]) -> list[DeliveryResult]:
        if not messages:
            return []
        try:
            self._writer(messages)
        except Exception as exc:  # noqa: BLE001 - a failed write is retried, whatever its cause
            return [DeliveryResult.transient(m.id, f"inbox write failed: {exc!r}") for m in messages]
        return [DeliveryResult.sent(m.id) for m in messages]

    def close(self) -> None:
        pass
