"""Envelopes encoded to JSON once: the same text goes into the outbox row and into every broker message.

The generic path (``shared.outbox``) serialises an event twice or more: ``json.dumps`` of the payload for the
outbox row, then kombu's ``json.dumps`` of every batch for every subscriber (plus ``saferepr`` of the args for
the task headers). For a bulk job that writes thousands of events per transaction that is a large share of the
producer's CPU. Here each envelope is encoded once (:func:`encode`), and a batch's Celery message body is
spliced from those texts and handed to kombu already serialised (``content_type`` given, so kombu does not
serialise again); a batch going to several subscribers is encoded once for all of them.

What the consumers receive is exactly what :func:`shared.outbox.publish_to` sends: the task
``<service>.consume_events`` on ``<service>.events`` with one positional argument, the list of envelope dicts
(``Envelope.to_dict()`` shape), JSON content type, the batch's correlation id in the headers.
"""
from __future__ import annotations

import functools
import json
import os
import uuid
from dataclasses import dataclass
from typing import Sequence

from shared.events.catalogue import consumer_queue, consumer_task_name, subscribers_for
from shared.events.envelope import Envelope

#: How many envelopes one consumer task carries at most (as ``shared.outbox.PUBLISH_BATCH``).
PUBLISH_BATCH = 500
_EMBED = '{"callbacks":null,"errbacks":null,"chain":null,"chord":null}'
_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
#: compact JSON, non-ASCII kept as is (the message body is UTF-8)
dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclass(frozen=True, slots=True)
class EncodedEnvelope:
    envelope: Envelope
    payload_json: str  #: the payload as JSON text (for the outbox row's JSON column)
    json: str          #: the whole envelope, ``Envelope.to_dict()`` shape, as JSON text (for the broker)

    @property
    def id(self) -> str:
        return self.envelope.id

    @property
    def type(self) -> str:
        return self.envelope.type


def new_ids(n: int) -> list[str]:
    """``n`` random (version 4) UUIDs as strings, like ``str(uuid.uuid4())`` but made in one go (uuid4() costs
    ~10 µs each in CPython, a noticeable share of a bulk chunk's thousands of events)."""
    raw = bytearray(os.urandom(16 * n))
    raw[6::16] = bytes((b & 0x0F) | 0x40 for b in raw[6::16])  # version 4
    raw[8::16] = bytes((b & 0x3F) | 0x80 for b in raw[8::16])  # RFC 4122 variant
    h = raw.hex()
    return [f"{h[k:k + 8]}-{h[k + 8:k + 12]}-{h[k + 12:k + 16]}-{h[k + 16:k + 20]}-{h[k + 20:k + 32]}"
            for k in range(0, 32 * n, 32)]


def encode(envelope: Envelope, payload_json: str | None = None) -> EncodedEnvelope:
    """Encode an envelope once. ``payload_json``: the payload's JSON text when the caller already has it
    (e.g. spliced from parts shared by many events); it must decode to ``envelope.payload``."""
    e = envelope
    if payload_json is None:
        payload_json = dumps(e.payload)
    rest = _rest(e.type, e.source, e.occurred_at, e.correlation_id, e.specversion)
    return EncodedEnvelope(e, payload_json, f'{{"id":{dumps(e.id)},{rest},"payload":{payload_json}}}')


@functools.lru_cache(maxsize=256)
def _rest(type_: str, source: str, occurred_at: str, correlation_id: str | None, specversion: str) -> str:
    """The envelope's fields after the id (the same for every event of one transaction), encoded once."""
    return dumps({"type": type_, "source": source, "occurred_at": occurred_at, "correlation_id": correlation_id,
                  "specversion": specversion})[1:-1]


def message_body(batch: Sequence[EncodedEnvelope]) -> bytes:
    """The Celery (protocol 2) body of ``consume_events(batch)``: ``[[envelopes], {}, embed]``."""
    return f'[[[{",".join(e.json for e in batch)}]],{{}},{_EMBED}]'.encode()


def publish_encoded(celery_app, envelopes: Sequence[EncodedEnvelope], batch_size: int = PUBLISH_BATCH) -> int:
    """Send pre-encoded envelopes to every subscriber's queue in batches; returns the number of messages.

    Raises if the broker is unreachable (after a short retry), like ``shared.outbox.publish``: the caller
    leaves the events to the outbox sweep / receipt re-sends.
    """
    by_subscriber: dict[str, list[EncodedEnvelope]] = {}
    for env in envelopes:
        for svc in subscribers_for(env.type):
            by_subscriber.setdefault(svc, []).append(env)
    bodies: dict[tuple[str, ...], bytes] = {}  # the same batch for several subscribers: encoded once
    amqp = celery_app.amqp
    sent = 0
    with celery_app.producer_or_acquire() as producer:
        for svc, items in by_subscriber.items():
            name, queue = consumer_task_name(svc), consumer_queue(svc)
            for i in range(0, len(items), batch_size):
                batch = items[i:i + batch_size]
                key = tuple(e.id for e in batch)
                body = bodies.get(key)
                if body is None:
                    body = bodies[key] = message_body(batch)
                task_id = str(uuid.uuid4())
                message = amqp.create_task_message(task_id, name, (), {}, argsrepr=f"[<{len(batch)} envelopes>]",
                                                   kwargsrepr="{}", ignore_result=True)
                amqp.send_task_message(producer, name, message._replace(body=body), queue=queue, retry=True,
                                       retry_policy=_POLICY,
                                       headers={"correlation_id": batch[0].envelope.correlation_id},
                                       content_type="application/json", content_encoding="utf-8")
                sent += 1
    return sent
