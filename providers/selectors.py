"""Reads for the hour sheet, the team lead's overview and the office's sums."""

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import BooleanField, Count, ExpressionWrapper, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from cases.models import AMBULANT_SETTINGS, Help, LegalBasis
from core.choices import label_of
from core.periods import month_end

from .models import Activity, HourEntry, HourKind, MonthApproval, month_start, time_span

PLAN_TOLERANCE = Decimal("0.20")
QUIET_DAYS = 14


def hours(minutes: int | None) -> Decimal:
    return (Decimal(minutes or 0) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def loggable_helps(provider_id: int, today: datetime.date, *, user=None):
    """Helps a provider's staff can log on: active now or within the last two months
    (for `user`: without the confidential cases she is not named for, § 35 SGB I)."""
    helps = Help.objects.all() if user is None else Help.objects.hiding_confidential_from(user)
    return (
        helps.active_in(today - datetime.timedelta(days=62), today)
        .filter(provider_id=provider_id)
        .select_related("case__family")
        .order_by("case__family__name", "start")
    )


def is_protected(case) -> bool:
    """Confidential (§ 35 SGB I), restricted or anonymised: not every provider user may
    see whose case it is. `protected` says the same in a query."""
    return case.confidential or case.restricted_at is not None or case.anonymised_at is not None


def protected(case_path: str) -> Q:
    """is_protected of the case at `case_path` (e.g. "help__case__"), as a condition."""
    return (
        Q(**{f"{case_path}confidential": True})
        | Q(**{f"{case_path}restricted_at__isnull": False})
        | Q(**{f"{case_path}anonymised_at__isnull": False})
    )


def unnamed_helps(user, protected_ids) -> set[int]:
    """Those helps (of `protected_ids`, on protected cases) whose family `user` may not
    see: a confidential case she is not named for, or a restricted or anonymised one.
    Pages list their hours, but show "confidential case" instead of whose they are."""
    protected_ids = set(protected_ids)
    if not protected_ids:
        return set()
    shown = Help.objects.filter(pk__in=protected_ids).hiding_confidential_from(user)
    return protected_ids - set(shown.values_list("pk", flat=True))


def unnamed_among(user, helps) -> set[int]:
    """unnamed_helps of help instances with their case loaded (no query if none is
    protected, which is nearly always)."""
    return unnamed_helps(user, {help.pk for help in helps if is_protected(help.case)})


@dataclass(frozen=True, slots=True)
class FamilyLine:
    name: str


@dataclass(frozen=True, slots=True)
class CaseLine:
    """What a HelpLine shows of its case: its file number and family name."""

    reference: str
    family: FamilyLine


@dataclass(frozen=True, slots=True)
class HelpLine:
    """The fields of an approved help that the hour sheet and the provider overview show
    (no model instance: building a hundred helps with their cases and families cost more
    than the query)."""

    pk: int
    legal_basis: str
    setting: str
    start: datetime.date
    end: datetime.date | None
    planned_hours_per_month: Decimal | None
    case: CaseLine

    def is_active_on(self, day: datetime.date) -> bool:
        return self.start <= day and (self.end is None or self.end >= day)

    def get_legal_basis_display(self) -> str:
        return label_of(LegalBasis, self.legal_basis)


HELP_LINE_FIELDS = (
    "pk",
    "legal_basis",
    "setting",
    "start",
    "end",
    "planned_hours_per_month",
    "case__reference",
    "case__family__name",
)


def help_lines(helps) -> list[HelpLine]:
    """`helps` (a queryset) as HelpLines, in its order."""
    return [
        HelpLine(pk, basis, setting, start, end, planned, CaseLine(reference, FamilyLine(family)))
        for pk, basis, setting, start, end, planned, reference, family in helps.values_list(
            *HELP_LINE_FIELDS
        )
    ]


# The help dropdowns list a professional's own helps, not the provider's hundreds.
SHOW_ALL_HELPS_UP_TO = 30
RECENT_HELP_WEEKS = 8
HELP_SEARCH_LIMIT = 30


def shown_helps(user, today: datetime.date, *, include_ids=(), loggable=None) -> list[HelpLine]:
    """The helps the hour sheet offers `user` to pick from: all loggable helps of a small
    provider; else the helps she is responsible for or logged hours on in the last eight
    weeks (plus `include_ids`, e.g. the help of the entry being edited). Any loggable help
    is still accepted when submitted; this only keeps the page and the list short.
    Sorted by family, as the dropdown shows them. `loggable`: loggable_helps of the user,
    if the caller has built it already (building its conditions is not free)."""
    if loggable is None:
        loggable = loggable_helps(user.provider_id, today, user=user)
    loggable = loggable.order_by()
    helps = help_lines(loggable[: SHOW_ALL_HELPS_UP_TO + 1])
    if len(helps) > SHOW_ALL_HELPS_UP_TO:
        # Her helps are looked up first and then matched by primary key: one condition
        # "responsible or recently logged" made PostgreSQL scan every case of the office.
        since = today - datetime.timedelta(weeks=RECENT_HELP_WEEKS)
        recent = HourEntry.objects.filter(staff=user, date__gte=since, help__isnull=False)
        # The outer query keeps the provider's loggable helps: testing the provider here
        # too made PostgreSQL intersect her helps with all of the provider's (5,000).
        hers = (
            Help.objects.filter(responsible_staff=user)
            .order_by()
            .values_list("pk", flat=True)
            .union(recent.order_by().values_list("help_id", flat=True))
        )
        helps = help_lines(
            loggable.filter(Q(pk__in=hers) | Q(pk__in=[pk for pk in include_ids if pk]))
        )
    return sorted(helps, key=by_family)


def by_family(help: HelpLine):
    return (help.case.family.name, help.start, help.pk)


def search_loggable_helps(user, today: datetime.date, term: str, loggable=None) -> list[HelpLine]:
    """Loggable helps of the user's provider whose family name or file number contains
    `term` (at most HELP_SEARCH_LIMIT): how a team lead finds a colleague's help."""
    term = term.replace("\x00", "").strip()[:100]  # PostgreSQL refuses NUL in text
    if len(term) < 2:
        return []
    if loggable is None:
        loggable = loggable_helps(user.provider_id, today, user=user)
    return help_lines(
        loggable.filter(Q(case__family__name__icontains=term) | Q(case__reference__icontains=term))[
            :HELP_SEARCH_LIMIT
        ]
    )


def help_choices(
    user, today: datetime.date, *, include_ids=(), search: str | None = None, loggable=None
) -> tuple[list[HelpLine], list[HelpLine] | None]:
    """The helps to show in a help dropdown, sorted by family, and the search hits
    (None without a search). The hits are part of the shown helps."""
    shown = {h.pk: h for h in shown_helps(user, today, include_ids=include_ids, loggable=loggable)}
    found = None
    if search is not None:
        found = search_loggable_helps(user, today, search, loggable)
        for h in found:
            shown.setdefault(h.pk, h)
    ordered = sorted(shown.values(), key=by_family)
    return ordered, found


@dataclass(frozen=True, slots=True)
class SheetEntry:
    """An entry of the week as the hour sheet shows it. Plain values: a busy
    professional's week holds a hundred entries, and an entry with its help, case and
    family as model instances cost more to build than to show."""

    pk: int
    date: datetime.date
    start_time: datetime.time | None
    end_time: datetime.time | None
    minutes: int
    kind: str
    activity: str
    note: str
    is_locked: bool
    is_correction: bool
    help_id: int | None
    case_reference: str | None
    family_name: str | None
    # The help's case is one whose family the user may not see (unnamed_helps): the
    # sheet says "confidential case" instead.
    unnamed: bool

    @property
    def time_span(self) -> str:
        return time_span(self.start_time, self.end_time)

    def get_kind_display(self) -> str:
        return label_of(HourKind, self.kind)

    def get_activity_display(self) -> str:
        return label_of(Activity, self.activity)


def _sheet_entries(user, monday: datetime.date, sunday: datetime.date) -> list[SheetEntry]:
    """Her entries of the week. Her own, but a grant may have ended since (or the case
    been restricted): the family of a protected case is named only if she still sees it."""

    def flag(condition: Q) -> ExpressionWrapper:
        return ExpressionWrapper(condition, output_field=BooleanField())

    rows = (
        HourEntry.objects.filter(staff=user)
        .between(monday, sunday)
        .annotate(
            locked=flag(Q(approval__isnull=False)),
            correction=flag(Q(corrects__isnull=False)),
            on_protected=flag(Q(help__isnull=False) & protected("help__case__")),
        )
        .order_by("date", "start_time", "pk")
        # In the order of SheetEntry's fields.
        .values_list(
            "pk",
            "date",
            "start_time",
            "end_time",
            "minutes",
            "kind",
            "activity",
            "note",
            "locked",
            "correction",
            "help_id",
            "help__case__reference",
            "help__case__family__name",
            "on_protected",
        )
    )
    rows = list(rows)
    help_id, on_protected = 10, 13
    unnamed = unnamed_helps(user, {row[help_id] for row in rows if row[on_protected]})
    return [SheetEntry(*row[:on_protected], row[help_id] in unnamed) for row in rows]


@dataclass
class SheetDay:
    date: datetime.date
    entries: list = field(default_factory=list)

    @property
    def total_minutes(self) -> int:
        return sum(e.minutes for e in self.entries)


@dataclass
class HelpBudgetLine:
    help: HelpLine
    delivered_minutes: int

    @property
    def delivered_hours(self) -> Decimal:
        return hours(self.delivered_minutes)

    @property
    def planned_hours(self) -> Decimal | None:
        return self.help.planned_hours_per_month


def hour_sheet(
    user, monday: datetime.date, today: datetime.date, helps: list[HelpLine] | None = None
) -> dict:
    """The week of `user`; the delivered-hours lines cover `helps` (the shown ones)."""
    if helps is None:
        helps = shown_helps(user, today)
    sunday = monday + datetime.timedelta(days=6)
    entries = _sheet_entries(user, monday, sunday)
    days = {
        monday + datetime.timedelta(days=i): SheetDay(monday + datetime.timedelta(days=i))
        for i in range(7)
    }
    for entry in entries:
        days[entry.date].entries.append(entry)
    month = month_start(min(sunday, today) if monday <= today else monday)
    month_total = (
        HourEntry.objects.filter(staff=user).in_month(month).aggregate(t=Sum("minutes"))["t"] or 0
    )
    delivered = dict(
        HourEntry.objects.filter(help__in=[h.pk for h in helps])
        .in_month(month)
        .values_list("help_id")
        .annotate(t=Sum("minutes"))
    )
    approval = MonthApproval.objects.filter(staff=user, month=month).first()
    return {
        "days": list(days.values()),
        "week_total": sum(d.total_minutes for d in days.values()),
        "month": month,
        "month_total": month_total,
        "helps": helps,
        "help_lines": [
            HelpBudgetLine(h, delivered.get(h.pk, 0))
            for h in helps
            if h.is_active_on(today) and h.setting in AMBULANT_SETTINGS
        ],
        "approval": approval,
    }


@dataclass
class PlanCheck:
    help: HelpLine
    delivered_minutes: int
    last_entry: datetime.date | None
    # Share of the month that has passed: a running month is compared pro rata.
    month_elapsed: Decimal = Decimal(1)

    @property
    def delivered_hours(self) -> Decimal:
        return hours(self.delivered_minutes)

    @property
    def expected_hours(self) -> Decimal | None:
        planned = self.help.planned_hours_per_month
        if planned is None:
            return None
        return (planned * self.month_elapsed).quantize(Decimal("0.01"))

    @property
    def ratio(self) -> Decimal | None:
        expected = self.expected_hours
        if not expected:
            return None
        return (self.delivered_hours / expected).quantize(Decimal("0.01"))

    @property
    def flag(self) -> str:
        ratio = self.ratio
        if ratio is None:
            return ""
        if ratio < 1 - PLAN_TOLERANCE:
            return "under"
        if ratio > 1 + PLAN_TOLERANCE:
            return "over"
        return ""


def provider_overview(user, month: datetime.date, today: datetime.date) -> dict:
    """The team lead's month: hours per staff member and kind, plan checks per help."""
    provider_id = user.provider_id
    start, end = month_start(month), month_end(month)
    in_month = HourEntry.objects.filter(provider_id=provider_id).between(start, end)
    by_staff_kind = (
        in_month.values("staff_id", "staff__first_name", "staff__last_name", "kind")
        .annotate(total=Sum("minutes"))
        .order_by("staff__last_name", "staff__first_name")
    )
    staff_rows: dict[int, dict] = {}
    kind_totals = dict.fromkeys(HourKind.values, 0)
    for row in by_staff_kind:
        line = staff_rows.setdefault(
            row["staff_id"],
            {
                "staff_id": row["staff_id"],
                "name": f"{row['staff__first_name']} {row['staff__last_name']}",
                "kinds": dict.fromkeys(HourKind.values, 0),
                "total": 0,
                "approval": None,
                "open_entries": 0,
            },
        )
        line["kinds"][row["kind"]] += row["total"]
        line["total"] += row["total"]
        kind_totals[row["kind"]] += row["total"]
    open_counts = dict(
        in_month.filter(approval__isnull=True).values_list("staff_id").annotate(n=Count("id"))
    )
    for approval in MonthApproval.objects.filter(provider_id=provider_id, month=start):
        if approval.staff_id in staff_rows:
            staff_rows[approval.staff_id]["approval"] = approval
    for staff_id, n in open_counts.items():
        if staff_id in staff_rows:
            staff_rows[staff_id]["open_entries"] = n
    total = sum(kind_totals.values())
    shares = {
        kind: (Decimal(m * 100) / total).quantize(Decimal("0.1")) if total else None
        for kind, m in kind_totals.items()
    }
    for line in staff_rows.values():
        line["kind_list"] = [line["kinds"][k] for k in HourKind.values]
    # Correlated subqueries, each answered from the (help, date) index: a join with all
    # hour entries of every help (years of them) and GROUP BY took a second at city scale.
    of_help = HourEntry.objects.filter(help=OuterRef("pk")).order_by()
    rows = (
        Help.objects.active_in(start, end)
        .filter(provider_id=provider_id)
        .annotate(
            protected=ExpressionWrapper(protected("case__"), output_field=BooleanField()),
            month_minutes=Subquery(
                of_help.filter(date__gte=start, date__lte=end)
                .values("help")
                .annotate(total=Sum("minutes"))
                .values("total")
            ),
            last_entry=Subquery(of_help.order_by("-date").values("date")[:1]),
        )
        .order_by("case__family__name")
        # Plain rows, not models: building 1,500 helps with their cases and families
        # cost more than the query at city scale.
        .values_list(*HELP_LINE_FIELDS, "month_minutes", "last_entry", "protected")
    )
    rows = list(rows)
    unnamed = unnamed_helps(user, (row[0] for row in rows if row[-1]))
    elapsed = Decimal(1)
    if start <= today < end:
        elapsed = Decimal(today.day) / Decimal(end.day)
    checks = [
        PlanCheck(
            HelpLine(
                pk,
                legal_basis,
                setting,
                help_start,
                help_end,
                planned,
                # Whose it is stays out of the page for a help she may not see by name.
                CaseLine("", FamilyLine(""))
                if pk in unnamed
                else CaseLine(reference, FamilyLine(family)),
            ),
            minutes or 0,
            last_entry,
            elapsed,
        )
        for (
            pk,
            legal_basis,
            setting,
            help_start,
            help_end,
            planned,
            reference,
            family,
            minutes,
            last_entry,
            __,
        ) in rows
    ]
    quiet_since = today - datetime.timedelta(days=QUIET_DAYS)
    return {
        "start": start,
        "end": end,
        "unnamed": unnamed,
        "staff_rows": list(staff_rows.values()),
        "kind_totals": kind_totals,
        "kind_total_list": [kind_totals[k] for k in HourKind.values],
        "total": total,
        "shares": shares,
        "share_list": [shares[k] for k in HourKind.values],
        # Deviations from the plan first, then by family.
        "plan_checks": sorted(
            (c for c in checks if c.help.setting in AMBULANT_SETTINGS),
            key=lambda c: (not c.flag, c.help.case.family.name),
        ),
        # Longest without hours first (never any hours at the top).
        "quiet_helps": sorted(
            (
                c
                for c in checks
                if c.help.is_active_on(today)
                and (c.last_entry is None or c.last_entry < quiet_since)
            ),
            key=lambda c: (c.last_entry is not None, c.last_entry or today),
        ),
    }


def hours_summary(year: int) -> list[dict]:
    """Sums by provider, month and kind for the office: no names, no cases."""
    rows = (
        HourEntry.objects.filter(date__year=year)
        .values("provider__name", "date__month", "kind")
        .annotate(total=Sum("minutes"))
        .order_by("provider__name", "date__month", "kind")
    )
    return list(rows)


def delivered_by_help(help_ids, today: datetime.date | None = None) -> dict[int, dict]:
    """Minutes delivered per help: this month and in total (for the case page)."""
    today = today or timezone.localdate()
    start = month_start(today)
    rows = (
        HourEntry.objects.filter(help_id__in=help_ids)
        .values("help_id")
        .annotate(total=Sum("minutes"), month=Sum("minutes", filter=Q(date__gte=start)))
    )
    return {r["help_id"]: {"total": hours(r["total"]), "month": hours(r["month"])} for r in rows}
