"""Versioned event schemas and the envelope every event travels in (see README's event catalogue)."""
from shared.events.envelope import Envelope, EnvelopeSchema, make_envelope
from shared.events.catalogue import CATALOGUE, SUBSCRIBERS, consumer_task_name, payload_schema, subscribers_for

__all__ = ["Envelope", "EnvelopeSchema", "make_envelope", "CATALOGUE", "SUBSCRIBERS",
           "consumer_task_name", "payload_schema", "subscribers_for"]
