"""Panels that controlling provides to pages of lower apps (the budget dashboard)."""

from django import template
from django.conf import settings
from django.utils import timezone

from controlling.kpis import compute_effectiveness, effectiveness_periods
from controlling.reports import effectiveness_rows, effectiveness_tables

register = template.Library()


@register.simple_tag
def effectiveness_figures(year: int, regions, previous_too: bool) -> dict:
    """The effectiveness section: helps ended in the year (so far) and in the year before.

    Numbers only, suppressed like the controlling report; the same rows serve the report.
    """
    period, previous = effectiveness_periods(year, timezone.localdate())
    now = compute_effectiveness(regions=regions, period=period)
    before = compute_effectiveness(regions=regions, period=previous) if previous_too else None
    return {
        "period": period,
        "previous": previous,
        **effectiveness_rows([now, before]),
        "tables": effectiveness_tables(now),
        "threshold": settings.KIJUFAZ_SUPPRESSION_THRESHOLD,
    }
