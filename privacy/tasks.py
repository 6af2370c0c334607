"""Celery tasks of the retention job: thin wrappers around privacy.services."""

import logging

from celery import shared_task

from . import services
from .models import RetentionRun, RunStatus

log = logging.getLogger(__name__)


@shared_task
def propose_retention_run() -> int | None:
    """Beat entry point (nightly): snapshot what is due as a proposed run; no data changes."""
    run = services.propose_run()
    return run.pk if run else None


@shared_task(acks_late=True, reject_on_worker_lost=True)
def execute_retention_run(run_id: int) -> str:
    try:
        run = services.execute_run(run_id)
    except Exception as exc:
        log.exception("Retention run %s failed", run_id)
        RetentionRun.objects.filter(pk=run_id).update(
            status=RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        return RunStatus.FAILED
    return run.status if run else "not approved"
