"""What every service promises over HTTP: health, OpenAPI, bearer auth, JSON errors, correlation ids."""
import datetime as dt

import pytest

from shared.auth import issue_token
from tests.conftest import JWT_SECRET

SERVICES = ("enrollment", "notification", "reporting")


@pytest.mark.parametrize("svc", SERVICES)
def test_health_ready_and_openapi(apps, svc):
    c = apps[svc].test_client()
    assert c.get("/healthz").get_json() == {"status": "ok", "service": svc}
    ready = c.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json()["checks"] == {"database": "ok", "broker": "ok"}
    spec = c.get("/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert any(p.startswith("/api/v1/") for p in spec["paths"])
    assert c.get("/docs").status_code == 200
    assert b"hrd_http_requests_total" in c.get("/metrics").data


@pytest.mark.parametrize("svc,path", [("enrollment", "/api/v1/courses"), ("notification", "/api/v1/messages"),
                                      ("reporting", "/api/v1/reports/summary?year=2019")])
def test_api_needs_a_valid_bearer_token(apps, svc, path):
    c = apps[svc].test_client()
    r = c.get(path)
    assert r.status_code == 401
    body = r.get_json()
    assert body["code"] == "unauthorized" and body["message"] == "인증 토큰이 필요합니다."
    assert c.get(path, headers={"Authorization": "Bearer nonsense"}).get_json()["code"] == "invalid_token"
    expired = issue_token(JWT_SECRET, "x", "admin", ttl=dt.timedelta(seconds=-5))
    assert c.get(path, headers={"Authorization": f"Bearer {expired}"}).get_json()["code"] == "token_expired"
    forged = issue_token("another-secret-0123456789-0123456789", "x", "admin")
    assert c.get(path, headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_roles_are_enforced(clean, admin_headers):
    from tests.conftest import trainee_headers
    c = clean["enrollment"].test_client()
    r = c.post("/api/v1/courses", json={"code": "X", "year": 2019, "name_ko": "x", "delivery": "classroom",
                                        "competency_area": "job"}, headers=trainee_headers(5))
    assert r.status_code == 403 and r.get_json()["code"] == "forbidden"
    r = clean["reporting"].test_client().get("/api/v1/reports/summary?year=2019", headers=trainee_headers(5))
    assert r.status_code == 403


def test_validation_errors_name_the_fields_in_korean_or_english(clean, admin_headers):
    c = clean["enrollment"].test_client()
    r = c.post("/api/v1/trainees", json={"name": "", "email": "not-an-email"}, headers=admin_headers)
    assert r.status_code == 422
    body = r.get_json()
    assert body["code"] == "validation_error"
    assert body["message"] == "입력값이 올바르지 않습니다."
    assert {"employee_no", "email", "name"} <= set(body["errors"])
    r = c.post("/api/v1/trainees?lang=en", json={}, headers=admin_headers)
    assert r.get_json()["message"] == "The input is not valid."
    r = c.get("/api/v1/enrollments/999999", headers={**admin_headers, "Accept-Language": "en-US,en;q=0.9"})
    assert r.status_code == 404 and r.get_json()["message"].startswith("Enrollment 999999")


def test_correlation_id_is_echoed_or_created(apps):
    c = apps["enrollment"].test_client()
    assert c.get("/healthz", headers={"X-Correlation-ID": "req-123"}).headers["X-Correlation-ID"] == "req-123"
    assert len(c.get("/healthz").headers["X-Correlation-ID"]) == 32
