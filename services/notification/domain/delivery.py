"""What a channel is asked to send and what it answers, one result per message."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from .kinds import ChannelType

SmsType = Literal["SMS", "LMS"]


class DeliveryStatus(StrEnum):
    SENT = "sent"
    TRANSIENT_FAILURE = "transient_failure"  # retry later with backoff
    PERMANENT_FAILURE = "permanent_failure"  # record, never retry


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    id: str  # the sent-log key (idempotency.delivery_key); echoed in the result
    channel: ChannelType
    to: str  # e-mail address, mobile number, or trainee id for the in-app inbox
    body: str
    subject: str | None = None
    html: str | None = None  # optional HTML alternative for e-mail
    to_name: str | None = None  # display name for e-mail
    sms_type: SmsType | None = None  # set by the renderer for SMS


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    message_id: str
    status: DeliveryStatus
    code: int | None = None  # SMTP reply code or HTTP status, when there was one
    detail: str = ""
    provider_id: str | None = None  # id returned by the provider, if any
    # True when the connection died after the whole message was handed over but before the
    # server confirmed it: the message may or may not have been delivered.
    maybe_delivered: bool = False

    @property
    def ok(self) -> bool:
        return self.status is DeliveryStatus.SENT

    @classmethod
    def sent(cls, message_id: str, *, code: int | None = None, provider_id: str | None = None) -> DeliveryResult:
        return cls(message_id, DeliveryStatus.SENT, code=code, provider_id=provider_id)

    @classmethod
    def transient(cls, message_id: str, detail: str, *, code: int | None = None, maybe_delivered: bool = False) -> DeliveryResult:
        return cls(message_id, DeliveryStatus.TRANSIENT_FAILURE, code=code, detail=detail, maybe_delivered=maybe_delivered)

    @classmethod
    def permanent(cls, message_id: str, detail: str, *, code: int | None = None) -> DeliveryResult:
        return cls(message_id, DeliveryStatus.PERMANENT_FAILURE, code=code, detail=detail)
