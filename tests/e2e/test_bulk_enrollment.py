"""Bulk enrollment end to end through real Celery workers: a CP949 file from Korean Excel with bad rows,
uploaded over HTTP, processed in chunks, confirmations stored by the notification service; the same file
uploaded again changes nothing anywhere."""
from __future__ import annotations

import io
import time

import pytest
from sqlalchemy import func, select

from services.enrollment.adapters import orm as eorm
from services.notification.adapters import orm as norm
from tests.conftest import wait_for
from tests.e2e.helpers import queues_drained
from tests.enrollment.bulk.helpers import count, install_track_courses, new_hire_csv, seat_check

pytestmark = pytest.mark.integration


def _upload(client, headers, data: bytes, **form) -> dict:
    r = client.post("/api/v1/bulk-enrollments", data={"file": (io.BytesIO(data), "신규임용자.csv"), **form},
                    headers=headers, content_type="multipart/form-data")
    assert r.status_code == 202, r.get_json()
    assert r.get_json()["state"] == "queued"
    return r.get_json()


def _wait_done(client, headers, job_id: str, timeout: float = 180) -> dict:
    def done():
        job = client.get(f"/api/v1/bulk-enrollments/{job_id}", headers=headers).get_json()
        return job if job["state"] in ("done", "failed") else None
    return wait_for(done, timeout=timeout, interval=0.1, message=f"bulk job {job_id} finished")


def test_upload_twice_through_workers(workers, admin_headers, redis_url):
    apps = workers
    install_track_courses(apps["enrollment"])
    client = apps["enrollment"].test_client()
    data, bad = new_hire_csv(1500, bad_every=300)

    job = _wait_done(client, admin_headers, _upload(client, admin_headers, data)["id"])
    assert job["state"] == "done", job
    p = job["progress"]
    assert (p["rows_total"], p["rows_done"], p["rows_failed"]) == (1505, 1500, len(bad))
    assert p["rate_rows_per_s"] > 0 and p["chunks_done"] == p["chunks_total"] == 2
    assert count(apps["enrollment"], eorm.trainees) == 1500
    assert count(apps["enrollment"], eorm.enrollments) == 4500 == job["enrollments"]["created"]
    assert seat_check(apps["enrollment"]) == []

    # every enrollment becomes exactly one stored message (confirmed or waitlisted)
    wait_for(lambda: count(apps["notification"], norm.messages) == 4500, timeout=180, interval=0.2,
             message="a message per enrollment")
    with apps["notification"].extensions["db"].engine.connect() as conn:
        kinds = dict(conn.execute(select(norm.messages.c.kind, func.count()).group_by(norm.messages.c.kind)).all())
    assert kinds["enrollment_confirmed"] == job["enrollments"]["confirmed"]
    assert kinds.get("waitlisted", 0) == job["enrollments"]["waitlisted"]

    listed = client.get("/api/v1/bulk-enrollments?state=done", headers=admin_headers).get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == job["id"]

    again = _wait_done(client, admin_headers, _upload(client, admin_headers, data)["id"])
    assert again["enrollments"]["created"] == 0 and again["trainees"]["unchanged"] == 1500
    time.sleep(0.5)
    wait_for(lambda: queues_drained(redis_url), timeout=60, message="queues drained")
    assert count(apps["enrollment"], eorm.enrollments) == 4500
    assert count(apps["notification"], norm.messages) == 4500
    time.sleep(0.5)  # the relay of the last chunk's events may still be on its way
    wait_for(lambda: queues_drained(redis_url), timeout=60, message="queues drained before the next test")
