"""Celery tasks: thin wrappers that take ids and call the services."""

import logging

from celery import shared_task
from django.conf import settings

from cases.models import Region

from . import services
from .models import JobStatus, ReportJob

log = logging.getLogger(__name__)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    # The soft limit lets a report be marked failed before the hard kill: 30 s earlier,
    # or a tenth earlier for short limits (a negative one would fire at once).
    soft_time_limit=settings.KIJUFAZ_REPORT_TIME_LIMIT
    - min(30, settings.KIJUFAZ_REPORT_TIME_LIMIT // 10),
    time_limit=settings.KIJUFAZ_REPORT_TIME_LIMIT,
    max_retries=None,
)
def render_report(self, job_id: int) -> str:
    job = services.claim_job(job_id)
    if job is None:
        current = ReportJob.objects.filter(pk=job_id).first()
        if current is not None and current.status == JobStatus.RUNNING:
            # Another worker holds the claim; look again once it should be done or dead.
            raise self.retry(countdown=settings.KIJUFAZ_REPORT_RETRY_SECONDS)
        return current.status if current else "missing"
    try:
        services.render_and_archive(job)
    except Exception as exc:
        log.exception("Report %s failed", job_id)
        services.mark_failed(job_id, f"{type(exc).__name__}: {exc}")
        return JobStatus.FAILED
    return JobStatus.DONE


@shared_task
def render_scheduled_reports(kind: str, region: str | None = None) -> int:
    """Beat entry point: the last complete month or quarter, per region."""
    from .reports import last_complete_period

    regions = Region.objects.all() if region is None else Region.objects.filter(slug=region)
    period = last_complete_period(kind)
    for item in regions:
        services.request_report(region=item, period=period, scheduled=True)
    return len(regions)


@shared_task
def sweep_stuck_reports() -> int:
    return services.requeue_stuck_jobs()


@shared_task(ignore_result=True)
def warm_dashboard_figures() -> bool:
    return services.warm_dashboard_figures()
