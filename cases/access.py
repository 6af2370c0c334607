"""Who may read or change which part of the case file: the one place views ask.

Objects outside a user's scope answer 404 (as if they did not exist), so ids
cannot be probed; a read-only user trying to write gets 403.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Value
from django.shortcuts import get_object_or_404
from django.utils import timezone

from core.models import Role

from .models import (
    Case,
    CaseAccessGrant,
    CaseNote,
    DeputyAssignment,
    Family,
    Help,
    HelpApproval,
    HelpPlan,
    RiskAssessment,
)


def has_named_access(user, case: Case) -> bool:
    """An active CaseAccessGrant (§ 35 SGB I) names `user` for `case`."""
    return (
        CaseAccessGrant.objects.active_on(timezone.localdate())
        .filter(case=case, user_id=user.pk)
        .exists()
    )


def is_deputy_for(user, absent_id: int) -> bool:
    return (
        DeputyAssignment.objects.active_on(timezone.localdate())
        .filter(deputy_id=user.pk, absent_id=absent_id)
        .exists()
    )


def _rights_known(user, case: Case) -> bool:
    """The case was read by get_case_for for this very user."""
    return getattr(case, "rights_of_user_id", None) == user.pk


def can_write_case(user, case: Case) -> bool:
    """Mirrors Case.objects.writable_by for one case, asking the database only when needed."""
    if not case.is_open or not case.is_in_use or user.role not in (Role.ASD, Role.ASD_LEAD):
        return False
    if case.owner_id == user.pk:
        return True
    if user.team_id is None or case.team_id != user.team_id:
        return False
    known = _rights_known(user, case)
    if user.role == Role.ASD and not (
        case.user_is_deputy if known else is_deputy_for(user, case.owner_id)
    ):
        return False
    return not case.confidential or (case.user_is_named if known else has_named_access(user, case))


def can_manage_access(user, case: Case) -> bool:
    """Owner or team lead decide who sees the case (§ 35 SGB I); the lead of a
    confidential case only when named, as she does not see it otherwise."""
    if case.owner_id == user.pk:
        return True
    return user.role == Role.ASD_LEAD and case.team_id == user.team_id


def can_reassign_case(user, case: Case) -> bool:
    return can_write_case(user, case) and user.role == Role.ASD_LEAD


def sees_risk_assessments(user) -> bool:
    return user.role in (Role.ASD, Role.ASD_LEAD)


def sees_journal(user) -> bool:
    # The journal is the ASD's own documentation; providers work from the help plan.
    return user.role in (Role.ASD, Role.ASD_LEAD)


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def get_case_for(user, pk: int, *, write: bool = False) -> Case:
    """The case if `user` may see it (else 404), read in one query together with whether
    `user` deputises for the owner and is named for the case (§ 35 SGB I), so that
    can_write_case needs no further query."""
    today = timezone.localdate()
    cases = (
        Case.objects.visible_to(user, today)
        .select_related("family__region", "owner", "team")
        .annotate(
            rights_of_user_id=Value(user.pk),
            user_is_deputy=Exists(
                DeputyAssignment.objects.active_on(today).filter(
                    deputy_id=user.pk, absent_id=OuterRef("owner_id")
                )
            ),
            user_is_named=Exists(
                CaseAccessGrant.objects.active_on(today).filter(
                    case_id=OuterRef("pk"), user_id=user.pk
                )
            ),
        )
    )
    case = get_object_or_404(cases, pk=pk)
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


def get_grant_for(user, pk: int) -> CaseAccessGrant:
    """A named access, for the owner or team lead of its case (others: 404 / 403)."""
    grant = get_object_or_404(
        CaseAccessGrant.objects.filter(case__in=Case.objects.visible_to(user)).select_related(
            "case", "user"
        ),
        pk=pk,
    )
    _require(can_manage_access(user, grant.case))
    return grant


def get_entrusted_note_for_author(user, pk: int) -> CaseNote:
    """An entrusted journal entry whose readers only its author names (§ 65 SGB VIII)."""
    note = get_object_or_404(
        CaseNote.objects.visible_to(user).filter(entrusted=True).select_related("case__family"),
        pk=pk,
    )
    _require(note.author_id == user.pk)
    return note


def get_deputy_assignment_for(user, pk: int) -> DeputyAssignment:
    return get_object_or_404(
        DeputyAssignment.objects.filter(absent__team_id=user.team_id).select_related(
            "absent", "deputy"
        ),
        pk=pk,
    )
