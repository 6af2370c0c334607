"""Celery tasks of core: thin wrappers around the services."""

from celery import shared_task

from . import figures


@shared_task(ignore_result=True)
def compact_hours_changes() -> int:
    """Beat entry point (nightly): one change line per month, same generations."""
    return figures.compact_hours_changes()
