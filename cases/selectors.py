"""Reads for the caseworker's desk (what needs attention today) and the case page."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import CharField, OuterRef, Prefetch, Q
from django.db.models.functions import Cast, JSONObject

from core.choices import label_of
from core.models import USER_NAME_FIELDS, Role, display_name
from providers.models import provider_label

from .models import (
    ApprovalKind,
    ApprovalStatus,
    Case,
    CaseStatus,
    Help,
    HelpApproval,
    HelpPlan,
    LegalBasis,
    Resource,
    RiskAssessment,
    RiskLevel,
    _active_on_q,
    asd_sees_case_q,
    in_use_q,
)

DUE_SOON_DAYS = 30


@dataclass(frozen=True, slots=True)
class CaseRow:
    """A case as the desk and the case list show it."""

    pk: int
    reference: str
    family_name: str
    region_name: str
    owner: str
    opened_on: datetime.date
    status: str

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN

    def get_status_display(self) -> str:
        return label_of(CaseStatus, self.status)


CASE_ROW_FIELDS = (
    "pk",
    "reference",
    "family__name",
    "family__region__name",
    "opened_on",
    "status",
    *(f"owner__{name}" for name in USER_NAME_FIELDS),
)


def case_rows(rows) -> list[CaseRow]:
    """CaseRows of `rows`, a queryset's values_list(*CASE_ROW_FIELDS)."""
    return [
        CaseRow(pk, reference, family, region, display_name(*owner), opened_on, status)
        for pk, reference, family, region, opened_on, status, *owner in rows
    ]


@dataclass(frozen=True, slots=True)
class ReviewRow:
    pk: int
    next_review_due: datetime.date
    case_id: int
    family_name: str
    legal_basis: str

    def get_legal_basis_display(self) -> str:
        return label_of(LegalBasis, self.legal_basis)


@dataclass(frozen=True, slots=True)
class EndingRow:
    pk: int
    case_id: int
    family_name: str
    legal_basis: str
    provider: str
    planned_end: datetime.date

    def get_legal_basis_display(self) -> str:
        return label_of(LegalBasis, self.legal_basis)


@dataclass(frozen=True, slots=True)
class ApprovalRow:
    pk: int
    kind: str
    requested_at: datetime.datetime
    case_id: int
    family_name: str
    legal_basis: str
    provider: str
    requested_by: str

    def get_kind_display(self) -> str:
        return label_of(ApprovalKind, self.kind)

    def get_legal_basis_display(self) -> str:
        return label_of(LegalBasis, self.legal_basis)


@dataclass(frozen=True, slots=True)
class FollowUpRow:
    pk: int
    case_reference: str
    family_name: str
    next_follow_up_on: datetime.date
    risk_level: str

    def get_risk_level_display(self) -> str:
        return label_of(RiskLevel, self.risk_level)


@dataclass
class Desk:
    """The rows of the desk's sections, up to 50 each."""

    cases: list[CaseRow]
    reviews: list[ReviewRow]
    helps_ending: list[EndingRow]
    approvals: list[ApprovalRow]
    follow_ups: list[FollowUpRow]


