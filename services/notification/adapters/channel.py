"""The one interface every outbound channel implements, so the service layer treats them alike."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from ..domain.delivery import DeliveryResult, OutboundMessage
from ..domain.kinds import ChannelType


@runtime_checkable
class Channel(Protocol):
    channel_type: ChannelType

    def send_batch(self, messages: Sequence[OutboundMessage]) -> list[DeliveryResult]:
        """Send every message; return exactly one result per message, in the same order.
        Must not raise for a per-message problem: failures are results (transient/permanent)."""
        ...

    def close(self) -> None: ...
