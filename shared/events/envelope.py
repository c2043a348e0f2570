"""The event envelope (openedx-events style): who, what, when, and the correlation id.

``type`` is a reverse-DNS name ending in a version, e.g. ``hrd.enrollment.enrollment.created.v1``.
A payload schema only ever gains (optional) fields within a version; a breaking change is a new
version (``.v2``) published next to the old one until every consumer has moved.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, ValidationError, fields, validates

TYPE_PATTERN = re.compile(r"^hrd\.[a-z_]+\.[a-z_]+\.[a-z_]+\.v\d+$")
SPEC_VERSION = "1.0"


@dataclass
class Envelope:
    type: str
    source: str
    payload: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    occurred_at: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat())
    correlation_id: str | None = None
    specversion: str = SPEC_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "source": self.source, "occurred_at": self.occurred_at,
                "correlation_id": self.correlation_id, "specversion": self.specversion,
                "payload": self.payload}


class EnvelopeSchema(Schema):
    id = fields.UUID(required=True)
    type = fields.String(required=True)
    source = fields.String(required=True)
    occurred_at = fields.AwareDateTime(required=True)
    correlation_id = fields.String(allow_none=True, load_default=None)
    specversion = fields.String(load_default=SPEC_VERSION)
    payload = fields.Dict(required=True)

    @validates("type")
    def _type_name(self, value, **_):
        if not TYPE_PATTERN.match(value):
            raise ValidationError("event type must look like hrd.<service>.<entity>.<action>.v<N>")


@functools.lru_cache(maxsize=None)
def _schema(event_type: str) -> Schema:
    """One schema instance per event type (building a marshmallow Schema deep-copies its fields)."""
    from shared.events.catalogue import payload_schema
    return payload_schema(event_type)()


def make_envelope(event_type: str, source: str, payload: dict[str, Any],
                  correlation_id: str | None = None, validate: bool = True) -> Envelope:
    """Build an envelope; with ``validate`` the payload is checked against the catalogue's schema."""
    if validate:
        errors = _schema(event_type).validate(payload)
        if errors:
            raise ValidationError({"payload": errors})
    return Envelope(type=event_type, source=source, payload=payload, correlation_id=correlation_id)
