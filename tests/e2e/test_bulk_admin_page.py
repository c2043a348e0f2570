"""The admin page in a real headless Chromium: paste the token, dry-run a CP949 file with bad rows, read the
preview, start, watch the progress bar reach 100 %, download the error report, switch to English."""
from __future__ import annotations

import csv
import io
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import wait_for
from tests.e2e.helpers import queues_drained
from tests.enrollment.bulk.helpers import install_track_courses, new_hire_csv

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
OUT = Path(__file__).resolve().parents[2] / "bench" / "out"


@pytest.fixture
def server(workers, redis_url):
    app = workers["enrollment"]
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}", workers
    srv.shutdown()
    thread.join(5)
    # let the consumers finish the job's events before the next test truncates their tables
    wait_for(lambda: queues_drained(redis_url), timeout=60, message="event queues drained")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
def test_admin_page_dry_run_start_progress_and_error_report(server, admin_headers):
    from playwright.sync_api import expect, sync_playwright

    base, apps = server
    install_track_courses(apps["enrollment"])
    data, bad = new_hire_csv(1200, bad_every=200)
    OUT.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(locale="ko-KR", viewport={"width": 1100, "height": 1300})
        try:
            page.goto(f"{base}/admin/bulk/")
            expect(page.locator("h1")).to_have_text("신규임용자 일괄 등록")
            page.fill("#token", admin_headers["Authorization"].removeprefix("Bearer "))
            page.click("#save-token")
            page.set_input_files("#file", files=[{"name": "신규임용자_2019.csv", "mimeType": "text/csv",
                                                  "buffer": data}])
            page.click("#dry-run")
            expect(page.locator("#preview-section")).to_be_visible(timeout=30_000)
            expect(page.locator("#pv-rows")).to_have_text(f"전체 {1200 + len(bad):,}행 · 정상 1,200 · 오류 {len(bad)}")
            expect(page.locator("#pv-trainees")).to_contain_text("신규 1,200")
            expect(page.locator("#pv-sessions tr").first).to_contain_text("사전학습")
            expect(page.locator("#start")).to_be_enabled()

            page.click("#start")
            expect(page.locator("body")).to_have_attribute("data-job-state", "done", timeout=60_000)
            expect(page.locator("#bar-label")).to_have_text("100%")
            expect(page.locator("#result-text")).to_contain_text("수강신청 3,600")
            expect(page.locator("#errors-body tr")).to_have_count(len(bad))
            expect(page.locator("#errors-body tr").first).to_contain_text("2019999001")  # 사번 of a row with no name
            page.screenshot(path=str(OUT / "bulk_admin_ko.png"), full_page=True)

            with page.expect_download() as info:
                page.click("#download-errors")
            raw = Path(info.value.path()).read_bytes()
            assert raw.startswith("\ufeff".encode())
            rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
            assert rows[0][:4] == ["행번호", "사번", "항목", "사유"]
            assert sorted({int(r[0]) for r in rows[1:]}) == [line for line, _ in bad]

            page.click("#lang-en")
            expect(page.locator("h1")).to_have_text("Bulk enrollment of new hires")
            expect(page.locator("#result-text")).to_contain_text("enrollments 3,600")
            expect(page.locator("#pv-rows")).to_have_text(f"{1200 + len(bad):,} rows · 1,200 ok · {len(bad)} rejected")
            expect(page.locator("#pv-sessions tr").first).to_contain_text("Pre-appointment e-learning")
            expect(page.locator("#message")).to_have_text("Enrollment started.")
            page.screenshot(path=str(OUT / "bulk_admin_en.png"), full_page=True)
        finally:
            browser.close()
