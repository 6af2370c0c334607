"""The department head requests a quarterly report and downloads it once the table says done."""

import io
import types

import pytest
from pypdf import PdfReader

from controlling import tasks
from controlling.models import ReportJob
from tests import factories as f

from .helpers import assert_accessible, german, login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

# The Celery task itself, kept before `queued_reports` replaces it with a queue stand-in.
RENDER_REPORT = tasks.render_report


def last_complete_quarter() -> str:
    today = f.today()
    quarter = (today.month - 1) // 3  # the one before today's quarter; 0 is last year's Q4
    return f"{today.year}-Q{quarter}" if quarter else f"{today.year - 1}-Q4"


@pytest.fixture
def queued_reports(monkeypatch):
    """Hold report tasks back, as a busy queue would, so the page is seen polling first."""
    queued: list[int] = []
    monkeypatch.setattr(tasks, "render_report", types.SimpleNamespace(delay=queued.append))
    return queued


def test_department_head_requests_a_report_and_sees_it_finish_without_reloading(
    page, live_server, browser_errors, settings, tmp_path, leitung, region, case, queued_reports
):
    settings.MEDIA_ROOT = tmp_path
    period = last_complete_quarter()
    status_polls = []
    page.on(
        "request", lambda r: status_polls.append(r.url) if "/reports/status/" in r.url else None
    )

    login(page, live_server, "leitung")
    with page.expect_navigation():
        page.click("nav.navbar >> a[href='/controlling/reports/']")
    assert_accessible(page)

    page.select_option("#id_region", str(region.pk))
    page.fill("#id_period", period)
    with page.expect_navigation():
        page.get_by_role("button", name=german("Request")).click()
    job = ReportJob.objects.get()
    assert (job.region, job.period_key, job.requested_by) == (region, period, leitung)
    assert queued_reports == [job.pk]
    row = page.locator(f"tr.report-job:has-text('{job.period.label}')")
    assert row.get_attribute("data-status") == "pending"
    assert page.get_attribute("#report-rows", "hx-trigger") == "every 2s"
    assert_accessible(page)
    screenshot(page, "report-pending")

    # A worker takes the job; the open page notices by itself.
    page.evaluate("window.notReloaded = true")
    RENDER_REPORT.apply(args=[job.pk])
    page.wait_for_selector("tr.report-job[data-status=done]", timeout=8000)
    assert page.evaluate("window.notReloaded") is True
    assert status_polls, "the table was not polled"
    assert page.get_attribute("#report-rows", "hx-get") is None  # polling stops when done
    polls_when_done = len(status_polls)
    assert_accessible(page)
    screenshot(page, "report-done")

    link = row.get_by_role("link", name=german("Download PDF"))
    response = page.context.request.get(live_server.url + link.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    body = response.body()
    assert body.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
    assert region.name in text
    assert "Yilmaz" not in text and "Mehmet" not in text
    assert len(status_polls) == polls_when_done
    browser_errors.assert_none()


def test_provider_staff_cannot_open_the_reports(page, live_server, browser_errors, fachkraft):
    login(page, live_server, "fachkraft")
    assert page.locator("nav.navbar a[href='/controlling/reports/']").count() == 0
    response = page.goto(f"{live_server.url}/controlling/reports/")
    assert response.status == 403
    assert page.inner_text("main h1") == german("You may not do this")
    assert page.locator("#id_period").count() == 0
    assert_accessible(page)
    unexpected = [m for m in browser_errors.messages if "status of 403" not in m]
    assert not unexpected, unexpected
