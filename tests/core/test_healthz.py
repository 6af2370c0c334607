"""The health probe for the load balancer, and the production settings' deploy check."""

import os
import secrets
import string
import subprocess
import sys

import pytest
from django.conf import settings as django_settings

from core import views

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_ok_and_eager_broker_without_login(client, settings):
    settings.CELERY_BROKER_URL = ""

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "eager"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_503_when_the_database_is_down(client, settings, monkeypatch):
    settings.CELERY_BROKER_URL = ""
    monkeypatch.setattr(views, "_database_status", lambda: "down")

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "down", "broker": "eager"}


def test_production_settings_pass_the_deploy_check(tmp_path):
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="kijufaz.settings",
        DEBUG="false",
        SECRET_KEY="".join(secrets.choice(alphabet) for __ in range(60)),
        ALLOWED_HOSTS="kijufaz.example",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy-check.sqlite3'}",
    )

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
