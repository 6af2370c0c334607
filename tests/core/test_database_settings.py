"""Every PostgreSQL connection plans with the cost of a random read on SSD (1.1): with
PostgreSQL's default (4) the case pages hash-joined every family of the office.
Connections are kept between requests (and checked before reuse)."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

PROBE = "from django.conf import settings; print(settings.DATABASES['default'].get('OPTIONS'))"


@pytest.mark.postgres
@pytest.mark.django_db
def test_connections_plan_with_the_random_page_cost_of_ssd():
    with connection.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        assert cursor.fetchone()[0] == "1.1"


def _database_setting(probe: str, **environ: str) -> str:
    env = {**os.environ, "DATABASE_URL": "postgres://nobody@127.0.0.1:5432/none"}
    env.pop("DB_CONN_MAX_AGE", None)
    env.update(environ)
    result = subprocess.run(  # noqa: S603 (fixed command line)
        [sys.executable, "-c", f"import django; django.setup(); {probe}"],
        cwd=settings.BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "kijufaz.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def _options_with(value: str) -> str:
    return _database_setting(PROBE, DB_RANDOM_PAGE_COST=value)


def test_the_cost_is_configurable_and_can_be_left_to_the_server():
    assert _options_with("2") == "{'options': '-c random_page_cost=2.0'}"
    assert _options_with("") in ("None", "{}")


KEPT = (
    "from django.conf import settings; d = settings.DATABASES['default']; "
    "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
)


def test_connections_are_kept_between_requests_and_checked_before_reuse():
    assert _database_setting(KEPT) == "600 True"
    assert _database_setting(KEPT, DB_CONN_MAX_AGE="0") == "0 True"
