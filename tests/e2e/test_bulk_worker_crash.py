"""A bulk job whose worker is SIGKILLed in the middle resumes and finishes, with nothing doubled:
the killed worker's chunk transaction rolls back, Redis redelivers its unacknowledged tasks (acks_late) and
the beat's redispatch re-sends chunks that stalled; a chunk already done is a no-op."""
from __future__ import annotations

import io
import signal

import pytest
import redis as redis_lib
from celery import Celery
from sqlalchemy import func, select

from services.enrollment.adapters import bulk_orm as B
from services.enrollment.adapters import orm as T
from services.enrollment.bulk import service
from services.enrollment.bulk.service import Deps
from shared.celery_factory import task_routes
from tests.conftest import start_worker_process, stop_process, wait_for
from tests.enrollment.bulk.helpers import count, install_track_courses, new_hire_csv, outbox_types, seat_check

pytestmark = pytest.mark.integration

N_ROWS = 9000
CHUNK = 250


def _job(app, job_id):
    with app.extensions["db"].engine.connect() as conn:
        return conn.execute(select(B.bulk_jobs).where(B.bulk_jobs.c.id == job_id)).one()


def test_sigkill_mid_job_then_resume(clean, db_urls, redis_url, tmp_path):
    app = clean["enrollment"]
    install_track_courses(app)
    base, db = redis_url.rsplit("/", 1)
    url = f"{base}/{(int(db or 0) + 9) % 16}"  # a broker namespace of its own
    r = redis_lib.Redis.from_url(url)
    r.flushdb()
    publisher = Celery("bulk-crash-test", broker=url)
    publisher.conf.update(task_serializer="json", accept_content=["json"], task_routes=task_routes())

    data, _ = new_hire_csv(N_ROWS)
    dbx = app.extensions["db"]
    deps = Deps(dbx.session_factory, dbx.engine, publisher, chunk_size=CHUNK, stall_seconds=2)
    with app.app_context():
        job_id = service.create_job(deps, io.BytesIO(data), "hires.csv", dry_run=False, actor="admin:test")["id"]

    env = {"HRD_CELERY_VISIBILITY_TIMEOUT": "3", "HRD_CELERY_UNACKED_RESTORE_INTERVAL": "1"}
    victim = start_worker_process("enrollment", db_urls, url, **env)
    try:
        wait_for(lambda: _job(app, job_id).chunks_done >= 3, timeout=60, interval=0.01, message="some chunks done")
    finally:
        stop_process(victim, signal.SIGKILL)
    at_kill = _job(app, job_id)
    assert at_kill.state == "running" and at_kill.chunks_done < N_ROWS // CHUNK, \
        "the job finished before the worker could be killed; raise N_ROWS"

    survivor = start_worker_process("enrollment", db_urls, url, "-B", "-s", str(tmp_path / "beat-schedule"),
                                    HRD_BULK_STALL_SECONDS="2", HRD_BULK_REDISPATCH_SECONDS="1", **env)
    try:
        wait_for(lambda: _job(app, job_id).state == "done", timeout=180, interval=0.2, message="job resumed and done")
    finally:
        stop_process(survivor)

    job = _job(app, job_id)
    assert (job.rows_total, job.rows_done, job.rows_failed) == (N_ROWS, N_ROWS, 0)
    assert job.chunks_done == job.chunks_total == N_ROWS // CHUNK
    assert count(app, B.bulk_chunks, B.bulk_chunks.c.state != "done") == 0
    assert count(app, T.trainees) == N_ROWS
    assert count(app, T.enrollments) == 3 * N_ROWS == job.enrollments_created
    with app.extensions["db"].engine.connect() as conn:
        doubled = conn.execute(select(T.enrollments.c.trainee_id, T.enrollments.c.course_id)
                               .group_by(T.enrollments.c.trainee_id, T.enrollments.c.course_id)
                               .having(func.count() > 1)).all()
    assert doubled == []
    assert seat_check(app) == []
    events = outbox_types(app)
    assert events["hrd.enrollment.enrollment.created.v1"] == 3 * N_ROWS
    assert events["hrd.enrollment.trainee.registered.v1"] == N_ROWS
    assert events["hrd.enrollment.bulk_job.finished.v1"] == 1
    r.flushdb()
