"""Panels that controlling provides to pages of lower apps (the budget dashboard)."""

import datetime

from django import template
from django.conf import settings
from django.utils import timezone

from budgets.dashboard import as_of_for
from controlling.kpis import Period, compute_effectiveness
from controlling.reports import effectiveness_rows, effectiveness_tables

register = template.Library()


@register.simple_tag
def effectiveness_figures(year: int, regions, previous_too: bool) -> dict:
    """The effectiveness section: helps ended in the year (so far) and in the year before.

    Numbers only, suppressed like the controlling report; the same rows serve the report.
    """
    as_of = as_of_for(year, timezone.localdate())
    if as_of == datetime.date(year, 12, 31):
        period = Period.of_year(year)
    else:
        period = Period(datetime.date(year, 1, 1), as_of)
    previous = Period.of_year(year - 1)
    now = compute_effectiveness(regions=regions, period=period)
    before = compute_effectiveness(regions=regions, period=previous) if previous_too else None
    return {
        "period": period,
        "previous": previous,
        **effectiveness_rows([now, before]),
        "tables": effectiveness_tables(now),
        "threshold": settings.KIJUFAZ_SUPPRESSION_THRESHOLD,
    }
