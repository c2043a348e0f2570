"""Pre-encoded envelopes (shared.events.wire) against the real Redis: the messages are the ones the generic
outbox relay sends, byte-for-byte equivalent once decoded, and a consumer task gets the same arguments."""
from __future__ import annotations

import base64
import json
import uuid

import redis as redis_lib
from celery import Celery

from shared import outbox
from shared.events import wire
from shared.events.envelope import make_envelope


def _app(redis_url: str, prefix: str) -> Celery:
    # A key prefix of our own: the suite's real consumer workers (same Redis) never see these messages.
    app = Celery("wire-test", set_as_current=False)
    app.conf.update(broker_url=redis_url, task_serializer="json", accept_content=["json"],
                    task_create_missing_queues=True, broker_transport_options={"global_keyprefix": prefix})
    return app


def _drain(client, key: str) -> list[dict]:
    out = []
    while (raw := client.rpop(key)) is not None:  # kombu LPUSHes: RPOP gives publish order
        msg = json.loads(raw)
        body = msg["body"]
        if msg["properties"].get("body_encoding") == "base64":
            body = base64.b64decode(body)
        out.append({"content_type": msg["content-type"], "headers": msg["headers"],
                    "body": json.loads(body)})
    return out


def test_encoded_batches_carry_what_the_generic_relay_sends(redis_url):
    prefix = f"wire-{uuid.uuid4().hex[:8]}:"
    app = _app(redis_url, prefix)
    envs = [make_envelope("hrd.enrollment.trainee.registered.v1", "enrollment",
                          {"trainee_id": i, "employee_no": f"2019{i:06d}", "name": "김신규 \"따옴표\" \\ ✓",
                           "organisation": "서울특별시", "organisation_type": "metropolitan", "department": None,
                           "grade": "9급", "job_series": "행정", "email": None, "mobile": None,
                           "appointed_on": "2019-03-04", "accessibility_needs": None, "preferred_language": "ko"},
                          correlation_id="corr-1", validate=False) for i in range(7)]
    client = redis_lib.Redis.from_url(redis_url)
    try:
        assert outbox.publish_to(app, "notification", [e.to_dict() for e in envs], batch_size=3) == 3
        generic = _drain(client, f"{prefix}notification.events")
        encoded = [wire.encode(e) for e in envs]
        assert [json.loads(e.payload_json) for e in encoded] == [e.payload for e in envs]
        assert wire.publish_encoded(app, encoded, batch_size=3) == 6  # notification + reporting, 3 batches each
        fast = _drain(client, f"{prefix}notification.events")
        fast_reporting = _drain(client, f"{prefix}reporting.events")
    finally:
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
    assert len(generic) == len(fast) == len(fast_reporting) == 3
    for g, f in zip(generic, fast):
        assert f["content_type"] == g["content_type"] == "application/json"
        assert f["body"] == g["body"]  # [[envelopes], {}, embed]
        assert f["headers"]["task"] == g["headers"]["task"] == "notification.consume_events"
        assert f["headers"]["correlation_id"] == "corr-1"
    assert [m["body"] for m in fast_reporting] == [m["body"] for m in fast]
    assert [e["id"] for m in fast for e in m["body"][0][0]] == [e.id for e in envs]


def test_new_ids_are_version_4_uuids_and_distinct():
    ids = wire.new_ids(5000)
    parsed = [uuid.UUID(i) for i in ids]
    assert [str(u) for u in parsed] == ids
    assert {u.version for u in parsed} == {4} and {u.variant for u in parsed} == {uuid.RFC_4122}
    assert len(set(ids)) == 5000
