"""The department head's budget dashboard: every figure for a year, all regions at once."""

import datetime
import hashlib
import operator
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce

from celery import current_app
from django.conf import settings
from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from cases.models import AMBULANT_SETTINGS, Family, Help, LegalBasis, Setting
from cases.regions import in_regions
from core import charts, content_cache
from core.figures import UNREAD, Computed, cached_or_last
from core.periods import month_end

from .models import Posting, ServiceContract, SubBudgetKind
from .selectors import (
    ZERO,
    billed_days_expression,
    billed_from,
    committed_cost,
    in_force_on,
    money,
    planned_by_contract,
    stationary_rates,
)

MONTHS = range(1, 13)
CHART_CACHE_SECONDS = 24 * 3600


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


@dataclass(frozen=True)
class ContractRef:
    """What the figures show of a region's contract. The figures are cached, and a
    model instance would cost more to read back from the cache than all the figures."""

    pk: int
    title: str

    @classmethod
    def of(cls, contract: ServiceContract | None) -> "ContractRef | None":
        return None if contract is None else cls(contract.pk, contract.title)


@dataclass
class RegionYear:
    contract: ContractRef | None
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


def _stationary_rows(region_ids, spans: list, by_legal_basis: bool) -> list[dict]:
    """Stationary days and cost per region (and legal basis) for each span, in ONE query.

    `spans` are (tag, year, as_of, monthly): a monthly span gets days d{tag}_{m} and cost
    c{tag}_{m} for every month up to `as_of`, the others d{tag} and c{tag} for the year up
    to `as_of`; the commitment k{tag} as of `as_of` is added if the year is still running.
    """
    money_field = DecimalField(max_digits=14, decimal_places=2)
    aggregates = {}

    def add(name: str, start: datetime.date, end: datetime.date) -> None:
        days = billed_days_expression(start, end)
        aggregates[f"d{name}"] = Sum(days)
        aggregates[f"c{name}"] = Sum(
            days * Coalesce("amount", Value(ZERO)), output_field=money_field
        )

    for tag, year, as_of, monthly in spans:
        if monthly:
            for month in MONTHS:
                start, end = month_bounds(year, month)
                if start <= as_of:
                    add(f"{tag}_{month}", start, min(end, as_of))
        else:
            add(tag, datetime.date(year, 1, 1), as_of)
        if as_of < datetime.date(year, 12, 31):
            aggregates[f"k{tag}"] = committed_cost(as_of, filter=in_force_on(as_of))
    first = datetime.date(min(span[1] for span in spans), 1, 1)
    last = datetime.date(max(span[1] for span in spans), 12, 31)
    group = ["help__case__family__region"] + (["help__legal_basis"] if by_legal_basis else [])
    return list(
        stationary_rates(region_ids)
        .filter(help__start__lte=last, valid_from__lte=last)
        .filter(billed_from(first))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=first))
        .values(*group)
        .annotate(**aggregates)
        .order_by()
    )


def _help_rows(region_ids, year: int, as_of: datetime.date) -> list[dict]:
    """Helps active per month of `year` and up to `as_of`, grouped by region, setting,
    legal basis and provider: the charts and the drill-down from ONE query."""
    aggregates = {}
    for month in MONTHS:
        start, end = month_bounds(year, month)
        aggregates[f"m{month}"] = Count(
            "id", filter=Q(start__lte=end) & (Q(end__isnull=True) | Q(end__gte=start))
        )
    first = datetime.date(year, 1, 1)
    aggregates["so_far"] = Count(
        "id", filter=Q(start__lte=as_of) & (Q(end__isnull=True) | Q(end__gte=first))
    )
    return list(
        Help.objects.active_in(first, datetime.date(year, 12, 31))
        .filter(case__family__region__in=region_ids)
        .values("case__family__region", "setting", "legal_basis", "provider__name")
        .annotate(**aggregates)
        .order_by()
    )


