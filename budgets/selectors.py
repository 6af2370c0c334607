"""Budget figures, computed in the database (DOMAIN.md KPI definitions are binding).

Every function works on a set of regions at once and groups by region, so a
dashboard over many regions costs the same number of queries as over one.
"""

import datetime
import operator
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from functools import reduce

from django.db.models import Case, DateField, DecimalField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest, Least

from cases.models import ApprovalStatus, DailyRate, Setting
from cases.regions import in_regions
from core.db import DaysBetween

from .models import Posting, Reallocation, ReallocationStatus, SubBudgetKind

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
ONE_DAY = datetime.timedelta(days=1)


def money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def _date(value: datetime.date) -> Value:
    return Value(value, output_field=DateField())


def stationary_rates(region_ids):
    """Rate periods of approved stationary placements of the regions (the rows stationary
    costs come from); every region without a condition for cases.regions.EveryRegion."""
    return DailyRate.objects.filter(
        in_regions("help__case__family__region", region_ids),
        help__setting=Setting.STATIONARY,
        help__status=ApprovalStatus.APPROVED,
    )


def billed_days_expression(start: datetime.date, end: datetime.date):
    """Billed days of a rate period inside [start, end].

    A placement is billed from its start up to the day before its end; an open
    one every day. Admission and discharge day together count as one day, so a
    placement that ended on the day it started is billed that one day. The rate
    period runs from valid_from to valid_until inclusive.
    """
    after_end = end + ONE_DAY
    first = Greatest("valid_from", "help__start", _date(start), output_field=DateField())
    ended_on_first_day = Case(When(help__end=F("help__start"), then=Value(1)), default=Value(0))
    days = Least(
        DaysBetween(Coalesce("help__end", _date(after_end)), first) + ended_on_first_day,
        DaysBetween(_date(after_end), first),
        DaysBetween(Coalesce("valid_until", _date(end)), first) + Value(1),
    )
    return Greatest(days, Value(0))


def stationary_by(rates, start: datetime.date, end: datetime.date, *group_by: str) -> list[dict]:
    """[{...group fields, days, cost}] for the rate periods, grouped as asked."""
    rows = (
        _in_period(rates, start, end)
        .values(*group_by)
        .annotate(**_days_and_cost(start, end))
        .order_by(*group_by)
    )
    return [{**row, "days": row["days"] or 0, "cost": money(row["cost"])} for row in rows]


def billed_from(day: datetime.date) -> Q:
    """Placements billed on `day` or later (see billed_days_expression)."""
    return (
        Q(help__end__isnull=True)
        | Q(help__end__gt=day)
        | Q(help__start=day, help__end=day)  # ended on its first day
    )


def _in_period(rates, start: datetime.date, end: datetime.date):
    return (
        rates.filter(help__start__lte=end, valid_from__lte=end)
        .filter(billed_from(start))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=start))
    )


def _days_and_cost(start: datetime.date, end: datetime.date) -> dict:
    days = billed_days_expression(start, end)
    return {
        "days": Sum(days),
        "cost": Sum(
            days * Coalesce("amount", Value(ZERO)),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        ),
    }


def stationary_cost(rates, start: datetime.date, end: datetime.date) -> tuple[int, Decimal]:
    """Stationary days and cost of the rate periods inside [start, end]."""
    totals = _in_period(rates, start, end).aggregate(**_days_and_cost(start, end))
    return totals["days"] or 0, money(totals["cost"])


def committed_days_expression(day: datetime.date):
    """Days an ongoing placement is still to be billed after `day`: from day + 1 to the
    day before its (planned) end, or to 31 December."""
    after_year = datetime.date(day.year, 12, 31) + ONE_DAY
    last_excl = Least(
        Coalesce("help__end", "help__planned_end", _date(after_year)),
        _date(after_year),
        output_field=DateField(),
    )
    return Greatest(DaysBetween(last_excl, _date(day + ONE_DAY)), Value(0))


def in_force_on(day: datetime.date) -> Q:
    """Rate periods in force on `day` of placements ongoing on `day`."""
    return (
        Q(valid_from__lte=day, help__start__lte=day)
        & (Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        & (Q(help__end__isnull=True) | Q(help__end__gt=day))
    )


def committed_cost(day: datetime.date, **extra) -> Sum:
    return Sum(
        committed_days_expression(day) * Coalesce("amount", Value(ZERO)),
        output_field=DecimalField(max_digits=14, decimal_places=2),
        **extra,
    )


def committed_by_region(region_ids, day: datetime.date) -> dict[int, Decimal]:
    """Committed stationary costs as of `day`, per region.

    Ongoing placements are billed from day + 1 to the day before their (planned)
    end, or to 31 December, at the rate in force on `day`.
    """
    rows = (
        stationary_rates(region_ids)
        .filter(in_force_on(day))
        .values("help__case__family__region")
        .annotate(cost=committed_cost(day))
    )
    return {row["help__case__family__region"]: money(row["cost"]) for row in rows}


def flexible_spent_by(
    region_ids, start: datetime.date, end: datetime.date, *group_by: str
) -> list[dict]:
    rows = (
        Posting.objects.filter(
            sub_budget__kind=SubBudgetKind.FLEXIBLE,
            sub_budget__contract__region__in=region_ids,
            booked_on__gte=start,
            booked_on__lte=end,
        )
        .values("sub_budget__contract__region", *group_by)
        .annotate(total=Sum("amount"))
        .order_by("sub_budget__contract__region", *group_by)
    )
    return [{**row, "total": money(row["total"])} for row in rows]


def planned_by_contract(contracts, day) -> dict[tuple[int, str], Decimal]:
    """Plan per (contract, kind): the plan lines plus reallocations approved by `day`.

    `day` is a date, or a mapping year -> date for contracts of several years (one
    query for the plan lines and one for the reallocations, however many years).
    """
    from .models import PlanLine

    days = day if isinstance(day, dict) else None

    planned: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    lines = (
        PlanLine.objects.filter(sub_budget__contract__in=contracts)
        .values_list("sub_budget__contract", "sub_budget__kind")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    if days is None:
        decided = Q(decided_at__date__lte=day)
    else:
        decided = reduce(
            operator.or_,
            (Q(contract__year=year, decided_at__date__lte=last) for year, last in days.items()),
        )
    moves = (
        Reallocation.objects.filter(contract__in=contracts, status=ReallocationStatus.APPROVED)
        .filter(decided)
        .values_list("contract", "direction")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    # One query: a sub-budget kind ("flexible") never equals a direction ("to_flexible").
    for contract, key, total in lines.union(moves, all=True):
        amount = money(total)
        if key in SubBudgetKind.values:
            planned[(contract, key)] += amount
            continue
        to_flexible = key == "to_flexible"
        planned[(contract, SubBudgetKind.FLEXIBLE)] += amount if to_flexible else -amount
        planned[(contract, SubBudgetKind.STATIONARY)] += -amount if to_flexible else amount
    return planned
