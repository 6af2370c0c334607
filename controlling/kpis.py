"""The key figures (Kennzahlen) of DOMAIN.md for a set of regions and a period.

One service, `compute_kpis`, computes every KPI in the database with a constant
number of queries (about 15, whatever the number of regions or rows); Python
only folds small grouped results (a few dozen rows) into a `KpiSet`.

Units:
- money is `Decimal` euro with two places;
- shares are percentages (0–100) with one decimal place, like the budget
  dashboard's (`budgets.dashboard.ratio`); `None` when there is nothing to divide by;
- hours are kept as minutes (exact integers; corrections carry the difference
  and are summed in);
- rating changes are means of (end − start) on the 1–5 scale, one decimal place.

docs/KPIS.md defines every figure as implemented here.

Where a region comes from:
- helps, people and families: the region of the family's address;
- group sessions (participations): the region of the group offer;
- case-specific hours: the region of the help's family; cross-case and
  case-unspecific hours carry no case, so they count for a region when their
  provider works there on that day: a member of the region's consortium, or a
  party to the region's service contract of that year. An entry counts once for
  a set of regions, so per-region hour figures of a provider serving two regions
  do not add up to the figure of both.
"""

import datetime
import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal
from functools import reduce

from django.conf import settings
from django.db import connection
from django.db.models import (
    CharField,
    Count,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth

from budgets.dashboard import (
    SubBudgetFigures,
    as_of_for,
    families_reached_by_region,
    ratio,
    region_years,
)
from budgets.models import ServiceContract, SubBudgetKind
from budgets.selectors import (
    ZERO,
    flexible_spent_by,
    money,
    stationary_cost,
    stationary_rates,
)
from cases.models import (
    AMBULANT_SETTINGS,
    ApprovalStatus,
    Help,
    HelpEndReason,
    HelpGoalOutcome,
    HelpPlanGoal,
    LegalBasis,
    Person,
    RatingOccasion,
    Region,
    Setting,
)
from cases.regions import EveryRegion, in_regions
from core.db import DaysBetween
from core.figures import cached as cached_figures
from core.figures import cached_by_month
from core.periods import month_end
from providers.models import Consortium, GroupSession, HourEntry, HourKind, HourRollup

ONE_DAY = datetime.timedelta(days=1)
TENTH = Decimal("0.1")

# --- Periods ---------------------------------------------------------------------

MONTH, QUARTER, YEAR, RANGE = "month", "quarter", "year", "range"
PERIOD_KINDS = (MONTH, QUARTER, YEAR, RANGE)


def _month_end(year: int, month: int) -> datetime.date:
    return month_end(datetime.date(year, month, 1))


def _one_year_earlier(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True)
class Period:
    """[start, end], both days inclusive; `kind` says what `previous()` steps back by."""

    start: datetime.date
    end: datetime.date
    kind: str = RANGE

    def __post_init__(self):
        if self.kind not in PERIOD_KINDS:
            raise ValueError(f"Unknown period kind {self.kind!r}.")
        if self.start > self.end:
            raise ValueError(
                f"The period ends ({self.end:%d.%m.%Y}) before it starts ({self.start:%d.%m.%Y})."
            )

    @classmethod
    def of_month(cls, year: int, month: int) -> "Period":
        return cls(datetime.date(year, month, 1), _month_end(year, month), MONTH)

    @classmethod
    def of_quarter(cls, year: int, quarter: int) -> "Period":
        if not 1 <= quarter <= 4:
            raise ValueError("quarter must be 1 to 4")
        first_month = 3 * quarter - 2
        start = datetime.date(year, first_month, 1)
        return cls(start, _month_end(year, first_month + 2), QUARTER)

    @classmethod
    def of_year(cls, year: int) -> "Period":
        return cls(datetime.date(year, 1, 1), datetime.date(year, 12, 31), YEAR)

    @property
    def quarter(self) -> int:
        return (self.start.month + 2) // 3

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        """For people: 11/2025, Q4 2025, 2025, 01.01.2025–31.03.2025."""
        if self.kind == MONTH:
            return f"{self.start.month:02d}/{self.start.year}"
        if self.kind == QUARTER:
            return f"Q{self.quarter} {self.start.year}"
        if self.kind == YEAR:
            return str(self.start.year)
        return f"{self.start:%d.%m.%Y}–{self.end:%d.%m.%Y}"

    @property
    def key(self) -> str:
        """For URLs: the text `parse_period` turns back into this period."""
        if self.kind == MONTH:
            return f"{self.start.year:04d}-{self.start.month:02d}"
        if self.kind == QUARTER:
            return f"{self.start.year:04d}-Q{self.quarter}"
        if self.kind == YEAR:
            return f"{self.start.year:04d}"
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def months(self) -> list[datetime.date]:
        """The first day of every month the period touches, in order."""
        first, out = self.start.replace(day=1), []
        while first <= self.end:
            out.append(first)
            first = _month_end(first.year, first.month) + ONE_DAY
        return out

    def previous(self) -> "Period":
        """The month, quarter or year before; for free dates as many days directly before."""
        before = self.start - ONE_DAY
        if self.kind == MONTH:
            return Period.of_month(before.year, before.month)
        if self.kind == QUARTER:
            return Period.of_quarter(before.year, (before.month + 2) // 3)
        if self.kind == YEAR:
            return Period.of_year(before.year)
        return Period(before - (self.end - self.start), before)

    def same_last_year(self) -> "Period":
        """The same period one year earlier (29 February becomes the 28th)."""
        year = self.start.year - 1
        if self.kind == MONTH:
            return Period.of_month(year, self.start.month)
        if self.kind == QUARTER:
            return Period.of_quarter(year, self.quarter)
        if self.kind == YEAR:
            return Period.of_year(year)
        return Period(_one_year_earlier(self.start), _one_year_earlier(self.end))


_QUARTER_RE = re.compile(r"(\d{4})-[Qq](\d)")
_MONTH_RE = re.compile(r"(\d{4})-(\d{1,2})")
_YEAR_RE = re.compile(r"(\d{4})")
_RANGE_RE = re.compile(r"(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})")
FORMATS = "2025, 2025-Q4, 2025-11 or 2025-01-01..2025-03-31"


def parse_period(text: str) -> Period:
    """Read "2025", "2025-Q4", "2025-11" or "2025-01-01..2025-03-31" (ValueError otherwise)."""
    value = text.strip() if isinstance(text, str) else ""
    try:
        if match := _QUARTER_RE.fullmatch(value):
            return Period.of_quarter(int(match[1]), int(match[2]))
        if match := _MONTH_RE.fullmatch(value):
            return Period.of_month(int(match[1]), int(match[2]))
        if match := _YEAR_RE.fullmatch(value):
            return Period.of_year(int(match[1]))
        if match := _RANGE_RE.fullmatch(value):
            start, end = (datetime.date.fromisoformat(match[i]) for i in (1, 2))
            return Period(start, end)
    except ValueError as error:
        reason = str(error).rstrip(".")
        raise ValueError(f"Invalid period {text!r}: {reason}.") from error
    raise ValueError(f"Unknown period {text!r}: write {FORMATS}.")


# --- The figures -------------------------------------------------------------------


def _zero_by(choices) -> dict[str, int]:
    return dict.fromkeys(choices.values, 0)


def suppress_count(n: int, threshold: int | None = None) -> int | None:
    """A count of 1 to threshold − 1 is hidden (None); 0 reveals nobody and stays."""
    threshold = settings.KIJUFAZ_SUPPRESSION_THRESHOLD if threshold is None else threshold
    return None if 0 < n < threshold else n


def _mean(total: int, count: int) -> Decimal | None:
    return _one_decimal(Decimal(total) / count) if count else None


@dataclass
class _Tally:
    """Raw counts of one group (or of all): helps ended, and goals with an end rating."""

    ended: int = 0
    as_planned: int = 0
    goals: int = 0
    reached: int = 0
    goals_own: int = 0
    reached_own: int = 0
    compared_professional: int = 0
    change_professional: int = 0  # Σ (end − start) over the compared goals
    compared_own: int = 0
    change_own: int = 0

    def add(self, other: "_Tally") -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))

    def shown(self, threshold: int) -> dict:
        """The group as roles without case access see it: a count under the threshold,
        and every value computed over fewer items than the threshold, is None."""

        def over(count: int, value):
            return value if count >= threshold else None

        return {
            "ended": suppress_count(self.ended, threshold),
            "ended_as_planned_share": over(self.ended, ratio(self.as_planned, self.ended)),
            "goals": suppress_count(self.goals, threshold),
            "reached_share": over(self.goals, ratio(self.reached, self.goals)),
            "reached_share_own": over(self.goals_own, ratio(self.reached_own, self.goals_own)),
            "change_professional": over(
                self.compared_professional,
                _mean(self.change_professional, self.compared_professional),
            ),
            "change_own": over(self.compared_own, _mean(self.change_own, self.compared_own)),
        }


