"""The dashboard in a real headless Chromium: served by a real HTTP server, fed by real workers."""
from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from shared import outbox
from tests.conftest import wait_for
from tests.reporting.factories import demo_plan_catalogue, demo_plan_events, enrollment_events, trainee_ref

pytestmark = [pytest.mark.integration, pytest.mark.browser]
OUT = Path(__file__).resolve().parents[2] / "bench" / "out"


@pytest.fixture
def server(workers):
    srv = make_server("127.0.0.1", 0, workers["reporting"], threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join(5)


def _activity():
    """Enrollments in the demo plan's March, June and September sessions (March/September peaks)."""
    courses, sessions = demo_plan_catalogue()
    by_id = {c["id"]: c for c in courses}
    by_month = {m: [s for s in sessions if s["starts_on"][5:7] == f"{m:02d}" and
                    by_id[s["course_id"]]["delivery"] == "classroom"] for m in (3, 6, 9)}
    plan = {3: 30, 6: 8, 9: 20}
    events, eid = [], 0
    for month, n in plan.items():
        for i in range(n):
            eid += 1
            s = by_month[month][i % len(by_month[month])]
            path = ["confirmed", "attended", "completed"] if eid % 5 else ["confirmed", "no_show"]
            events += enrollment_events(eid, path, by_id[s["course_id"]], s, trainee_ref(eid))
    return events, plan


def test_dashboard_shows_the_plan_and_the_peaks(server, workers, admin_headers):
    chromium = shutil.which("chromium")
    if not chromium:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    activity, per_month = _activity()
    outbox.publish(workers["enrollment"].extensions["celery"], demo_plan_events() + activity)
    total = sum(per_month.values())
    wait_for(lambda: workers["reporting"].test_client().get("/api/v1/reports/summary?year=2019", headers=admin_headers)
             .get_json()["counters"]["enrollments"] == total, timeout=60, message="events projected")
    token = admin_headers["Authorization"].split(" ", 1)[1]

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        external = []
        page.on("request", lambda req: external.append(req.url) if not req.url.startswith(server) else None)
        page.goto(f"{server}/dashboard/")
        assert page.locator("h1").inner_text() == "교육훈련 통계 대시보드"
        page.click("#load")
        assert "토큰" in page.locator("#status").inner_text()  # asks for a token first
        page.fill("#token", token)
        page.click("#load")
        page.wait_for_selector("body[data-loaded]")
        cell = lambda name: page.locator(f'[data-cell="{name}"]').inner_text()  # noqa: E731
        assert (cell("total-courses"), cell("total-seats")) == ("239", "198,999")
        assert (cell("classroom-courses"), cell("classroom-seats")) == ("125", "22,829")
        assert (cell("elearning-courses"), cell("elearning-seats")) == ("114", "176,170")
        completed = total - sum(1 for i in range(1, total + 1) if i % 5 == 0)
        assert cell("total-completed") == str(completed)
        assert page.locator('[data-year="2018"] td').nth(1).inner_text() == "168,350"
        bars = {m: int(page.locator(f'#month-chart rect[data-group="{m:02d}"]').get_attribute("data-value"))
                for m in range(1, 13)}
        assert bars[3] == per_month[3] and bars[9] == per_month[9] and bars[6] == per_month[6]
        assert max(bars, key=bars.get) == 3 and sorted(bars, key=bars.get)[-2] == 9
        assert page.locator("#org-chart rect[data-org]").count() == 4
        assert page.locator("#area-chart rect[data-series='planned']").count() == 4
        OUT.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(OUT / "dashboard-ko.png"), full_page=True)

        page.click("#lang")  # English, kept for the tab; the token stays in sessionStorage
        page.wait_for_function("document.querySelector('h1').textContent === 'Training statistics dashboard'")
        page.wait_for_selector("body[data-loaded]")
        assert page.locator("#summary-table th").first.inner_text() == "Delivery"
        page.reload()
        page.wait_for_selector("body[data-loaded]")
        assert page.locator("h1").inner_text() == "Training statistics dashboard"
        assert cell("total-seats") == "198,999"
        page.screenshot(path=str(OUT / "dashboard-en.png"), full_page=True)
        assert external == []  # no CDN, no third-party requests
        browser.close()
