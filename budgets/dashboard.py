"""The department head's budget dashboard: every figure for a year, all regions at once."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, DecimalField, Exists, OuterRef, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from cases.models import AMBULANT_SETTINGS, Family, Help, LegalBasis, Setting
from core import charts
from core.periods import month_end

from .models import ServiceContract, SubBudgetKind
from .selectors import (
    ZERO,
    billed_days_expression,
    committed_by_region,
    flexible_spent_by,
    money,
    planned_by_contract,
    stationary_by,
    stationary_rates,
)

MONTHS = range(1, 13)


def month_bounds(year: int, month: int) -> tuple[datetime.date, datetime.date]:
    first = datetime.date(year, month, 1)
    return first, month_end(first)


def as_of_for(year: int, today: datetime.date) -> datetime.date:
    return min(max(today, datetime.date(year, 1, 1)), datetime.date(year, 12, 31))


def ratio(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


@dataclass
class SubBudgetFigures:
    kind: str
    planned: Decimal = ZERO
    booked: Decimal = ZERO
    committed: Decimal = ZERO
    forecast: Decimal = ZERO

    @property
    def label(self) -> str:
        return SubBudgetKind(self.kind).label

    @property
    def available(self) -> Decimal:
        return self.planned - self.booked - self.committed

    @property
    def utilisation(self) -> Decimal | None:
        return ratio(self.booked + self.committed, self.planned)

    @property
    def forecast_gap(self) -> Decimal:
        return self.planned - self.forecast


@dataclass
class RegionYear:
    contract: ServiceContract | None
    region_id: int
    region_name: str
    flexible: SubBudgetFigures = field(default_factory=lambda: SubBudgetFigures("flexible"))
    stationary: SubBudgetFigures = field(default_factory=lambda: SubBudgetFigures("stationary"))
    stationary_days: int = 0
    families_reached: int = 0
    monthly_flexible: list = field(default_factory=lambda: [ZERO] * 12)
    monthly_stationary: list = field(default_factory=lambda: [ZERO] * 12)
    monthly_ambulant: list = field(default_factory=lambda: [0] * 12)
    monthly_active: list = field(default_factory=lambda: [0] * 12)
    as_of: datetime.date | None = None

    @property
    def spent(self) -> Decimal:
        return self.flexible.booked + self.stationary.booked

    @property
    def cost_per_family(self) -> Decimal | None:
        if not self.families_reached:
            return None
        return money(self.spent / self.families_reached)

    @property
    def ambulant_share_by_cost(self) -> Decimal | None:
        return ratio(self.flexible.booked, self.spent)

    def monthly_share_by_count(self) -> list:
        return [
            ratio(a, n) for a, n in zip(self.monthly_ambulant, self.monthly_active, strict=True)
        ]

    def monthly_share_by_cost(self) -> list:
        # The running month is not booked yet: its share would be misleading, so it is a gap.
        open_month = 13
        if self.as_of is not None:
            month_done = (self.as_of + datetime.timedelta(days=1)).day == 1
            open_month = self.as_of.month + 1 if month_done else self.as_of.month
        return [
            ratio(f, f + s) if month < open_month else None
            for month, f, s in zip(
                MONTHS, self.monthly_flexible, self.monthly_stationary, strict=True
            )
        ]

    def cumulative_plan(self) -> list:
        planned = self.flexible.planned + self.stationary.planned
        return [money(planned * m / 12) for m in MONTHS]

    def cumulative_spent(self) -> list:
        total, out = ZERO, []
        for f, s in zip(self.monthly_flexible, self.monthly_stationary, strict=True):
            total += f + s
            out.append(total)
        return out


def _monthly_stationary(region_ids, year: int, as_of: datetime.date) -> dict[int, list]:
    """Stationary cost per region and month up to `as_of`, in ONE query."""
    aggregates = {}
    for month in MONTHS:
        start, end = month_bounds(year, month)
        if start > as_of:
            aggregates[f"m{month}"] = Value(ZERO, output_field=DecimalField())
            continue
        end = min(end, as_of)
        aggregates[f"m{month}"] = Sum(
            billed_days_expression(start, end) * Coalesce("amount", Value(ZERO)),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        )
    rows = (
        stationary_rates(region_ids)
        .filter(help__start__lte=datetime.date(year, 12, 31))
        .filter(Q(help__end__isnull=True) | Q(help__end__gt=datetime.date(year, 1, 1)))
        .values("help__case__family__region")
        .annotate(**aggregates)
    )
    return {r["help__case__family__region"]: [money(r[f"m{m}"]) for m in MONTHS] for r in rows}


def _monthly_active_helps(region_ids, year: int) -> dict[tuple[int, bool], list]:
    """Active helps per region, month and ambulant-or-not in ONE query."""
    aggregates = {}
    for month in MONTHS:
        start, end = month_bounds(year, month)
        aggregates[f"m{month}"] = Count(
            "id", filter=Q(start__lte=end) & (Q(end__isnull=True) | Q(end__gte=start))
        )
    rows = (
        Help.objects.active_in(datetime.date(year, 1, 1), datetime.date(year, 12, 31))
        .filter(case__family__region__in=region_ids)
        .values("case__family__region", "setting")
        .annotate(**aggregates)
    )
    out: dict[tuple[int, bool], list] = defaultdict(lambda: [0] * 12)
    for r in rows:
        key = (r["case__family__region"], r["setting"] in AMBULANT_SETTINGS)
        out[key] = [a + r[f"m{m}"] for a, m in zip(out[key], MONTHS, strict=True)]
    return out


def families_reached_by_region(region_ids, start: datetime.date, end: datetime.date) -> dict:
    """Families with an active help in the period plus families of registered participants."""
    from providers.models import GroupSession

    with_help = Help.objects.active_in(start, end).filter(case__family=OuterRef("pk"))
    in_group = GroupSession.objects.filter(
        date__gte=start, date__lte=end, registered_participants__family=OuterRef("pk")
    )
    rows = (
        Family.objects.filter(region__in=region_ids)
        .filter(Exists(with_help) | Exists(in_group))
        .values("region")
        .annotate(n=Count("id"))
    )
    return {r["region"]: r["n"] for r in rows}


def region_years(year: int, regions, today: datetime.date, detailed: bool = True) -> list:
    """Figures of every given region for one year (a constant number of queries)."""
    regions = list(regions)
    region_ids = [r.pk for r in regions]
    contracts = {
        c.region_id: c for c in ServiceContract.objects.filter(year=year, region__in=region_ids)
    }
    as_of = as_of_for(year, today)
    first = datetime.date(year, 1, 1)
    result = {r.pk: RegionYear(contracts.get(r.pk), r.pk, r.name, as_of=as_of) for r in regions}

    planned = planned_by_contract(list(contracts.values()), as_of)
    for region_id, contract in contracts.items():
        for kind in SubBudgetKind.values:
            getattr(result[region_id], kind).planned = planned[(contract.pk, kind)]

    for row in flexible_spent_by(region_ids, first, as_of):
        result[row["sub_budget__contract__region"]].flexible.booked = row["total"]
    for row in stationary_by(
        stationary_rates(region_ids), first, as_of, "help__case__family__region"
    ):
        ry = result[row["help__case__family__region"]]
        ry.stationary.booked, ry.stationary_days = row["cost"], row["days"]
    if as_of < datetime.date(year, 12, 31):
        for region_id, amount in committed_by_region(region_ids, as_of).items():
            result[region_id].stationary.committed = amount
    elapsed = (as_of - first).days + 1
    remaining = (datetime.date(year, 12, 31) - as_of).days
    for ry in result.values():
        run_rate = ry.flexible.booked / elapsed if elapsed else ZERO
        ry.flexible.forecast = money(ry.flexible.booked + run_rate * remaining)
        ry.stationary.forecast = ry.stationary.booked + ry.stationary.committed
    for region_id, n in families_reached_by_region(region_ids, first, as_of).items():
        result[region_id].families_reached = n

    if detailed:
        monthly_flex = flexible_spent_by(region_ids, first, as_of, "booked_on__month")
        for row in monthly_flex:
            ry = result[row["sub_budget__contract__region"]]
            ry.monthly_flexible[row["booked_on__month"] - 1] += row["total"]
        for region_id, months in _monthly_stationary(region_ids, year, as_of).items():
            result[region_id].monthly_stationary = months
        for (region_id, ambulant), months in _monthly_active_helps(region_ids, year).items():
            ry = result[region_id]
            ry.monthly_active = [a + b for a, b in zip(ry.monthly_active, months, strict=True)]
            if ambulant:
                ry.monthly_ambulant = months
    return list(result.values())


def drill_down(year: int, region_ids, today: datetime.date) -> dict:
    """Counts and costs by legal basis and by provider; groups under the threshold hidden."""
    threshold = settings.KIJUFAZ_SUPPRESSION_THRESHOLD
    first, last = datetime.date(year, 1, 1), as_of_for(year, today)
    helps = Help.objects.active_in(first, last).filter(case__family__region__in=region_ids)
    by_basis = helps.values("legal_basis").annotate(n=Count("id")).order_by("legal_basis")
    by_provider = (
        helps.values("provider__name", "setting")
        .annotate(n=Count("id"))
        .order_by("provider__name", "setting")
    )
    cost_by_basis = {
        r["help__legal_basis"]: r
        for r in stationary_by(stationary_rates(region_ids), first, last, "help__legal_basis")
    }
    basis_rows = []
    for row in by_basis:
        cost = cost_by_basis.get(row["legal_basis"])
        suppressed = row["n"] < threshold
        basis_rows.append(
            {
                "label": LegalBasis(row["legal_basis"]).label,
                "count": None if suppressed else row["n"],
                "cost": None if suppressed or cost is None else cost["cost"],
                "days": None if suppressed or cost is None else cost["days"],
            }
        )
    provider_rows = [
        {
            "provider": r["provider__name"],
            "setting": Setting(r["setting"]).label,
            "count": None if r["n"] < threshold else r["n"],
        }
        for r in by_provider
    ]
    return {"by_basis": basis_rows, "by_provider": provider_rows, "threshold": threshold}


def charts_for(ry: RegionYear) -> dict:
    """The budget charts of a region-year: the dashboard and the PDF report use these."""
    burn = charts.line_chart(
        {_("spent (cumulative)"): ry.cumulative_spent(), _("plan (linear)"): ry.cumulative_plan()},
        title=_("Spending against plan, %(region)s") % {"region": ry.region_name},
        ylabel="€",
    )
    share = charts.line_chart(
        {
            _("ambulant share by count"): ry.monthly_share_by_count(),
            _("ambulant share by cost"): ry.monthly_share_by_cost(),
        },
        title=_("Ambulant share, %(region)s") % {"region": ry.region_name},
        ylabel="%",
    )
    return {"burn_chart": burn, "share_chart": share, "month_labels": charts.MONTH_LABELS}
