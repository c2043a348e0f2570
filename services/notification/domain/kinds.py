"""What the notification service sends, over which channels, and whether it may be opted out of."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MessageKind(StrEnum):
    ENROLLMENT_CONFIRMED = "enrollment_confirmed"
    WAITLISTED = "waitlisted"
    PROMOTED = "promoted"
    CANCELLED = "cancelled"
    SESSION_CANCELLED = "session_cancelled"
    SESSION_RESCHEDULED = "session_rescheduled"
    REMINDER = "reminder"
    PREREQUISITE_NUDGE = "prerequisite_nudge"
    SURVEY_REQUEST = "survey_request"


class ChannelType(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    INAPP = "inapp"


# Fixed order used whenever channels are listed, so results are deterministic.
CHANNEL_ORDER: tuple[ChannelType, ...] = (ChannelType.EMAIL, ChannelType.SMS, ChannelType.INAPP)


@dataclass(frozen=True)
class KindSpec:
    kind: MessageKind
    mandatory: bool
    default_channels: tuple[ChannelType, ...]
    scheduled: bool  # planned as due rows (True) or sent as soon as the event arrives (False)


_E, _S, _I = ChannelType.EMAIL, ChannelType.SMS, ChannelType.INAPP

# Mandatory = a change to the trainee's own seat or session: they must learn of it even if they
# opted out of every channel (in-app is the fallback). Optional = reminders and nudges.
# SMS is reserved for what is time-critical (costs money, interrupts): seat won, session moved or
# cancelled, and reminders.
KIND_SPECS: dict[MessageKind, KindSpec] = {
    spec.kind: spec
    for spec in (
        KindSpec(MessageKind.ENROLLMENT_CONFIRMED, True, (_E, _I), scheduled=False),
        KindSpec(MessageKind.WAITLISTED, True, (_E, _I), scheduled=False),
        KindSpec(MessageKind.PROMOTED, True, (_E, _S, _I), scheduled=False),
        KindSpec(MessageKind.CANCELLED, True, (_E, _I), scheduled=False),
        KindSpec(MessageKind.SESSION_CANCELLED, True, (_E, _S, _I), scheduled=False),
        KindSpec(MessageKind.SESSION_RESCHEDULED, True, (_E, _S, _I), scheduled=False),
        KindSpec(MessageKind.REMINDER, False, (_E, _S, _I), scheduled=True),
        KindSpec(MessageKind.PREREQUISITE_NUDGE, False, (_E, _I), scheduled=True),
        KindSpec(MessageKind.SURVEY_REQUEST, False, (_E, _I), scheduled=True),
    )
}


def spec_for(kind: MessageKind | str) -> KindSpec:
    return KIND_SPECS[MessageKind(kind)]


def is_mandatory(kind: MessageKind | str) -> bool:
    return spec_for(kind).mandatory