def _reached(region_ids, start: datetime.date, end: datetime.date):
    from providers.models import GroupSession

    # IN (subquery), not EXISTS per family: PostgreSQL hashes each subquery once. Each
    # hashes only the families of the regions (a region's figures: a 25th of the city),
    # and for every region nothing is joined to check the region (cases.regions).
    with_help = (
        Help.objects.active_in(start, end)
        .filter(in_regions("case__family__region", region_ids))
        .values("case__family")
    )
    in_group = (
        GroupSession.objects.filter(date__gte=start, date__lte=end)
        .filter(in_regions("registered_participants__family__region", region_ids))
        .values("registered_participants__family")
    )
    return Q(pk__in=with_help) | Q(pk__in=in_group)


def families_reached_in(region_ids, periods: list) -> dict[int, list[int]]:
    """Families with an active help or a registered participant, per region, for each
    (start, end) period, in ONE query."""
    aggregates = {
        f"n{i}": Count("id", filter=_reached(region_ids, start, end))
        for i, (start, end) in enumerate(periods)
    }
    rows = Family.objects.filter(in_regions("region", region_ids))
    rows = rows.values("region").annotate(**aggregates)
    return {r["region"]: [r[f"n{i}"] for i in range(len(periods))] for r in rows}


def families_reached_by_region(region_ids, start: datetime.date, end: datetime.date) -> dict:
    """Families with an active help in the period plus families of registered participants."""
    return {
        region: counts[0]
        for region, counts in families_reached_in(region_ids, [(start, end)]).items()
        if counts[0]
    }


