"""Small HTTP helpers for end-to-end tests (driving the services as a client would)."""
from __future__ import annotations

import redis as redis_lib


def make_course(client, headers, **over) -> dict:
    body = {"code": "C19-TEST", "year": 2019, "name_ko": "빅데이터 분석 실무(시각화 및 탐색중심)",
            "name_en": "Big Data Analysis Practice", "delivery": "classroom", "competency_area": "it",
            "planned_sessions": 1, "planned_seats": 30, **over}
    r = client.post("/api/v1/courses", json=body, headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def make_session(client, headers, course_id: int, capacity: int = 30, **over) -> dict:
    body = {"course_id": course_id, "starts_on": "2019-03-11", "ends_on": "2019-03-12", "capacity": capacity,
            "venue": "인재개발원 다산홀", **over}
    r = client.post("/api/v1/sessions", json=body, headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def make_trainee(client, headers, n: int = 1, **over) -> dict:
    body = {"employee_no": f"E{n:06d}", "name": f"김서울{n}", "organisation_type": "city_hq", "grade": "7급",
            "job_series": "행정", "email": f"t{n}@seoul.example", "mobile": "010-1234-5678", **over}
    r = client.post("/api/v1/trainees", json=body, headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def queues_drained(redis_url: str, queues=("notification.events", "reporting.events")) -> bool:
    r = redis_lib.Redis.from_url(redis_url)
    return all(r.llen(q) == 0 for q in queues) and r.hlen("unacked") == 0
