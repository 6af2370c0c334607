"""Who may read or change which part of the case file: the one place views ask.

Objects outside a user's scope answer 404 (as if they did not exist), so ids
cannot be probed; a read-only user trying to write gets 403.
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from core.models import Role

from .models import Case, Family, Help, HelpApproval, HelpPlan, RiskAssessment


def can_write_case(user, case: Case) -> bool:
    if not case.is_open:
        return False
    if user.role == Role.ASD:
        return case.owner_id == user.pk
    if user.role == Role.ASD_LEAD:
        return case.team_id == user.team_id
    return False


def can_reassign_case(user, case: Case) -> bool:
    return user.role == Role.ASD_LEAD and case.team_id == user.team_id and case.is_open


def sees_risk_assessments(user) -> bool:
    return user.role in (Role.ASD, Role.ASD_LEAD)


def sees_journal(user) -> bool:
    # The journal is the ASD's own documentation; providers work from the help plan.
    return user.role in (Role.ASD, Role.ASD_LEAD)


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def get_case_for(user, pk: int, *, write: bool = False) -> Case:
    case = get_object_or_404(
        Case.objects.visible_to(user).select_related("family__region", "owner", "team"), pk=pk
    )
    if write:
        _require(can_write_case(user, case))
    return case


def get_family_for(user, pk: int, *, write: bool = False) -> Family:
    family = get_object_or_404(Family.objects.visible_to(user).select_related("region"), pk=pk)
    if write:
        _require(Family.objects.writable_by(user).filter(pk=family.pk).exists())
    return family


def get_help_for(user, pk: int, *, write: bool = False) -> Help:
    help = get_object_or_404(
        Help.objects.visible_to(user).select_related("case__family", "provider"), pk=pk
    )
    if write:
        _require(can_write_case(user, help.case))
    return help


def get_plan_for(user, pk: int) -> HelpPlan:
    return get_object_or_404(
        HelpPlan.objects.filter(help__in=Help.objects.visible_to(user)).select_related(
            "help__case__family", "help__provider", "created_by"
        ),
        pk=pk,
    )


def get_risk_assessment_for(user, pk: int, *, write: bool = False) -> RiskAssessment:
    assessment = get_object_or_404(
        RiskAssessment.objects.visible_to(user).select_related("case__family"), pk=pk
    )
    if write:
        _require(can_write_case(user, assessment.case))
    return assessment


def get_approval_for(user, pk: int) -> HelpApproval:
    return get_object_or_404(
        HelpApproval.objects.filter(help__case__in=Case.objects.visible_to(user))
        .filter(help__case__team_id=user.team_id)
        .select_related("help__case__family", "help__provider", "requested_by"),
        pk=pk,
    )
