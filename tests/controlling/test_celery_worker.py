"""Reports through a real Celery worker: Redis broker, prefork pool, committed data.

The eager mode of the other tests cannot show what matters in production: that a
message fired by beat reaches a worker, that a redelivered message does no double
work, and that a report survives its worker being killed mid-render (acks_late +
the Redis visibility timeout bring the message back, the stale claim is taken over).
"""

import hashlib
import importlib
import io
import json
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.apps import apps
from django_celery_beat.models import PeriodicTask
from pypdf import PdfReader

from controlling.kpis import Period
from controlling.models import JobStatus, ReportJob
from controlling.reports import last_complete_period
from controlling.services import request_report
from kijufaz.celery import app
from tests.celery_worker import VISIBILITY_TIMEOUT, Workers, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

schedules = importlib.import_module("controlling.migrations.0002_report_schedules")


def wait_until_finished(job_id: int, workers: Workers) -> ReportJob:
    job = wait_for(
        lambda: ReportJob.objects.filter(
            pk=job_id, status__in=[JobStatus.DONE, JobStatus.FAILED]
        ).first(),
        f"report job {job_id} to finish",
        workers,
    )
    assert job.status == JobStatus.DONE, job.error
    return job


def archived_files(media: Path) -> list[str]:
    return sorted(path.name for path in (media / "reports").iterdir())


def assert_archived(job: ReportJob, media: Path) -> bytes:
    pdf = (media / job.file).read_bytes()
    assert pdf.startswith(b"%PDF")
    assert hashlib.sha256(pdf).hexdigest() == job.checksum
    assert len(pdf) == job.size
    return pdf


@contextmanager
def timed(label: str):
    started = time.monotonic()
    yield
    print(f"\n[{label}: {time.monotonic() - started:.1f} s]")


def test_beat_scheduled_task_archives_the_report(workers, region):
    # pytest-django empties every table after a transactional test, the rows of the
    # data migration included: make sure the beat schedule exists as deployed.
    schedules.create(apps, None)
    quarterly = PeriodicTask.objects.get(name=schedules.SCHEDULES[1][0])
    workers.start()

    with timed("beat → archived PDF"):
        app.send_task(
            quarterly.task, args=json.loads(quarterly.args), kwargs=json.loads(quarterly.kwargs)
        )
        job = wait_for(ReportJob.objects.first, "the scheduled report job", workers)
        job = wait_until_finished(job.pk, workers)

    period = last_complete_period("quarter")
    assert (job.region, job.period_key, job.scheduled) == (region, period.key, True)
    assert job.attempts == 1
    pdf = assert_archived(job, workers.media)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert region.name in text
    assert period.label in text


def test_same_request_twice_yields_one_report(workers, region):
    workers.start()
    period = Period.of_quarter(2026, 2)

    with timed("request twice → archived PDF"):
        first = request_report(region=region, period=period)
        second = request_report(region=region, period=period)
        job = wait_until_finished(first.pk, workers)

    # Asked again once archived: the same report, nothing rendered anew.
    third = request_report(region=region, period=period)
    assert first.pk == second.pk == third.pk
    assert ReportJob.objects.count() == 1
    assert job.attempts == 1
    assert archived_files(workers.media) == [f"{job.key}.pdf"]
    assert_archived(job, workers.media)


def test_killing_the_worker_mid_task_still_yields_exactly_one_report(workers, region):
    first_worker = workers.start()
    with timed("request → killed → redelivered → archived PDF"):
        job = request_report(region=region, period=Period.of_year(2025))
        running = wait_for(
            lambda: ReportJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).first(),
            "the report to be claimed",
            workers,
        )
        time.sleep(0.2)  # into the render, not just the claim
        workers.kill(first_worker)
        assert ReportJob.objects.get(pk=job.pk).status == JobStatus.RUNNING

        # The killed worker never acked: Redis hands the message out again once the
        # visibility timeout has passed. A worker scans for such messages as it starts
        # (afterwards only every unacked_restore_interval × unacked_restore_throttle s).
        lost_at = running.started_at.timestamp()
        time.sleep(max(0, lost_at + VISIBILITY_TIMEOUT + 0.5 - time.time()))
        workers.start()
        job = wait_until_finished(job.pk, workers)

    assert ReportJob.objects.count() == 1
    assert job.attempts >= 2
    assert job.started_at > running.started_at
    assert archived_files(workers.media) == [f"{job.key}.pdf"]  # no .tmp- leftovers
    assert_archived(job, workers.media)