@dataclass
class Effectiveness:
    """Wirksamkeit of the helps ended in a period: end reasons and goal ratings.

    The counted goals are the root goals (`HelpPlanGoal.lineage_root`: a goal
    carried into a later plan version counts once, with the ratings of its first
    version) of approved helps that ended in the period, and only those with an
    END rating. "Reached" means rated 4 or 5: `goals_reached_share` on the
    professional's rating, `goals_reached_share_own` on the young person's or
    parents' own rating (over the goals whose end rating has one). A rating
    change is the mean of (end − start) over the goals with both ratings, the
    professional and the own rating apart.

    The totals are exact. `overall`, `ended_by_reason_shown` and the breakdowns
    (`by_legal_basis`, `by_setting`, `by_provider`: key → the dict of
    `_Tally.shown`) are suppressed for roles without case access: a count under
    KIJUFAZ_SUPPRESSION_THRESHOLD and every value computed over fewer helps or
    goals than that are None.
    """

    ended_helps: int = 0
    ended_by_reason: dict[str, int] = field(default_factory=lambda: _zero_by(HelpEndReason))
    ended_as_planned_share: Decimal | None = None
    goals_rated: int = 0  # goals with an end rating
    goals_rated_own: int = 0  # … whose end rating includes the own rating
    goals_compared_professional: int = 0  # goals with a start and an end rating
    goals_compared_own: int = 0  # goals with an own rating at start and at end
    goals_reached_share: Decimal | None = None
    goals_reached_share_own: Decimal | None = None
    rating_change_professional: Decimal | None = None
    rating_change_own: Decimal | None = None
    overall: dict = field(default_factory=lambda: _Tally().shown(0))
    ended_by_reason_shown: dict[str, int | None] = field(
        default_factory=lambda: _zero_by(HelpEndReason)
    )
    by_legal_basis: dict[str, dict] = field(default_factory=dict)
    by_setting: dict[str, dict] = field(default_factory=dict)
    by_provider: dict[str, dict] = field(default_factory=dict)


