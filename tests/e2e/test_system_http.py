"""The slice as a client sees it: three gunicorn servers, real workers, requests over HTTP."""
from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from shared.embedded_redis import free_port
from tests.conftest import stop_process, subprocess_env, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def servers(workers, db_urls, redis_url):
    procs, urls = [], {}
    for svc in ("enrollment", "notification", "reporting"):
        port = free_port()
        urls[svc] = f"http://127.0.0.1:{port}"
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "1", "-k", "gthread", "--threads", "4", "-b",
             f"127.0.0.1:{port}", f"services.{svc}.app:create_app()"],
            env=subprocess_env(svc, db_urls, redis_url), start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for svc, url in urls.items():
        wait_for(lambda: _ok(f"{url}/readyz"), timeout=30, message=f"{svc} ready")
    yield urls
    for p in procs:
        stop_process(p)


def _ok(url):
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def test_enroll_over_http_reaches_the_other_services(servers, admin_headers):
    e, n, r = servers["enrollment"], servers["notification"], servers["reporting"]
    s = requests.Session()
    s.headers.update(admin_headers)
    course = s.post(f"{e}/api/v1/courses", json={
        "code": "C19-HTTP", "year": 2019, "name_ko": "서울이해", "delivery": "classroom",
        "competency_area": "basic", "planned_sessions": 1, "planned_seats": 30}).json()
    session = s.post(f"{e}/api/v1/sessions", json={"course_id": course["id"], "starts_on": "2019-04-01",
                                                   "ends_on": "2019-04-02", "capacity": 30}).json()
    trainee = s.post(f"{e}/api/v1/trainees", json={"employee_no": "H0001", "name": "정종로",
                                                   "organisation_type": "district"}).json()
    resp = s.post(f"{e}/api/v1/enrollments", json={"trainee_id": trainee["id"], "session_id": session["id"]},
                  headers={"X-Correlation-ID": "http-slice-1"})
    assert resp.status_code == 201 and resp.json()["status"] == "confirmed"
    assert resp.headers["X-Correlation-ID"] == "http-slice-1"

    msgs = wait_for(lambda: s.get(f"{n}/api/v1/messages", params={"trainee_id": trainee["id"]}).json()["items"],
                    message="confirmation stored by notification")
    assert [m["kind"] for m in msgs] == ["enrollment_confirmed"]
    wait_for(lambda: s.get(f"{r}/api/v1/reports/summary", params={"year": 2019}).json()["actual"]["enrolled"] == 1,
             message="reporting counts the enrollment")
    summary = s.get(f"{r}/api/v1/reports/summary", params={"year": 2019}).json()
    assert summary["plan"]["total"] == {"courses": 1, "seats": 30}
