"""Celery tasks of core: thin wrappers around the services."""

from celery import shared_task

from . import audit, drafts, figures


@shared_task(ignore_result=True)
def compact_hours_changes() -> int:
    """Beat entry point (nightly): one change line per month, same generations."""
    return figures.compact_hours_changes()


@shared_task(ignore_result=True)
def delete_stale_drafts() -> int:
    """Beat entry point (nightly): drafts nobody touched for 30 days hold personal data
    nobody will save any more (data minimisation)."""
    return drafts.delete_stale_drafts()


@shared_task(ignore_result=True)
def anchor_audit_log() -> None:
    """Beat entry point (hourly): the head of the audit chain into the anchor file."""
    audit.anchor_chain()