@dataclass
class KpiSet:
    """Every KPI of DOMAIN.md for `region_ids` in `period` (see the module docstring for units).

    The effectiveness figures (goals reached, rating changes, their breakdowns by
    legal basis, setting and provider) are in `effectiveness`; the properties
    below give the headline ones by their KPI names.
    """

    period: Period
    region_ids: tuple[int, ...]
    # Helps: active in the period, started in it, ended in it.
    active_helps: int = 0
    active_by_setting: dict[str, int] = field(default_factory=lambda: _zero_by(Setting))
    active_by_legal_basis: dict[str, int] = field(default_factory=lambda: _zero_by(LegalBasis))
    ambulant_share_by_count: Decimal | None = None
    new_helps: int = 0
    new_by_setting: dict[str, int] = field(default_factory=lambda: _zero_by(Setting))
    new_by_legal_basis: dict[str, int] = field(default_factory=lambda: _zero_by(LegalBasis))
    ended_helps: int = 0
    ended_by_setting: dict[str, int] = field(default_factory=lambda: _zero_by(Setting))
    ended_by_legal_basis: dict[str, int] = field(default_factory=lambda: _zero_by(LegalBasis))
    ended_by_reason: dict[str, int] = field(default_factory=lambda: _zero_by(HelpEndReason))
    ended_as_planned_share: Decimal | None = None
    returns: int = 0
    help_duration_mean: Decimal | None = None  # days, one decimal
    help_duration_median: Decimal | None = None  # days, one decimal
    # Reach.
    people_reached: int = 0
    families_reached: int = 0
    group_sessions: int = 0
    group_participations: int = 0
    # Money.
    stationary_days: int = 0
    stationary_cost: Decimal = Decimal("0.00")
    flexible_spent: Decimal = Decimal("0.00")
    ambulant_share_by_cost: Decimal | None = None
    cost_per_family_reached: Decimal | None = None
    # Budget utilisation of the contract year, as of the period's last day.
    budget_as_of: datetime.date | None = None
    budget_flexible: SubBudgetFigures = field(
        default_factory=lambda: SubBudgetFigures(SubBudgetKind.FLEXIBLE)
    )
    budget_stationary: SubBudgetFigures = field(
        default_factory=lambda: SubBudgetFigures(SubBudgetKind.STATIONARY)
    )
    flexible_utilisation: Decimal | None = None
    stationary_utilisation: Decimal | None = None
    # Hours, in minutes.
    minutes_total: int = 0
    minutes_by_kind: dict[str, int] = field(default_factory=lambda: _zero_by(HourKind))
    minutes_by_provider: dict[str, int] = field(default_factory=dict)
    minutes_by_month: dict[datetime.date, int] = field(default_factory=dict)
    case_unspecific_share: Decimal | None = None
    cross_case_share: Decimal | None = None
    # Effectiveness: end reasons and goal ratings of the helps ended in the period.
    effectiveness: Effectiveness = field(default_factory=Effectiveness)

    @property
    def goals_reached_share(self) -> Decimal | None:
        return self.effectiveness.goals_reached_share

    @property
    def goals_reached_share_own(self) -> Decimal | None:
        return self.effectiveness.goals_reached_share_own

    @property
    def rating_change_professional(self) -> Decimal | None:
        return self.effectiveness.rating_change_professional

    @property
    def rating_change_own(self) -> Decimal | None:
        return self.effectiveness.rating_change_own

    @property
    def stationary_spent(self) -> Decimal:
        return self.stationary_cost

    @property
    def spent(self) -> Decimal:
        return self.flexible_spent + self.stationary_cost


