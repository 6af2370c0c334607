"""The production image, docker-compose and the load run serve through one gunicorn
configuration (kijufaz/gunicorn.py), so the load run measures what production runs."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = "python:kijufaz.gunicorn"


def load_config(monkeypatch, **env):
    for name in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_ACCESS_LOG", "GUNICORN_BIND"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    import kijufaz.gunicorn

    return importlib.reload(kijufaz.gunicorn)


def test_two_threaded_workers_per_core_with_two_threads_each_by_default(monkeypatch):
    config = load_config(monkeypatch)

    assert config.worker_class == "gthread"
    assert config.workers == 2 * (os.cpu_count() or 1)
    assert config.threads == 2
    assert config.accesslog == "-"


def test_the_environment_sizes_it_and_can_switch_the_access_log_off(monkeypatch):
    config = load_config(
        monkeypatch, WEB_CONCURRENCY="3", GUNICORN_THREADS="4", GUNICORN_ACCESS_LOG=""
    )

    assert (config.workers, config.threads, config.accesslog) == (3, 4, None)


@pytest.mark.parametrize("path", ["Dockerfile", "docker-compose.yml", "benchmarks/load.py"])
def test_image_compose_and_load_run_use_the_same_configuration(path):
    assert CONFIG in (ROOT / path).read_text()


def test_gunicorn_accepts_the_configuration():
    gunicorn = Path(sys.executable).parent / "gunicorn"
    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "x"}
    result = subprocess.run(  # noqa: S603 (fixed command line)
        [gunicorn, "-c", CONFIG, "--check-config", "kijufaz.wsgi:application"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
