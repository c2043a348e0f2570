"""Bulk enrollment use cases against the real database (PostgreSQL or SQLite), run inline (no broker):
counts compared with the file, idempotent re-uploads, dry runs, refusals, timelines, concurrency."""
from __future__ import annotations

import csv
import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, update

from services.enrollment.adapters import bulk_orm as B
from services.enrollment.adapters import orm as T
from services.enrollment.bulk import service
from tests.conftest import trainee_headers
from tests.enrollment.bulk.helpers import (count, inline_deps, install_track_courses, new_hire_csv, outbox_types,
                                           pending_chunks, run_inline, seat_check)

pytestmark = pytest.mark.integration

CREATED = "hrd.enrollment.enrollment.created.v1"
REGISTERED = "hrd.enrollment.trainee.registered.v1"
UPDATED = "hrd.enrollment.trainee.updated.v1"
FINISHED = "hrd.enrollment.bulk_job.finished.v1"


@pytest.fixture
def app(clean):
    app = clean["enrollment"]
    install_track_courses(app)
    return app


def test_cp949_file_with_bad_rows_enrolls_every_good_row_in_every_stage(app):
    data, bad = new_hire_csv(400, bad_every=50)
    job = run_inline(app, data, chunk_size=150)

    assert job["state"] == "done" and job["encoding"] == "cp949"
    p = job["progress"]
    assert (p["rows_total"], p["rows_done"], p["rows_failed"], p["percent"]) == (408, 400, 8, 100.0)
    assert p["chunks_total"] == p["chunks_done"] == 3
    assert job["trainees"]["created"] == count(app, T.trainees) == 400
    assert job["enrollments"]["created"] == count(app, T.enrollments) == 1200
    assert job["enrollments"]["confirmed"] + job["enrollments"]["waitlisted"] == 1200
    with app.extensions["db"].engine.connect() as conn:  # every trainee in 3 different courses
        per_trainee = conn.execute(select(func.count(func.distinct(T.enrollments.c.course_id)))
                                   .group_by(T.enrollments.c.trainee_id)).scalars().all()
        history = conn.execute(select(func.count()).select_from(T.enrollment_history)).scalar_one()
    assert set(per_trainee) == {3} and history == 2400
    assert seat_check(app) == []
    events = outbox_types(app)
    assert (events[REGISTERED], events[CREATED], events[FINISHED]) == (400, 1200, 1)

    r = app.test_client().get(f"/api/v1/bulk-enrollments/{job['id']}/errors.csv",
                              headers={"Authorization": _admin()})
    assert r.status_code == 200 and r.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0] == ["행번호", "사번", "항목", "사유", "Reason (English)", "입력값"]
    got = {(int(row[0]), row[2]) for row in rows[1:]}
    labels = {"name": "성명", "appointment_date": "임용(예정)일", "grade": "직급", "job_series": "직렬",
              "mobile": "휴대전화"}
    assert {(line, labels[field]) for line, field in bad} <= got
    assert {line for line, _ in got} == {line for line, _ in bad}


def test_same_file_twice_and_an_overlapping_file_duplicate_nothing(app):
    first, _ = new_hire_csv(300)
    run_inline(app, first, chunk_size=120)
    before = (count(app, T.trainees), count(app, T.enrollments), outbox_types(app))

    again = run_inline(app, first, chunk_size=120)
    assert again["trainees"] == {"created": 0, "updated": 0, "unchanged": 300}
    assert again["enrollments"]["created"] == 0 and again["enrollments"]["existing"] == 900
    after = outbox_types(app)
    assert (count(app, T.trainees), count(app, T.enrollments)) == before[:2]
    assert {k: v for k, v in after.items() if k != FINISHED} == {k: v for k, v in before[2].items() if k != FINISHED}
    assert after[FINISHED] == before[2][FINISHED] + 1

    def new_mail(row):  # the overlap carries one changed e-mail address
        return {**row, "이메일": "changed@seoul.go.kr"} if row["사번"] == "2019000200" else row

    overlap, _ = new_hire_csv(300, first_no=151, modify=new_mail)
    job = run_inline(app, overlap, chunk_size=120)
    assert job["trainees"] == {"created": 150, "updated": 1, "unchanged": 149}
    assert job["enrollments"]["created"] == 450 and job["enrollments"]["existing"] == 450
    assert count(app, T.trainees) == 450 and count(app, T.enrollments) == 1350
    events = outbox_types(app)
    assert (events[REGISTERED], events[UPDATED], events[CREATED]) == (450, 1, 1350)
    assert count(app, T.trainees, T.trainees.c.email == "changed@seoul.go.kr") == 1
    assert seat_check(app) == []


