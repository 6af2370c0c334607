"""Real Celery workers for tests: a flushed Redis database as broker and `celery worker`
subprocesses on the pytest-django test database (registered in tests/conftest.py).

Eager mode cannot show what matters in production: that a message reaches a worker
process, that redelivery does no double work, and that work survives a killed worker.
"""

import os
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection

from kijufaz.celery import app

TIME_LIMIT = 12
VISIBILITY_TIMEOUT = 15
RETRY_SECONDS = 2
DEADLINE = 60


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


@pytest.fixture
def broker_down(broker_url):
    """A broker nobody answers at: queuing a task fails."""
    app.conf.update(broker_url="redis://127.0.0.1:9/0")
    _reset_producer_pools()
    yield
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
