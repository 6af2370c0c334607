"""Reads for the caseworker's desk (what needs attention today) and the case page."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import CharField, OuterRef, Prefetch, QuerySet
from django.db.models.functions import Cast, JSONObject

from core.models import USER_NAME_FIELDS, Role

from .models import (
    ApprovalStatus,
    Case,
    Help,
    HelpApproval,
    HelpPlan,
    Resource,
    RiskAssessment,
)

DUE_SOON_DAYS = 30


@dataclass
class Desk:
    cases: QuerySet
    reviews: QuerySet
    helps_ending: QuerySet
    approvals: QuerySet
    follow_ups: QuerySet


def desk_for(user, today: datetime.date) -> Desk:
    """The team lead sees the team's desk; a caseworker her own cases; providers theirs."""
    if user.role == Role.ASD:
        # Her own cases: an owner sees them all (Case.visible_to), confidential or not.
        mine = Case.objects.in_use().open().filter(owner=user)
    else:
        mine = Case.objects.visible_to(user).open()
    # On the ASD's cases she sees every help; a provider sees only its own helps there.
    helps = (
        Help.objects.all()
        if user.role in (Role.ASD, Role.ASD_LEAD)
        else Help.objects.visible_to(user)
    )
    soon = today + datetime.timedelta(days=DUE_SOON_DAYS)
    reviews = (
        HelpPlan.objects.current()
        .filter(help__in=helps.active_on(today).filter(case__in=mine))
        .filter(next_review_due__lte=soon)
        .select_related("help__case__family")
        .only("next_review_due", "help__legal_basis", "help__case__family__name")
        .order_by("next_review_due")
    )
    helps_ending = (
        helps.filter(case__in=mine)
        .ending_within(DUE_SOON_DAYS, today)
        .select_related("case__family", "provider")
        .only(
            "legal_basis",
            "planned_end",
            "case__family__name",
            "provider__name",
            "provider__short_name",
        )
        .order_by("planned_end")
    )
    approvals = HelpApproval.objects.none()
    follow_ups = RiskAssessment.objects.none()
    if user.role == Role.ASD_LEAD:
        # Confidential cases (§ 35 SGB I) stay off the lead's desk unless she is named.
        approvals = HelpApproval.objects.filter(
            decision=ApprovalStatus.REQUESTED,
            help__case__team_id=user.team_id,
            help__case__in=Case.objects.visible_to(user),
        ).exclude(requested_by=user)
    elif user.role == Role.ASD:
        approvals = HelpApproval.objects.filter(
            decision=ApprovalStatus.REQUESTED, requested_by=user
        )
    if user.role in (Role.ASD, Role.ASD_LEAD):
        follow_ups = (
            RiskAssessment.objects.filter(case__in=mine)
            .follow_up_due(7, today)
            .select_related("case__family")
            .only("next_follow_up_on", "risk_level", "case__reference", "case__family__name")
            .order_by("next_follow_up_on")
        )
    # Each section loads only the columns it shows (the rows have long texts besides).
    return Desk(
        cases=mine.select_related("family__region", "owner")
        .only(
            "reference",
            "opened_on",
            "family__name",
            "family__region__name",
            *(f"owner__{name}" for name in USER_NAME_FIELDS),
        )
        .order_by("family__name")[:50],
        reviews=reviews[:50],
        helps_ending=helps_ending[:50],
        approvals=approvals.select_related(
            "help__case__family", "help__provider", "requested_by"
        ).only(
            "kind",
            "requested_at",
            "help__legal_basis",
            "help__case__family__name",
            "help__provider__name",
            "help__provider__short_name",
            *(f"requested_by__{name}" for name in USER_NAME_FIELDS),
        )[:50],
        follow_ups=follow_ups[:50],
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