def desk_for(user, today: datetime.date) -> Desk:
    """The team lead sees the team's desk; a caseworker her own cases; providers theirs."""
    soon = today + datetime.timedelta(days=DUE_SOON_DAYS)
    approvals = HelpApproval.objects.none()
    follow_ups = RiskAssessment.objects.none()
    if user.role in (Role.ASD, Role.ASD_LEAD):
        # The sections join their case and test it directly (no subquery of her cases):
        # the caseworker's own open cases (an owner sees them all, confidential or not),
        # the lead's visible open cases of the team. On the ASD's cases she sees every help.
        def mine(prefix: str) -> Q:
            open_case = Q(**{f"{prefix}status": CaseStatus.OPEN})
            if user.role == Role.ASD:
                return open_case & in_use_q(prefix) & Q(**{f"{prefix}owner": user})
            return open_case & asd_sees_case_q(user, today, prefix)

        cases = Case.objects.filter(mine(""))
        reviews = HelpPlan.objects.current().filter(
            mine("help__case__"),
            _active_on_q(today, "help__"),
            help__status=ApprovalStatus.APPROVED,
        )
        helps_ending = Help.objects.filter(mine("case__")).ending_within(DUE_SOON_DAYS, today)
        follow_ups = (
            RiskAssessment.objects.filter(mine("case__"))
            .follow_up_due(7, today)
            .order_by("next_follow_up_on")
        )
        if user.role == Role.ASD_LEAD:
            # Confidential cases (§ 35 SGB I) stay off the lead's desk unless she is named.
            # From the few requests to their cases: a subquery of her visible cases lets
            # PostgreSQL start there (joined, it walked every help of the team).
            approvals = HelpApproval.objects.filter(
                decision=ApprovalStatus.REQUESTED,
                help__case__team_id=user.team_id,
                help__case__in=Case.objects.visible_to(user, today),
            ).exclude(requested_by=user)
        else:
            approvals = HelpApproval.objects.filter(
                decision=ApprovalStatus.REQUESTED, requested_by=user
            )
    else:
        # A provider sees only its own helps on the cases it serves.
        cases = Case.objects.visible_to(user).open()
        helps = Help.objects.visible_to(user)
        reviews = HelpPlan.objects.current().filter(
            help__in=helps.active_on(today).filter(case__in=cases)
        )
        helps_ending = helps.filter(case__in=cases).ending_within(DUE_SOON_DAYS, today)
    # Each section reads only the columns it shows, as plain rows: a lead's desk has
    # five sections of up to 50 rows, and a row as model instances (with its help,
    # case, family, provider) cost more to build than to show.
    review_rows = (
        reviews.filter(next_review_due__lte=soon)
        .order_by("next_review_due")
        .values_list(
            "pk",
            "next_review_due",
            "help__case_id",
            "help__case__family__name",
            "help__legal_basis",
        )
    )
    ending_rows = helps_ending.order_by("planned_end").values_list(
        "pk",
        "case_id",
        "case__family__name",
        "legal_basis",
        "provider__name",
        "provider__short_name",
        "planned_end",
    )
    approval_rows = approvals.values_list(
        "pk",
        "kind",
        "requested_at",
        "help__case_id",
        "help__case__family__name",
        "help__legal_basis",
        "help__provider__name",
        "help__provider__short_name",
        *(f"requested_by__{n}" for n in USER_NAME_FIELDS),
    )
    follow_up_rows = follow_ups.values_list(
        "pk", "case__reference", "case__family__name", "next_follow_up_on", "risk_level"
    )
    return Desk(
        cases=case_rows(cases.order_by("family__name").values_list(*CASE_ROW_FIELDS)[:50]),
        reviews=[ReviewRow(*row) for row in review_rows[:50]],
        helps_ending=[
            EndingRow(pk, case_id, family, basis, provider_label(provider, short_name), end)
            for pk, case_id, family, basis, provider, short_name, end in ending_rows[:50]
        ],
        approvals=[
            ApprovalRow(
                pk,
                kind,
                at,
                case_id,
                family,
                basis,
                provider_label(provider, short),
                display_name(*by),
            )
            for pk, kind, at, case_id, family, basis, provider, short, *by in approval_rows[:50]
        ],
        follow_ups=[FollowUpRow(*row) for row in follow_up_rows[:50]],
    )


def case_helps_for(case: Case, user) -> list[Help]:
    """The helps on the case page with everything they show, in three queries whatever
    their number on PostgreSQL: helps (with the resources' names and the pending
    approvals as arrays), plan versions (newest first) and their goals. Elsewhere
    (SQLite, `make run`) the names and approvals take one query each.

    Each help gets `resource_names`, `pending_approvals` (unsaved HelpApproval objects with
    kind and proposed hours) and `plan_versions`.
    """
    helps = (
        Help.objects.on_case_seen_by(case, user)
        .select_related("provider", "recipient", "team_consultation")
        # The page names the team consultation only by its date.
        .defer(
            "team_consultation__options_considered",
            "team_consultation__decision",
            "team_consultation__reasons",
        )
        .prefetch_related(
            Prefetch(
                "plans",
                queryset=HelpPlan.objects.select_related("created_by").prefetch_related("goals"),
                to_attr="plan_versions",
            )
        )
    )
    if connection.vendor != "postgresql":
        return _with_names_and_approvals(list(helps))
    resource_names = Resource.objects.filter(helps=OuterRef("pk")).order_by("organisation")
    pending = HelpApproval.objects.filter(
        help=OuterRef("pk"), decision=ApprovalStatus.REQUESTED
    ).order_by("requested_at", "pk")
    helps = list(
        helps.annotate(
            resource_names=ArraySubquery(resource_names.values("organisation")),
            pending_approval_rows=ArraySubquery(
                # Hours as text keep their two decimal places through JSON.
                pending.values(
                    row=JSONObject(kind="kind", hours=Cast("proposed_hours_per_month", CharField()))
                )
            ),
        )
    )
    for help in helps:
        help.pending_approvals = [
            HelpApproval(
                help=help,
                kind=row["kind"],
                proposed_hours_per_month=None if row["hours"] is None else Decimal(row["hours"]),
            )
            for row in help.pending_approval_rows
        ]
    return helps


def _with_names_and_approvals(helps: list[Help]) -> list[Help]:
    """What case_helps_for reads as arrays on PostgreSQL, in two plain queries."""
    names: dict[int, list[str]] = {help.pk: [] for help in helps}
    rows = Resource.objects.filter(helps__in=helps).order_by("organisation")
    for help_id, organisation in rows.values_list("helps", "organisation"):
        names[help_id].append(organisation)
    pending: dict[int, list[HelpApproval]] = {help.pk: [] for help in helps}
    approvals = HelpApproval.objects.filter(help__in=helps, decision=ApprovalStatus.REQUESTED)
    for approval in approvals.order_by("requested_at", "pk"):
        pending[approval.help_id].append(approval)
    for help in helps:
        help.resource_names = names[help.pk]
        help.pending_approvals = pending[help.pk]
    return helps