def test_dry_run_writes_nothing_and_predicts_the_real_run(app):
    data, bad = new_hire_csv(700, bad_every=100)
    events_before = outbox_types(app)
    dry = run_inline(app, data, dry_run=True, chunk_size=200)
    pv = dry["preview"]
    assert dry["state"] == "done" and dry["dry_run"] is True
    assert pv["rows"] == {"total": 707, "ok": 700, "failed": 7}
    assert pv["trainees"] == {"new": 700, "updated": 0, "unchanged": 0}
    assert pv["enrollments"]["new"] == 2100 and pv["enrollments"]["existing"] == 0
    assert [s["key"] for s in pv["stages"]] == ["pre_elearning", "pre_classroom", "post_classroom"]
    assert all(s["confirmed"] + s["waitlisted"] == 700 for s in pv["stages"])
    assert len(pv["errors_sample"]) == 7
    assert count(app, T.trainees) == count(app, T.enrollments) == 0
    assert outbox_types(app) == events_before
    assert count(app, B.bulk_chunks) == 0

    deps = inline_deps(app, 200)
    with app.app_context():
        real = service.start_from_dry_run(deps, dry["id"], "admin:test")
        assert real["source_job_id"] == dry["id"] and real["dry_run"] is False
        service.prepare(deps, real["id"])
        for seq in pending_chunks(app, real["id"]):
            service.process_chunk(deps, real["id"], seq)
        real = service.get_job(deps, real["id"])
    assert real["enrollments"]["created"] == pv["enrollments"]["new"]
    assert real["enrollments"]["confirmed"] == pv["enrollments"]["confirmed"]
    assert real["progress"]["rows_failed"] == 7
    with app.app_context(), pytest.raises(Exception) as refused:
        service.start_from_dry_run(deps, real["id"], "admin:test")
    assert getattr(refused.value, "code", None) == "not_a_dry_run"


def test_bad_files_and_missing_plan_are_refused_with_reasons(clean):
    app = clean["enrollment"]
    c = app.test_client()
    headers = {"Authorization": _admin()}

    def upload(data: bytes, **form):
        return c.post("/api/v1/bulk-enrollments", data={"file": (io.BytesIO(data), "x.csv"), **form},
                      headers=headers, content_type="multipart/form-data")

    good, _ = new_hire_csv(3)
    r = upload(good)
    assert r.status_code == 409 and r.get_json()["code"] == "track_courses_missing"
    assert "7~9급 신입자" in r.get_json()["errors"]["courses"]

    install_track_courses(app)
    no_series = "사번,성명,소속,직급,임용예정일\n2019000001,김서울,서울특별시 행정국,9급,2019-02-07\n".encode("cp949")
    r = upload(no_series)
    assert r.status_code == 422 and r.get_json()["code"] == "file_missing_headers"
    assert r.get_json()["errors"]["missing_columns"] == ["job_series"]
    assert "직렬" in r.get_json()["message"]
    r = c.post("/api/v1/bulk-enrollments?lang=en", data={"file": (io.BytesIO(b"\xd0\xcf\x11\xe0old"), "a.xls")},
               headers=headers, content_type="multipart/form-data")
    assert r.status_code == 422 and ".xls" in r.get_json()["message"]
    r = c.post("/api/v1/bulk-enrollments", data={"dry_run": "true"}, headers=headers,
               content_type="multipart/form-data")
    assert r.status_code == 422 and r.get_json()["code"] == "validation_error"
    assert "file" in r.get_json()["errors"]  # the project's error shape names the missing field
    r = c.post("/api/v1/bulk-enrollments", data={"file": (io.BytesIO(good), "x.csv")},
               headers=trainee_headers(1), content_type="multipart/form-data")
    assert r.status_code == 403
    assert count(app, B.bulk_jobs) == 0
    assert c.get("/api/v1/bulk-enrollments/nope", headers=headers).status_code == 404