def _regions(regions) -> list[Region]:
    """A region, an iterable of regions or ids, or None for every region."""
    if regions is None:
        return list(Region.objects.all())
    if isinstance(regions, Region):
        return [regions]
    items = list(regions)
    if all(isinstance(item, Region) for item in items):
        return items
    return list(Region.objects.filter(pk__in=[getattr(item, "pk", item) for item in items]))


def compute_kpis(*, regions: Region | Iterable | None, period: Period) -> KpiSet:
    """Every KPI of DOMAIN.md for the regions (None: all) in the period."""
    every = regions is None
    regions = _regions(regions)
    region_ids = [region.pk for region in regions]
    if every:
        region_ids = EveryRegion(region_ids)

    def without_hours() -> KpiSet:
        kpis = KpiSet(period=period, region_ids=tuple(region_ids))
        _add_helps(kpis, region_ids)
        _add_reach(kpis, region_ids)
        _add_money(kpis, region_ids, budget=_add_budget(kpis, regions))
        return kpis

    # Everything but the hours is cached until its data changes (core.figures); the
    # hours change all day and are cheap to read from their rollups, so they stay live.
    key = ("kpis", period.kind, period.start, period.end, sorted(region_ids))
    kpis = cached_figures(key, without_hours)
    _add_hours(kpis, region_ids)
    return kpis


def kpi_comparison(*, regions: Region | Iterable | None, period: Period) -> dict[str, KpiSet]:
    """The KPIs of the period, of the period before and of the same period last year."""
    regions = _regions(regions)
    return {
        "current": compute_kpis(regions=regions, period=period),
        "previous": compute_kpis(regions=regions, period=period.previous()),
        "same_last_year": compute_kpis(regions=regions, period=period.same_last_year()),
    }


def _one_decimal(value: Decimal) -> Decimal:
    return value.quantize(TENTH, rounding=ROUND_HALF_UP)


# --- Helps -------------------------------------------------------------------------


def _duration():
    """Help duration in days: end − start + 1 (both days count)."""
    return DaysBetween("end", "start") + Value(1)


