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
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.apps import apps
from django.conf import settings
from django.db import connection
from django_celery_beat.models import PeriodicTask
from pypdf import PdfReader

from controlling.kpis import Period
from controlling.models import JobStatus, ReportJob
from controlling.reports import last_complete_period
from controlling.services import request_report
from kijufaz.celery import app

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TIME_LIMIT = 12
VISIBILITY_TIMEOUT = 15
RETRY_SECONDS = 2
DEADLINE = 60

schedules = importlib.import_module("controlling.migrations.0002_report_schedules")


def _redis_url() -> str:
    # One Redis database per xdist worker (gw0 → 9, gw1 → 10, …) so parallel runs don't
    # flush each other's queues.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return f"redis://127.0.0.1:6379/{9 + int(worker.removeprefix('gw') or 0) % 7}"


def _test_database_url() -> str:
    """The pytest-django test database (its name differs per xdist worker)."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"])
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{auth}@{host}/{db['NAME']}"


def _reset_producer_pools():
    # The app caches its pools on first use; drop them so the next send connects to
    # whatever broker_url says now. (Not closed: kombu shares them per URL.)
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker_url():
    """The test process sends to a flushed Redis database instead of running eagerly."""
    url = _redis_url()
    redis.Redis.from_url(url).flushdb()
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=url, task_always_eager=False)
    _reset_producer_pools()
    yield url
    app.conf.update(saved)
    _reset_producer_pools()


class Workers:
    """Starts `celery worker` subprocesses, each in its own process group, and kills them."""

    def __init__(self, env: dict, log_dir: Path, media: Path):
        self.env = env
        self.log_dir = log_dir
        self.media = media
        self.started: list[tuple[subprocess.Popen, Path]] = []

    def start(self) -> subprocess.Popen:
        number = len(self.started) + 1
        log = self.log_dir / f"worker-{number}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "kijufaz", "worker",
            "-l", "info", "-c", "1", "-P", "prefork", "-n", f"report-test-{number}@%h",
            "--without-mingle", "--without-gossip", "--without-heartbeat",
        ]  # fmt: skip
        with log.open("wb") as out:
            process = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append((process, log))
        wait_for(
            lambda: process.poll() is not None or b" ready." in log.read_bytes(),
            "the worker to be ready",
            self,
            30,
        )
        assert process.poll() is None, f"The worker exited.\n{log.read_text()}"
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL the main process and its pool children: nothing gets to clean up."""
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def kill_all(self) -> None:
        for process, __ in self.started:
            self.kill(process)

    def logs(self) -> str:
        return "\n".join(f"--- {log.name} ---\n{log.read_text()}" for __, log in self.started)


@pytest.fixture
def workers(transactional_db, broker_url, tmp_path, request):
    media = tmp_path / "media"
    media.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "CELERY_BROKER_URL": broker_url,
        "MEDIA_ROOT": str(media),
        "KIJUFAZ_REPORT_TIME_LIMIT": str(TIME_LIMIT),
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "KIJUFAZ_REPORT_RETRY_SECONDS": str(RETRY_SECONDS),
        "PYTHONUNBUFFERED": "1",
    }
    pool = Workers(env, tmp_path, media)
    failed_before = request.session.testsfailed
    yield pool
    # Before pytest-django flushes the tables: no worker may still hold a connection.
    pool.kill_all()
    if request.session.testsfailed > failed_before:
        print(pool.logs())


def wait_for(condition, what: str, workers: Workers, timeout: float = DEADLINE):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    pytest.fail(f"Timed out after {timeout} s waiting for {what}.\n{workers.logs()[-6000:]}")


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