def test_tracks_and_a_trainees_timeline(app):
    data, _ = new_hire_csv(20)
    run_inline(app, data)
    c = app.test_client()
    tracks = c.get("/api/v1/onboarding-tracks?year=2019", headers={"Authorization": _admin()}).get_json()
    assert tracks["total"] == 1
    assert [s["key"] for s in tracks["items"][0]["stages"]] == ["pre_elearning", "pre_classroom", "adaptation",
                                                                "post_classroom"]
    with app.extensions["db"].engine.connect() as conn:
        tid = conn.execute(select(T.trainees.c.id).where(T.trainees.c.employee_no == "2019000001")).scalar_one()
    r = c.get(f"/api/v1/trainees/{tid}/timeline", headers=trainee_headers(tid))
    assert r.status_code == 200, r.get_json()
    tl = r.get_json()
    assert tl["series_group"] in ("행정직군", "기술직군") and tl["track"]["code"] == "ONB-7-9"
    stages = tl["stages"]
    assert [s["status"] for s in stages] == ["confirmed", "confirmed", "planned", "confirmed"]
    assert stages[0]["start"] < stages[1]["start"] < tl["appointed_on"] <= stages[2]["start"] < stages[3]["start"]
    assert c.get(f"/api/v1/trainees/{tid}/timeline", headers=trainee_headers(tid + 1)).status_code == 403


def test_stalled_chunks_and_readers_are_sent_again(app):
    import io as _io
    deps = inline_deps(app, 50)
    data, _ = new_hire_csv(120)
    with app.app_context():
        job = service.create_job(deps, _io.BytesIO(data), "x.csv", dry_run=False, actor="admin:test")
        never_read = service.create_job(deps, _io.BytesIO(data), "y.csv", dry_run=False, actor="admin:test")
        service.prepare(deps, job["id"])
        sent = []
        deps.send = lambda name, *args: sent.append((name, *args))
        assert service.redispatch(deps) == {"chunks": 3, "readers": 1}
    assert sorted(sent) == sorted([(service.TASK_CHUNK, job["id"], 1), (service.TASK_CHUNK, job["id"], 2),
                                   (service.TASK_CHUNK, job["id"], 3), (service.TASK_PREPARE, never_read["id"])])
    with app.app_context():  # a redelivered chunk after it was done is a no-op
        assert service.process_chunk(deps, job["id"], 1) == "processed"
        assert service.process_chunk(deps, job["id"], 1) == "done already"


def test_concurrent_chunks_never_overbook(app):
    """Two uploads for the same cohort processed chunk by chunk in parallel threads."""
    with app.extensions["db"].engine.begin() as conn:  # make seats scarce: 40 per classroom session
        conn.execute(update(T.sessions).values(capacity=40))
    deps = inline_deps(app, 40)
    jobs = []
    with app.app_context():
        for first_no in (1, 1 + 336 * 9):  # both in the first cohort
            data, _ = new_hire_csv(180, first_no=first_no)
            job = service.create_job(deps, io.BytesIO(data), "x.csv", dry_run=False, actor="admin:test")
            service.prepare(deps, job["id"])
            jobs.append(job["id"])
    work = [(j, seq) for j in jobs for seq in pending_chunks(app, j)]

    def run(item):
        with app.app_context():
            return service.process_chunk(deps, *item)

    with ThreadPoolExecutor(4) as pool:
        assert set(pool.map(run, work)) == {"processed"}
    assert seat_check(app) == []
    with app.extensions["db"].engine.connect() as conn:
        full = conn.execute(select(func.count()).select_from(T.sessions)
                            .where(T.sessions.c.seats_taken == T.sessions.c.capacity)).scalar_one()
    assert full > 0
    assert count(app, T.enrollments) == 3 * 360
    assert count(app, T.enrollments, T.enrollments.c.status == "waitlisted") > 0


def _admin() -> str:
    from shared.auth import issue_token
    from tests.conftest import JWT_SECRET
    return f"Bearer {issue_token(JWT_SECRET, 'admin', 'admin')}"