def _add_helps(kpis: KpiSet, region_ids: list[int]) -> None:
    """Active, new and ended helps, end reasons and durations from ONE grouped query.

    New and ended helps are active in the period by definition, so one pass over
    the active helps, grouped by legal basis, setting, provider and end reason,
    gives all, and the ended ones feed the effectiveness figures.
    """
    start, end = kpis.period.start, kpis.period.end
    ended = Q(end__lte=end)
    rows = list(
        Help.objects.active_in(start, end)
        .filter(in_regions("case__family__region", region_ids))
        .values("legal_basis", "setting", "end_reason", provider_name=F("provider__name"))
        .annotate(
            active=Count("id"),
            new=Count("id", filter=Q(start__gte=start)),
            ended=Count("id", filter=ended),
            days=Sum(_duration(), filter=ended),
        )
        .order_by()
    )
    total_days = 0
    for row in rows:
        for measure in ("active", "new", "ended"):
            if n := row[measure]:
                getattr(kpis, f"{measure}_by_setting")[row["setting"]] += n
                getattr(kpis, f"{measure}_by_legal_basis")[row["legal_basis"]] += n
        if row["ended"]:
            kpis.ended_by_reason[row["end_reason"]] += row["ended"]
            total_days += row["days"]
            if row["setting"] == Setting.STATIONARY and row["end_reason"] == HelpEndReason.RETURN:
                kpis.returns += row["ended"]
    kpis.active_helps = sum(kpis.active_by_setting.values())
    kpis.new_helps = sum(kpis.new_by_setting.values())
    kpis.ended_helps = sum(kpis.ended_by_setting.values())
    ambulant = sum(kpis.active_by_setting[setting] for setting in AMBULANT_SETTINGS)
    kpis.ambulant_share_by_count = ratio(ambulant, kpis.active_helps)
    as_planned = kpis.ended_by_reason[HelpEndReason.AS_PLANNED]
    kpis.ended_as_planned_share = ratio(as_planned, kpis.ended_helps)
    if kpis.ended_helps:
        kpis.help_duration_mean = _one_decimal(Decimal(total_days) / kpis.ended_helps)
        kpis.help_duration_median = _median_duration(region_ids, kpis.period, kpis.ended_helps)
    kpis.effectiveness = _effectiveness(
        [row for row in rows if row["ended"]], _goal_rows(region_ids, kpis.period)
    )


