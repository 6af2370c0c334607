"""Celery tasks: thin wrappers that take ids and call the services."""

import datetime

from celery import shared_task

from cases.models import Region
from core.figures import REFRESH_GRACE_SECONDS

from .dashboard import dashboard


# A refresh still queued when the page has stopped waiting for it is done by the page.
@shared_task(ignore_result=True, expires=REFRESH_GRACE_SECONDS)
def compute_dashboard(year: int, region_ids: list[int], today: str) -> None:
    """The current figures of a dashboard a page showed older figures of."""
    regions = Region.objects.filter(pk__in=region_ids).order_by("name")
    dashboard(year, regions, datetime.date.fromisoformat(today))
