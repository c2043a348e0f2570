"""Which channels a message goes out on, given the kind, the trainee's opt-outs and contact data."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .kinds import CHANNEL_ORDER, ChannelType, MessageKind, spec_for


@dataclass(frozen=True)
class ContactInfo:
    email: str | None = None
    mobile: str | None = None

    def reachable(self) -> frozenset[ChannelType]:
        channels = {ChannelType.INAPP}  # every trainee has an inbox
        if self.email and self.email.strip():
            channels.add(ChannelType.EMAIL)
        if self.mobile and self.mobile.strip():
            channels.add(ChannelType.SMS)
        return frozenset(channels)


@dataclass(frozen=True)
class ChannelPreferences:
    opted_out: frozenset[ChannelType] = frozenset()

    @classmethod
    def opt_out_of(cls, channels: Iterable[ChannelType | str]) -> ChannelPreferences:
        return cls(frozenset(ChannelType(c) for c in channels))


NO_OPT_OUTS = ChannelPreferences()
ALL_CHANNELS = frozenset(ChannelType)


def select_channels(
    kind: MessageKind | str,
    contact: ContactInfo,
    preferences: ChannelPreferences = NO_OPT_OUTS,
    *,
    enabled: frozenset[ChannelType] = ALL_CHANNELS,
) -> tuple[ChannelType, ...]:
    """Channels in CHANNEL_ORDER: the kind's defaults, minus opt-outs, minus unreachable ones,
    minus channels switched off for the deployment (`enabled`, e.g. no SMS contract in dev).

    Opt-outs are honoured for every kind, but a mandatory kind never ends up with nothing: it then
    falls back to the in-app inbox, which is always available. An optional kind may end up empty
    (the caller records it as skipped).
    """
    spec = spec_for(kind)
    usable = contact.reachable() & (enabled | {ChannelType.INAPP})
    chosen = [
        c for c in CHANNEL_ORDER if c in spec.default_channels and c in usable and c not in preferences.opted_out
    ]
    if not chosen and spec.mandatory:
        chosen = [ChannelType.INAPP]
    return tuple(chosen)