def _median_duration(region_ids: list[int], period: Period, count: int) -> Decimal:
    """The middle one or two durations, fetched with ORDER BY/OFFSET (portable, one query)."""
    middle = (
        Help.objects.approved()
        .filter(in_regions("case__family__region", region_ids))
        .filter(end__gte=period.start, end__lte=period.end)
        .annotate(days=_duration())
        .order_by("days")
        .values_list("days", flat=True)[(count - 1) // 2 : count // 2 + 1]
    )
    days = list(middle)
    return _one_decimal(Decimal(sum(days)) / len(days))


# --- Effectiveness (Wirksamkeit) -----------------------------------------------------

_GOAL_MEASURES = (
    "goals",
    "reached",
    "goals_own",
    "reached_own",
    "compared_professional",
    "change_professional",
    "compared_own",
    "change_own",
)


def effectiveness_periods(year: int, today: datetime.date) -> tuple[Period, Period]:
    """What the dashboard's effectiveness section compares: the year so far (all of it
    once it is over) and the whole year before."""
    as_of = as_of_for(year, today)
    if as_of == datetime.date(year, 12, 31):
        return Period.of_year(year), Period.of_year(year - 1)
    return Period(datetime.date(year, 1, 1), as_of), Period.of_year(year - 1)


def compute_effectiveness(*, regions: Region | Iterable | None, period: Period) -> Effectiveness:
    """Only the effectiveness figures, in ONE query (for pages showing no other KPI): the
    ended helps and the rated goals, each grouped, as the two halves of a UNION ALL.
    `regions=None`: every region, without any condition on the region."""
    threshold = settings.KIJUFAZ_SUPPRESSION_THRESHOLD  # the breakdowns hide small groups
    if regions is None:
        region_ids, scope = EveryRegion(), "every region"
    else:
        region_ids = [region.pk for region in _regions(regions)]
        scope = sorted(region_ids)
    key = ("effectiveness", period.start, period.end, threshold, scope)
    return cached_figures(key, lambda: _compute_effectiveness(region_ids, period))


def _compute_effectiveness(region_ids: list[int], period: Period) -> Effectiveness:
    no_goals = {measure: Value(0) for measure in _GOAL_MEASURES}
    # Both halves select the same columns in the same order (values() keeps the order).
    ended = (
        Help.objects.approved()
        .filter(in_regions("case__family__region", region_ids))
        .filter(end__gte=period.start, end__lte=period.end)
        .annotate(provider_name=F("provider__name"))
        .values("legal_basis", "setting", "provider_name", "end_reason")
        .annotate(ended=Count("id"), **no_goals)
        .order_by()
    )
    rated, measures = _rated_goals(region_ids, period)
    goals = (
        rated.annotate(end_reason=Value("", output_field=CharField()))
        .values("legal_basis", "setting", "provider_name", "end_reason")
        .annotate(ended=Value(0), **measures)
    )
    rows = list(ended.union(goals, all=True))
    return _effectiveness(
        [row for row in rows if row["end_reason"]],
        [row for row in rows if not row["end_reason"]],
    )


# The sums of HelpGoalOutcome that give each measure of _goal_measures.
_OUTCOME_SUMS = {
    "goals": "rated_goals",
    "reached": "reached_goals",
    "goals_own": "rated_goals_own",
    "reached_own": "reached_goals_own",
    "compared_professional": "professional_compared",
    "change_professional": "professional_change",
    "compared_own": "own_compared",
    "change_own": "own_change",
}


def _rated_goals(region_ids: list[int], period: Period) -> tuple:
    """The rated root goals of the helps ended in the period, with legal_basis, setting
    and provider_name, and the aggregates of _GOAL_MEASURES over them. On PostgreSQL one
    row per help from HelpGoalOutcome (kept by triggers); elsewhere the goals themselves,
    each joined to its start and its end rating."""
    if connection.vendor != "postgresql":
        return _goal_rows_query(region_ids, period), _goal_measures()
    outcomes = (
        HelpGoalOutcome.objects.filter(
            in_regions("help__case__family__region", region_ids),
            rated_goals__gt=0,
            help__status=ApprovalStatus.APPROVED,
            help__end__gte=period.start,
            help__end__lte=period.end,
        )
        .annotate(
            legal_basis=F("help__legal_basis"),
            setting=F("help__setting"),
            provider_name=F("help__provider__name"),
        )
        .order_by()
    )
    return outcomes, {measure: Sum(column) for measure, column in _OUTCOME_SUMS.items()}


def _goal_rows_query(region_ids: list[int], period: Period):
    """Root goals with an END rating of the approved helps ended in the period.

    Each goal is joined to its start and its end rating; a database constraint allows
    at most one of each, so no goal is counted twice. Review ratings are not used.
    """

    def rating(occasion: str) -> FilteredRelation:
        return FilteredRelation("ratings", condition=Q(ratings__occasion=occasion))

    return (
        HelpPlanGoal.objects.filter(
            in_regions("plan__help__case__family__region", region_ids),
            origin__isnull=True,
            plan__help__status=ApprovalStatus.APPROVED,
            plan__help__end__gte=period.start,
            plan__help__end__lte=period.end,
        )
        .annotate(start_rating=rating(RatingOccasion.START), end_rating=rating(RatingOccasion.END))
        .filter(end_rating__isnull=False)
        .annotate(
            legal_basis=F("plan__help__legal_basis"),
            setting=F("plan__help__setting"),
            provider_name=F("plan__help__provider__name"),
        )
        .order_by()
    )


def _goal_measures() -> dict:
    def change(rating_field: str) -> Sum:
        difference = F(f"end_rating__{rating_field}") - F(f"start_rating__{rating_field}")
        return Sum(difference, output_field=IntegerField())  # NULL (one missing) is skipped

    both_own = Q(start_rating__own__isnull=False, end_rating__own__isnull=False)
    return {
        "goals": Count("id"),
        "reached": Count("id", filter=Q(end_rating__professional__gte=4)),
        "goals_own": Count("end_rating__own"),
        "reached_own": Count("id", filter=Q(end_rating__own__gte=4)),
        "compared_professional": Count("start_rating__professional"),
        "change_professional": change("professional"),
        "compared_own": Count("id", filter=both_own),
        "change_own": change("own"),
    }


def _goal_rows(region_ids: list[int], period: Period) -> list[dict]:
    """Rated root goals grouped by legal basis, setting and provider, with counts and sums
    of rating changes (ONE query)."""
    rated, measures = _rated_goals(region_ids, period)
    return list(rated.values("legal_basis", "setting", "provider_name").annotate(**measures))


def _effectiveness(ended_rows: list[dict], goal_rows: list[dict]) -> Effectiveness:
    """Fold the grouped rows (a few dozen) into exact totals and suppressed breakdowns."""
    threshold = settings.KIJUFAZ_SUPPRESSION_THRESHOLD
    total, reasons = _Tally(), _zero_by(HelpEndReason)
    groups: dict[str, dict[str, _Tally]] = {"legal_basis": {}, "setting": {}, "provider_name": {}}

    def count(row: dict, tally: _Tally) -> None:
        total.add(tally)
        for dimension, tallies in groups.items():
            tallies.setdefault(row[dimension], _Tally()).add(tally)

    for row in ended_rows:
        reasons[row["end_reason"]] += row["ended"]
        as_planned = row["ended"] if row["end_reason"] == HelpEndReason.AS_PLANNED else 0
        count(row, _Tally(ended=row["ended"], as_planned=as_planned))
    for row in goal_rows:
        count(row, _Tally(**{measure: row[measure] or 0 for measure in _GOAL_MEASURES}))

    def shown(dimension: str, order) -> dict[str, dict]:
        tallies = groups[dimension]
        return {key: tallies[key].shown(threshold) for key in order if key in tallies}

    return Effectiveness(
        ended_helps=total.ended,
        ended_by_reason=reasons,
        ended_as_planned_share=ratio(total.as_planned, total.ended),
        goals_rated=total.goals,
        goals_rated_own=total.goals_own,
        goals_compared_professional=total.compared_professional,
        goals_compared_own=total.compared_own,
        goals_reached_share=ratio(total.reached, total.goals),
        goals_reached_share_own=ratio(total.reached_own, total.goals_own),
        rating_change_professional=_mean(total.change_professional, total.compared_professional),
        rating_change_own=_mean(total.change_own, total.compared_own),
        overall=total.shown(threshold),
        ended_by_reason_shown={key: suppress_count(n, threshold) for key, n in reasons.items()},
        by_legal_basis=shown("legal_basis", LegalBasis.values),
        by_setting=shown("setting", Setting.values),
        by_provider=shown("provider_name", sorted(groups["provider_name"])),
    )


# --- Reach -------------------------------------------------------------------------


def _add_reach(kpis: KpiSet, region_ids: list[int]) -> None:
    start, end = kpis.period.start, kpis.period.end
    kpis.people_reached = _people_reached(region_ids, start, end)
    kpis.families_reached = sum(families_reached_by_region(region_ids, start, end).values())
    sessions = _group_sessions(region_ids, start, end)
    kpis.group_sessions = sessions["sessions"]
    kpis.group_participations = (sessions["anonymous"] or 0) + (sessions["registered"] or 0)


def _people_reached(region_ids: list[int], start: datetime.date, end: datetime.date) -> int:
    """Persons of families with an active help plus registered participants, each once.

    Attributed by the family's region, like `families_reached_by_region`.
    """
    # IN (subquery), not EXISTS per person: PostgreSQL hashes each subquery once.
    with_help = (
        Help.objects.active_in(start, end)
        .filter(in_regions("case__family__region", region_ids))
        .values("case__family")
    )
    in_group = GroupSession.objects.filter(date__gte=start, date__lte=end).values(
        "registered_participants"
    )
    return (
        Person.objects.filter(in_regions("family__region", region_ids))
        .filter(Q(family__in=with_help) | Q(pk__in=in_group))
        .count()
    )


def _group_sessions(region_ids: list[int], start: datetime.date, end: datetime.date) -> dict:
    """Sessions of the regions' offers in the period, with anonymous and registered totals."""
    registrations = (
        GroupSession.registered_participants.through.objects.filter(groupsession=OuterRef("pk"))
        .values("groupsession")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        GroupSession.objects.filter(offer__region__in=region_ids, date__gte=start, date__lte=end)
        .annotate(n_registered=Coalesce(Subquery(registrations), 0))
        .aggregate(
            sessions=Count("id"),
            anonymous=Sum("anonymous_participants"),
            registered=Sum("n_registered"),
        )
    )


# --- Money -------------------------------------------------------------------------


def _add_money(kpis: KpiSet, region_ids: list[int], budget: list) -> None:
    start, end = kpis.period.start, kpis.period.end
    if start == datetime.date(end.year, 1, 1):
        # From New Year's Day the period's stationary costs are those the budget figures
        # booked as of its last day: no second query for the same sum.
        kpis.stationary_days = sum(figures.stationary_days for figures in budget)
        kpis.stationary_cost = sum((figures.stationary.booked for figures in budget), ZERO)
    else:
        kpis.stationary_days, kpis.stationary_cost = stationary_cost(
            stationary_rates(region_ids), start, end
        )
    kpis.flexible_spent = money(
        sum(row["total"] for row in flexible_spent_by(region_ids, start, end))
    )
    kpis.ambulant_share_by_cost = ratio(kpis.flexible_spent, kpis.spent)
    if kpis.families_reached:
        kpis.cost_per_family_reached = money(kpis.spent / kpis.families_reached)


def _add_budget(kpis: KpiSet, regions: list[Region]) -> list:
    """Both sub-budgets of the regions' contracts, as of the period's last day (returns
    the figures per region)."""
    day = kpis.period.end
    kpis.budget_as_of = day
    flexible, stationary = kpis.budget_flexible, kpis.budget_stationary
    budget = region_years(day.year, regions, day, detailed=False, reach=False)
    for figures in budget:
        for total, part in ((flexible, figures.flexible), (stationary, figures.stationary)):
            total.planned += part.planned
            total.booked += part.booked
            total.committed += part.committed
            total.forecast += part.forecast
    kpis.flexible_utilisation = flexible.utilisation
    kpis.stationary_utilisation = stationary.utilisation
    return budget


# --- Hours -------------------------------------------------------------------------


def _hours_for_regions(region_ids: list[int], date_field: str = "date") -> Q:
    """Case-specific: by the help's region; other work: by where the provider works that day."""
    day = OuterRef(date_field)
    in_consortium = Consortium.objects.filter(
        region__in=region_ids, members=OuterRef("provider"), valid_from__lte=day
    ).filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
    under_contract = ServiceContract.objects.filter(
        region__in=region_ids, providers=OuterRef("provider"), year=OuterRef(f"{date_field}__year")
    )
    return Q(help__case__family__region__in=region_ids) | (
        Q(help__isnull=True) & (Exists(in_consortium) | Exists(under_contract))
    )


def _whole_months(period: Period) -> bool:
    return period.start.day == 1 and period.end == month_end(period.end)


def _grouped_minutes(rows, day: str):
    return (
        rows.annotate(month=TruncMonth(day))
        .values("kind", "provider__name", "month")
        .annotate(minutes=Sum("minutes"))
        # Groups netting to zero (rollups of deleted entries) add nothing, name no one.
        .exclude(minutes=0)
        .order_by()
    )


def _rollup_minutes(region_ids: list[int], months: list[datetime.date]) -> dict:
    """Minutes by kind, provider and month over the monthly rollups (HourRollup) of the
    given months, in ONE query: {month: [row, ...]} with every month present."""
    months = sorted(months)
    in_months = reduce(operator.or_, (Q(day__gte=m, day__lte=month_end(m)) for m in months))
    rollups = HourRollup.objects.filter(day__gte=months[0], day__lte=month_end(months[-1]))
    rollups = rollups.filter(in_months) if len(months) > 1 else rollups
    # Two halves of a UNION ALL: an OR across both would join every rollup row of the
    # period with its help; this way the region's helps lead to their rollups, and
    # work without a help is checked only for providers working in the regions.
    consortia = Consortium.objects.filter(region__in=region_ids).values("members")
    contracts = ServiceContract.objects.filter(region__in=region_ids).values("providers")
    working_here = Q(provider__in=consortia) | Q(provider__in=contracts)
    rows = _grouped_minutes(rollups.filter(help__case__family__region__in=region_ids), "day").union(
        _grouped_minutes(
            rollups.filter(working_here, help__isnull=True).filter(
                _hours_for_regions(region_ids, "day")
            ),
            "day",
        ),
        all=True,
    )
    by_month = {month: [] for month in months}
    for row in rows:
        by_month[row["month"]].append(row)
    return by_month


def _add_hours(kpis: KpiSet, region_ids: list[int]) -> None:
    """Minutes by kind, provider and month: over the monthly rollups (HourRollup,
    PostgreSQL), each month cached until its hours change (core.figures), when the
    period is whole months; else from the entries in ONE grouped query."""
    period = kpis.period
    if connection.vendor == "postgresql" and _whole_months(period):
        months = period.months()
        per_month = cached_by_month(
            ("hours", tuple(sorted(region_ids))),
            months,
            lambda missing: _rollup_minutes(region_ids, missing),
        )
        rows = [row for month in months for row in per_month[month]]
    else:
        rows = _grouped_minutes(
            HourEntry.objects.between(period.start, period.end).filter(
                _hours_for_regions(region_ids)
            ),
            "date",
        )
    by_month = dict.fromkeys(kpis.period.months(), 0)
    by_provider: dict[str, int] = {}
    for row in rows:
        minutes = row["minutes"]
        kpis.minutes_by_kind[row["kind"]] += minutes
        by_provider[row["provider__name"]] = by_provider.get(row["provider__name"], 0) + minutes
        by_month[row["month"]] += minutes
    kpis.minutes_by_provider = dict(sorted(by_provider.items()))
    kpis.minutes_by_month = by_month
    kpis.minutes_total = sum(kpis.minutes_by_kind.values())
    total = kpis.minutes_total
    kpis.case_unspecific_share = ratio(kpis.minutes_by_kind[HourKind.CASE_UNSPECIFIC], total)
    kpis.cross_case_share = ratio(kpis.minutes_by_kind[HourKind.CROSS_CASE], total)
