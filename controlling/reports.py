"""The controlling report: figures from one database snapshot, rendered to PDF bytes.

Pseudonymised by construction: it shows counts, sums and shares only, and groups
smaller than the suppression threshold are replaced by a dash.
"""

import datetime
from contextlib import contextmanager
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from budgets.dashboard import charts_for, region_years
from cases.models import HelpEndReason, LegalBasis, Region, Setting
from core.pdf import render_pdf
from providers.models import HourKind

from .kpis import MONTH, QUARTER, Effectiveness, Period, kpi_comparison, suppress_count
from .models import ActionItem, Workshop


def last_complete_period(kind: str, today: datetime.date | None = None) -> Period:
    """The month or quarter that ended most recently."""
    today = today or timezone.localdate()
    if kind == MONTH:
        before = today.replace(day=1) - datetime.timedelta(days=1)
        return Period.of_month(before.year, before.month)
    if kind == QUARTER:
        quarter_start = datetime.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        before = quarter_start - datetime.timedelta(days=1)
        return Period.of_quarter(before.year, (before.month + 2) // 3)
    raise ValueError(f"Unknown schedule kind {kind!r}")


@contextmanager
def snapshot():
    """All figures of one report from one consistent view of the database.

    On PostgreSQL the transaction runs REPEATABLE READ (read only), so bookings
    committed while the report is built cannot make page 1 and page 3 disagree.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.1"))


def kpi_rows(comparison: dict) -> list[dict]:
    """The KPI table: label, current, previous period, same period last year, unit."""
    cur, prev, last = (comparison[k] for k in ("current", "previous", "same_last_year"))

    def row(label, attr, unit="", fmt=None):
        values = [getattr(k, attr) for k in (cur, prev, last)]
        if fmt:
            values = [fmt(v) if v is not None else None for v in values]
        return {"label": label, "values": values, "unit": unit}

    return [
        row(_("People reached"), "people_reached"),
        row(_("Families reached"), "families_reached"),
        row(_("Group sessions"), "group_sessions"),
        row(_("Group participations"), "group_participations"),
        row(_("Active helps"), "active_helps"),
        row(_("New helps"), "new_helps"),
        row(_("Ended helps"), "ended_helps"),
        row(_("Ambulant share by count"), "ambulant_share_by_count", "%"),
        row(_("Ambulant share by cost"), "ambulant_share_by_cost", "%"),
        row(_("Stationary days"), "stationary_days"),
        row(_("Stationary cost"), "stationary_cost", "€"),
        row(_("Flexible spent"), "flexible_spent", "€"),
        row(_("Cost per family reached"), "cost_per_family_reached", "€"),
        row(_("Returns into the region"), "returns"),
        row(_("Help duration, mean (days)"), "help_duration_mean"),
        row(_("Help duration, median (days)"), "help_duration_median"),
        row(_("Share of case-unspecific hours"), "case_unspecific_share", "%"),
        row(_("Share of cross-case hours"), "cross_case_share", "%"),
        row(_("Hours delivered"), "minutes_total", "h", fmt=_hours),
    ]


def effectiveness_rows(effects: list[Effectiveness | None]) -> dict:
    """The effectiveness figures side by side, one value per period (None: not shown).

    The values are the suppressed ones (`Effectiveness.overall`): the report and the
    dashboard are read by roles without case access. The budget dashboard uses this too.
    """
    overall = [effect.overall if effect else {} for effect in effects]

    def row(label, key, unit=""):
        return {"label": label, "values": [shown.get(key) for shown in overall], "unit": unit}

    return {
        "figures": [
            row(_("Goals reached (professional rating 4 or 5)"), "reached_share", "%"),
            row(_("Goals reached (own rating 4 or 5)"), "reached_share_own", "%"),
            row(_("Rating change, professional (mean of end − start)"), "change_professional"),
            row(_("Rating change, own rating (mean of end − start)"), "change_own"),
            row(_("Goals with an end rating"), "goals"),
            row(_("Helps ended"), "ended"),
            row(_("Ended as planned"), "ended_as_planned_share", "%"),
        ],
        "by_reason": [
            {
                "label": label,
                "values": [
                    effect.ended_by_reason_shown[key] if effect else None for effect in effects
                ],
                "unit": "",
            }
            for key, label in HelpEndReason.choices
        ],
    }


def effectiveness_tables(effect: Effectiveness) -> list[dict]:
    """The breakdowns by legal basis, setting and provider, already suppressed."""
    return [
        {
            "title": _("By legal basis"),
            "column": _("Legal basis"),
            "rows": [
                {"label": LegalBasis(key).label, **values}
                for key, values in effect.by_legal_basis.items()
            ],
        },
        {
            "title": _("By setting"),
            "column": _("Setting"),
            "rows": [
                {"label": Setting(key).label, **values} for key, values in effect.by_setting.items()
            ],
        },
        {
            "title": _("By provider"),
            "column": _("Provider"),
            "rows": [{"label": name, **values} for name, values in effect.by_provider.items()],
        },
    ]


def build_context(*, region: Region | None, period: Period, today=None) -> dict:
    today = today or timezone.localdate()
    regions = [region] if region else list(Region.objects.order_by("name"))
    comparison = kpi_comparison(regions=regions, period=period)
    current = comparison["current"]
    years = region_years(period.end.year, regions, min(today, period.end))
    workshops = Workshop.objects.filter(date__lte=period.end).order_by("-date")
    open_items = ActionItem.objects.open().filter(workshop__date__lte=period.end)
    if region:
        workshops = workshops.filter(region=region)
        open_items = open_items.filter(workshop__region=region)
    latest = workshops.prefetch_related("goal_reviews").first()
    return {
        "title": _("Controlling report"),
        "region_name": region.name if region else _("all regions"),
        "period": period,
        "previous": period.previous(),
        "last_year": period.same_last_year(),
        "created_at": timezone.localtime(),
        "current": current,
        "rows": kpi_rows(comparison),
        "by_basis": [
            {
                "label": LegalBasis(key).label,
                "active": suppress_count(n),
                "new": suppress_count(current.new_by_legal_basis.get(key, 0)),
                "ended": suppress_count(current.ended_by_legal_basis.get(key, 0)),
            }
            for key, n in current.active_by_legal_basis.items()
        ],
        "effectiveness": effectiveness_rows(
            [comparison[key].effectiveness for key in ("current", "previous", "same_last_year")]
        ),
        "effectiveness_tables": effectiveness_tables(current.effectiveness),
        "hours_by_kind": [
            {"label": HourKind(key).label, "hours": _hours(m)}
            for key, m in current.minutes_by_kind.items()
        ],
        "hours_by_provider": [
            {"label": name, "hours": _hours(m)}
            for name, m in sorted(current.minutes_by_provider.items())
        ],
        "budgets": [
            {
                "region": ry.region_name,
                "figures": (ry.flexible, ry.stationary),
                **(charts_for(ry) if ry.contract else {}),
            }
            for ry in years
        ],
        "workshop": latest,
        "open_items": list(open_items.select_related("workshop")[:50]),
        "threshold": settings.KIJUFAZ_SUPPRESSION_THRESHOLD,
    }


def render_report_pdf(*, region: Region | None, period: Period) -> bytes:
    with snapshot():
        context = build_context(region=region, period=period)
        # Render inside the snapshot: the template must not see a later state.
        return render_pdf("controlling/report_pdf.html", context)
