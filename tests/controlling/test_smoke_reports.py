import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from controlling.models import ReportJob

pytestmark = pytest.mark.django_db


def test_report_request_renders_pdf_eagerly(
    client, leitung, case, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(leitung)
    assert client.get(reverse("controlling:report_list")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("controlling:report_list"),
            {"region": case.family.region_id, "period": "2026-Q3"},
        )
    assert response.status_code == 302
    job = ReportJob.objects.get()
    assert job.status == "done", job.error
    response = client.get(reverse("controlling:report_download", args=[job.pk]))
    pdf = b"".join(response.streaming_content)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Modellregion Siegen-Nord" in text
    assert "Seite 1 von" in text
    assert "Yilmaz" not in text
    assert client.get(reverse("controlling:report_status")).status_code == 200
    assert client.get(reverse("controlling:workshop_list")).status_code == 200
    assert client.get(reverse("controlling:workshop_new")).status_code == 200
    assert client.get(reverse("controlling:schedules")).status_code == 200


def test_a_report_whose_worker_keeps_dying_fails_visibly_after_the_last_attempt(region, settings):
    import datetime

    from django.utils import timezone

    from controlling import services
    from controlling.kpis import parse_period

    job = ReportJob.objects.create(
        key="k" * 32,
        region=region,
        period_key="2026-Q3",
        period_start=parse_period("2026-Q3").start,
        period_end=parse_period("2026-Q3").end,
        status="running",
        attempts=settings.KIJUFAZ_REPORT_MAX_ATTEMPTS,
        started_at=timezone.now()
        - datetime.timedelta(seconds=settings.KIJUFAZ_REPORT_TIME_LIMIT + 1),
    )

    assert services.claim_job(job.pk) is None
    job.refresh_from_db()
    assert job.status == "failed"
    assert "repeated attempts" in job.error