def _flexible_rows(region_ids, spans: list) -> list[dict]:
    """Flexible postings per region, year and month for the (start, end) spans (ONE query)."""
    booked = reduce(
        operator.or_, (Q(booked_on__gte=start, booked_on__lte=end) for start, end in spans)
    )
    rows = (
        Posting.objects.filter(
            booked,
            sub_budget__kind=SubBudgetKind.FLEXIBLE,
            sub_budget__contract__region__in=region_ids,
        )
        .values("sub_budget__contract__region", "booked_on__year", "booked_on__month")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return [{**row, "total": money(row["total"])} for row in rows]


def _collect(
    year: int,
    regions,
    today: datetime.date,
    *,
    detailed: bool,
    previous: bool,
    contracts=None,
    reach: bool = True,
):
    """The figures of `year` (and of the year before), a constant number of queries:
    contracts (unless given), plan lines, reallocations, flexible postings, stationary
    costs with the commitment and families reached (unless `reach` is off), plus the
    helps per month when `detailed`."""
    regions = list(regions)
    region_ids = [r.pk for r in regions]
    years = [year, year - 1] if previous else [year]
    as_of = {y: as_of_for(y, today) for y in years}
    if contracts is None:
        contracts = ServiceContract.objects.filter(year__in=years, region__in=region_ids)
    contracts = {(c.year, c.region_id): c for c in contracts}
    figures = {
        y: {
            r.pk: RegionYear(ContractRef.of(contracts.get((y, r.pk))), r.pk, r.name, as_of=as_of[y])
            for r in regions
        }
        for y in years
    }
    planned = planned_by_contract(list(contracts.values()), as_of)
    for (y, region_id), contract in contracts.items():
        for kind in SubBudgetKind.values:
            getattr(figures[y][region_id], kind).planned = planned[(contract.pk, kind)]

    spans = [(datetime.date(y, 1, 1), as_of[y]) for y in years]
    for row in _flexible_rows(region_ids, spans):
        ry = figures[row["booked_on__year"]][row["sub_budget__contract__region"]]
        ry.flexible.booked += row["total"]
        ry.monthly_flexible[row["booked_on__month"] - 1] += row["total"]

    tags = {y: f"y{i}" for i, y in enumerate(years)}
    stationary = _stationary_rows(
        region_ids,
        [(tags[y], y, as_of[y], detailed and y == year) for y in years],
        by_legal_basis=detailed,
    )
    for row in stationary:
        for y in years:
            ry, tag = figures[y][row["help__case__family__region"]], tags[y]
            if detailed and y == year:
                for month in MONTHS:
                    cost = money(row.get(f"c{tag}_{month}"))
                    ry.monthly_stationary[month - 1] += cost
                    ry.stationary.booked += cost
                    ry.stationary_days += row.get(f"d{tag}_{month}") or 0
            else:
                ry.stationary.booked += money(row[f"c{tag}"])
                ry.stationary_days += row[f"d{tag}"] or 0
            ry.stationary.committed += money(row.get(f"k{tag}"))

    for y in years:
        first, last = datetime.date(y, 1, 1), datetime.date(y, 12, 31)
        elapsed = (as_of[y] - first).days + 1
        remaining = (last - as_of[y]).days
        for ry in figures[y].values():
            run_rate = ry.flexible.booked / elapsed if elapsed else ZERO
            ry.flexible.forecast = money(ry.flexible.booked + run_rate * remaining)
            ry.stationary.forecast = ry.stationary.booked + ry.stationary.committed
    periods = [(datetime.date(y, 1, 1), as_of[y]) for y in years]
    reached = families_reached_in(region_ids, periods) if reach else {}
    for region_id, counts in reached.items():
        for y, n in zip(years, counts, strict=True):
            figures[y][region_id].families_reached = n

    helps = []
    if detailed:
        helps = _help_rows(region_ids, year, as_of[year])
        for row in helps:
            ry = figures[year][row["case__family__region"]]
            months = [row[f"m{m}"] for m in MONTHS]
            ry.monthly_active = [a + b for a, b in zip(ry.monthly_active, months, strict=True)]
            if row["setting"] in AMBULANT_SETTINGS:
                ry.monthly_ambulant = [
                    a + b for a, b in zip(ry.monthly_ambulant, months, strict=True)
                ]
    return figures, stationary, helps


def region_years(
    year: int, regions, today: datetime.date, detailed: bool = True, **options
) -> list:
    """Figures of every given region for one year (a constant number of queries).

    `contracts=[...]` passes the year's contracts already loaded; `reach=False` leaves
    out the families reached (and their query) for pages that do not show them."""
    figures, __, __ = _collect(year, regions, today, detailed=detailed, previous=False, **options)
    return list(figures[year].values())


@dataclass
class Dashboard:
    current: list
    previous: dict
    drill: dict


def dashboard(year: int, regions, today: datetime.date, known_generation=UNREAD) -> Dashboard:
    """Everything the department head's dashboard shows of `year` and the year before,
    the drill-down computed from the same result sets (cached until the data changes:
    `core.figures`; `known_generation` is one the caller read just before)."""
    return _cached(year, list(regions), today, known_generation, refresh=None).value


def dashboard_or_last(
    year: int, regions, today: datetime.date, known_generation=UNREAD, *, placeholder=True
) -> Computed[Dashboard]:
    """The dashboard for a page: after a change the last figures at once, marked
    `refreshing`, while the task `budgets.tasks.compute_dashboard` computes the current
    ones (`core.figures.cached_or_last`); with no figures yet an empty dashboard, marked
    `placeholder` too (`placeholder=False`: computed here then, e.g. for a chart)."""
    from .tasks import compute_dashboard

    regions = list(regions)
    ids = [r.pk for r in regions]

    def refresh():
        # With the broker down the page computes the figures itself, at once: no retries
        # (they would keep the page waiting for seconds).
        options = {**current_app.conf.broker_transport_options, "max_retries": 0}
        with current_app.connection_for_write(transport_options=options) as connection:
            compute_dashboard.apply_async(
                (year, ids, today.isoformat()), connection=connection, retry=False
            )

    return _cached(year, regions, today, known_generation, refresh=refresh, placeholder=placeholder)


def _cached(
    year: int, regions: list, today: datetime.date, known_generation, refresh, placeholder=False
):
    as_of = (as_of_for(year, today), as_of_for(year - 1, today))
    threshold = settings.KIJUFAZ_SUPPRESSION_THRESHOLD  # the drill-down hides small groups
    ids = sorted(r.pk for r in regions)
    return cached_or_last(
        ("dashboard", year, *as_of, threshold, ids),
        lambda: _dashboard(year, regions, today),
        # The last figures may be of an earlier day: shown until today's are computed.
        last_parts=("dashboard", year, threshold, ids),
        refresh=refresh,
        placeholder=_no_figures if placeholder else None,
        known_generation=known_generation,
    )


def _no_figures() -> Dashboard:
    return Dashboard(
        current=[],
        previous={},
        drill={
            "by_basis": [],
            "by_provider": [],
            "threshold": settings.KIJUFAZ_SUPPRESSION_THRESHOLD,
        },
    )


def _dashboard(year: int, regions: list, today: datetime.date) -> Dashboard:
    by_year, stationary, helps = _collect(year, regions, today, detailed=True, previous=True)
    return Dashboard(
        current=list(by_year[year].values()),
        previous=by_year[year - 1],
        drill=_drill(stationary, helps),
    )


def drill_down(year: int, region_ids, today: datetime.date) -> dict:
    """Counts and costs by legal basis and by provider; groups under the threshold hidden."""
    as_of = as_of_for(year, today)
    stationary = _stationary_rows(region_ids, [("y0", year, as_of, True)], by_legal_basis=True)
    return labelled(_drill(stationary, _help_rows(region_ids, year, as_of)))


def labelled(drill: dict) -> dict:
    """The drill-down with the labels of legal bases and settings in the current
    language. The cached figures keep the codes: the labels are translated when shown,
    and a lazy label costs more to read back from the cache than a row of figures."""
    return {
        **drill,
        "by_basis": [{**row, "label": LegalBasis(row["basis"]).label} for row in drill["by_basis"]],
        "by_provider": [
            {**row, "setting": Setting(row["setting"]).label} for row in drill["by_provider"]
        ],
    }


def _drill(stationary: list[dict], helps: list[dict]) -> dict:
    threshold = settings.KIJUFAZ_SUPPRESSION_THRESHOLD
    cost_by_basis: dict[str, dict] = {}
    for row in stationary:
        cost = cost_by_basis.setdefault(row["help__legal_basis"], {"days": 0, "cost": ZERO})
        for month in MONTHS:
            cost["days"] += row.get(f"dy0_{month}") or 0
            cost["cost"] += money(row.get(f"cy0_{month}"))
    by_basis: dict[str, int] = defaultdict(int)
    by_provider: dict[tuple, int] = defaultdict(int)
    for row in helps:
        if row["so_far"]:
            by_basis[row["legal_basis"]] += row["so_far"]
            by_provider[(row["provider__name"], row["setting"])] += row["so_far"]
    basis_rows = []
    for basis in sorted(by_basis):
        n, cost = by_basis[basis], cost_by_basis.get(basis)
        suppressed = n < threshold
        basis_rows.append(
            {
                "basis": basis,
                "count": None if suppressed else n,
                "cost": None if suppressed or cost is None else cost["cost"],
                "days": None if suppressed or cost is None else cost["days"],
            }
        )
    provider_rows = [
        {
            "provider": name,
            "setting": setting,
            "count": None if n < threshold else n,
        }
        for (name, setting), n in sorted(
            by_provider.items(), key=lambda item: (item[0][0] is None, item[0])
        )
    ]
    return {"by_basis": basis_rows, "by_provider": provider_rows, "threshold": threshold}


def _cached_line_chart(series: dict, *, title: str, ylabel: str) -> str:
    """A matplotlib chart costs ~100 ms, more than all the figures of a region: keep the
    rendered SVG in the cache under a key made of everything it shows (content-addressed,
    so a changed figure, title or language simply makes a new key; nothing to invalidate)."""
    fingerprint = repr((sorted((str(k), v) for k, v in series.items()), title, ylabel))
    key = "budgets:chart:" + hashlib.sha256(fingerprint.encode()).hexdigest()
    return content_cache.get_or_set(
        key, lambda: charts.line_chart(series, title=title, ylabel=ylabel), CHART_CACHE_SECONDS
    )


def charts_for(ry: RegionYear) -> dict:
    """The budget charts of a region-year: the dashboard and the PDF report use these."""
    burn = _cached_line_chart(
        {_("spent (cumulative)"): ry.cumulative_spent(), _("plan (linear)"): ry.cumulative_plan()},
        title=_("Spending against plan, %(region)s") % {"region": ry.region_name},
        ylabel="€",
    )
    share = _cached_line_chart(
        {
            _("ambulant share by count"): ry.monthly_share_by_count(),
            _("ambulant share by cost"): ry.monthly_share_by_cost(),
        },
        title=_("Ambulant share, %(region)s") % {"region": ry.region_name},
        ylabel="%",
    )
    return {"burn_chart": burn, "share_chart": share, "month_labels": charts.MONTH_LABELS}
