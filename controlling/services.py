"""Controlling reports: request, claim, render into the archive, notify.

A job row is written in the same transaction as the request and its task is
queued on commit. The task first claims the row (pending → running) so a
redelivered message does no double work; a claim older than the task's hard
time limit belongs to a dead worker and may be taken over.
"""

import datetime
import hashlib
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core import figures
from core.audit import log_action
from core.models import AuditAction

from .models import JobStatus, ReportJob, ReportSubscription, report_key


def report_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def request_report(*, region, period, by=None, scheduled: bool = False) -> ReportJob:
    """Ask for a report; the same parameters return the same (archived) job."""
    from .tasks import render_report

    key = report_key(region.slug if region else "*", period.key)
    with transaction.atomic():
        job, created = ReportJob.objects.select_for_update().get_or_create(
            key=key,
            defaults={
                "region": region,
                "period_key": period.key,
                "period_start": period.start,
                "period_end": period.end,
                "requested_by": by,
                "scheduled": scheduled,
            },
        )
        queue = created
        if job.status == JobStatus.FAILED:
            job.status, job.error = JobStatus.PENDING, ""
            job.save(update_fields=["status", "error"])
            queue = True
        if by is not None:
            log_action(
                user=by,
                action=AuditAction.CREATE if created else AuditAction.VIEW,
                obj=job,
                changes={"period": period.label},
            )
        if queue:
            job_id = job.pk
            transaction.on_commit(lambda: render_report.delay(job_id))
    return job


def claim_job(job_id: int, *, now=None) -> ReportJob | None:
    """Atomically take a pending job (or one whose worker died); None if not ours."""
    now = now or timezone.now()
    stale = now - datetime.timedelta(seconds=settings.KIJUFAZ_REPORT_TIME_LIMIT)
    # A report whose worker died this often would loop for ever: give up visibly.
    exhausted = ReportJob.objects.filter(
        pk=job_id,
        status=JobStatus.RUNNING,
        started_at__lt=stale,
        attempts__gte=settings.KIJUFAZ_REPORT_MAX_ATTEMPTS,
    ).update(
        status=JobStatus.FAILED,
        finished_at=now,
        error="The report could not be finished after repeated attempts (worker lost).",
    )
    if exhausted:
        return None
    claimed = (
        ReportJob.objects.filter(pk=job_id)
        .filter(Q(status=JobStatus.PENDING) | Q(status=JobStatus.RUNNING, started_at__lt=stale))
        .update(status=JobStatus.RUNNING, started_at=now, attempts=F("attempts") + 1)
    )
    return ReportJob.objects.get(pk=job_id) if claimed else None


def write_atomically(path: Path, content: bytes) -> None:
    """Never a half-written file: write beside, flush to disk, then rename over."""
    handle, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pdf")
    try:
        with os.fdopen(handle, "wb") as tmp:
            tmp.write(content)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def render_and_archive(job: ReportJob) -> ReportJob:
    from .reports import render_report_pdf

    pdf = render_report_pdf(region=job.region, period=job.period)
    path = report_dir() / f"{job.key}.pdf"
    write_atomically(path, pdf)
    job.file = str(path.relative_to(settings.MEDIA_ROOT))
    job.checksum = hashlib.sha256(pdf).hexdigest()
    job.size = len(pdf)
    job.status = JobStatus.DONE
    job.finished_at = timezone.now()
    job.error = ""
    job.save(update_fields=["file", "checksum", "size", "status", "finished_at", "error"])
    # robust: the report is archived; a mail server that is down must not mark it failed.
    transaction.on_commit(lambda: notify_subscribers(job), robust=True)
    return job


def mark_failed(job_id: int, error: str) -> None:
    ReportJob.objects.filter(pk=job_id).update(
        status=JobStatus.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def notify_subscribers(job: ReportJob) -> int:
    subscriptions = ReportSubscription.objects.filter(
        Q(region__isnull=True) | Q(region=job.region_id)
    ).select_related("user")
    recipients = sorted({s.user.email for s in subscriptions if s.user.email})
    if not recipients:
        return 0
    link = f"{settings.KIJUFAZ_BASE_URL}{reverse('controlling:report_download', args=[job.pk])}"
    # Blind copies: subscribers do not see each other's addresses.
    EmailMessage(
        subject=_("Controlling report ready: %(report)s") % {"report": job},
        body=_("The controlling report %(report)s is ready:\n%(link)s")
        % {"report": job, "link": link},
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[settings.DEFAULT_FROM_EMAIL],
        bcc=recipients,
    ).send()
    return len(recipients)


def requeue_stuck_jobs(*, pending_after: int = 120, now=None) -> int:
    """The sweeper: queue again what was lost (pending too long, or a dead worker's claim)."""
    from .tasks import render_report

    now = now or timezone.now()
    pending = now - datetime.timedelta(seconds=pending_after)
    stale = now - datetime.timedelta(seconds=settings.KIJUFAZ_REPORT_TIME_LIMIT)
    stuck = list(
        ReportJob.objects.filter(
            Q(status=JobStatus.PENDING, requested_at__lt=pending)
            | Q(status=JobStatus.RUNNING, started_at__lt=stale)
        ).values_list("pk", flat=True)
    )
    for job_id in stuck:
        render_report.delay(job_id)
    return len(stuck)


WARMED_KEY = "controlling:figures-warmed"


def warm_dashboard_figures(today: datetime.date | None = None) -> bool:
    """Compute the office-wide budget dashboard of this year (its charts and its
    effectiveness section too) ahead of the first visit after a change, so the
    department head finds it in the cache (beat: every minute). Nothing to do while
    the data and the day are unchanged."""
    from budgets.dashboard import charts_for, dashboard
    from cases.models import Region

    from .kpis import compute_effectiveness, effectiveness_periods

    generation = figures.generation()
    today = today or timezone.localdate()
    # A new day is a new as-of date: the figures are computed again even if unchanged.
    warmed = f"{generation}:{today}"
    if generation is None or cache.get(WARMED_KEY) == warmed:
        return False
    regions = list(Region.objects.order_by("name"))
    for figures_of_region in dashboard(today.year, regions, today).current:
        if figures_of_region.contract:
            charts_for(figures_of_region)  # drawn into the chart cache
    for period in effectiveness_periods(today.year, today):
        compute_effectiveness(regions=None, period=period)  # as the page asks for it
    cache.set(WARMED_KEY, warmed, None)
    return True
