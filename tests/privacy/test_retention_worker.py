"""The retention job through a real Celery worker and Redis: the nightly beat task
proposes a run, the data protection officer's approval queues its execution, and the
worker process anonymises the due case file (issue #6)."""

import importlib

import pytest
from django_celery_beat.models import PeriodicTask

from cases.models import Case
from kijufaz.celery import app
from privacy import services
from privacy.models import RetentionRun, RunStatus
from tests.celery_worker import wait_for
from tests.privacy.test_retention import ELEVEN_YEARS_AGO, closed_case_with_help, ten_year_rules

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

default_rules = importlib.import_module("privacy.migrations.0002_default_rules_and_schedule")


def test_beat_proposes_and_an_approved_run_is_executed_by_the_worker(
    workers, asd, provider, datenschutz
):
    # The rules and the schedule as deployed come from tests/privacy/conftest.py.
    ten_year_rules()
    old = closed_case_with_help(asd, provider, ended=ELEVEN_YEARS_AGO, name="Altmann")
    nightly = PeriodicTask.objects.get(name=default_rules.SCHEDULE)
    workers.start()

    # What beat sends at 02:30.
    app.send_task(nightly.task)
    run = wait_for(
        lambda: RetentionRun.objects.filter(status=RunStatus.PROPOSED).first(),
        "the proposed run",
        workers,
    )
    assert Case.objects.get(pk=old.pk).anonymised_at is None  # proposing changes nothing

    services.approve_run(run=run, by=datenschutz)  # queues the execution on commit

    run = wait_for(
        lambda: RetentionRun.objects.filter(pk=run.pk, status=RunStatus.EXECUTED).first(),
        "the run to be executed",
        workers,
    )
    old.refresh_from_db()
    assert old.anonymised_at is not None
    assert old.family.name == services.ANONYMISED_FAMILY_NAME
    assert run.protocol.exists()
