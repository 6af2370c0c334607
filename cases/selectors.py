"""Reads for the caseworker's desk: what needs attention today."""

import datetime
from dataclasses import dataclass

from django.db.models import QuerySet

from core.models import Role

from .models import ApprovalStatus, Case, Help, HelpApproval, HelpPlan, RiskAssessment

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
    visible = Case.objects.visible_to(user).open()
    mine = visible if user.role != Role.ASD else visible.filter(owner=user)
    soon = today + datetime.timedelta(days=DUE_SOON_DAYS)
    reviews = (
        HelpPlan.objects.current()
        .filter(help__in=Help.objects.visible_to(user).active_on(today).filter(case__in=mine))
        .filter(next_review_due__lte=soon)
        .select_related("help__case__family")
        .order_by("next_review_due")
    )
    helps_ending = (
        Help.objects.visible_to(user)
        .filter(case__in=mine)
        .ending_within(DUE_SOON_DAYS, today)
        .select_related("case__family", "provider")
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
            RiskAssessment.objects.visible_to(user)
            .filter(case__in=mine)
            .follow_up_due(7, today)
            .select_related("case__family")
            .order_by("next_follow_up_on")
        )
    return Desk(
        cases=mine.select_related("family__region", "owner").order_by("family__name")[:50],
        reviews=reviews[:50],
        helps_ending=helps_ending[:50],
        approvals=approvals.select_related("help__case__family", "help__provider", "requested_by")[
            :50
        ],
        follow_ups=follow_ups[:50],
    )
