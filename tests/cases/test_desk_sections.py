"""Every section of the desk lists exactly what the user may see: the sections test the
case of each row directly (cases.models.asd_sees_case_q), and must agree with the plain
formulation "rows whose case is among her visible open cases", for every kind of user,
with confidential, named, closed and other teams' cases among the data."""

import datetime

import pytest

from cases.models import (
    ApprovalStatus,
    Case,
    CaseAccessGrant,
    CaseStatus,
    Help,
    HelpApproval,
    HelpPlan,
    RiskAssessment,
)
from cases.selectors import DUE_SOON_DAYS, desk_for
from core.models import Role
from tests import factories as f

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def _case_with_everything_due(owner, name, **extra):
    """An open case with a review, a help end and a § 8a follow-up due, and a request."""
    today = f.today()
    case = f.make_case(owner, family_name=name, **extra)
    help = f.make_help(case, f.make_provider(f"Träger {name}"), planned_end=today + 10 * DAY)
    f.make_plan(help, next_review_due=today + 5 * DAY)
    f.make_risk_assessment(case, next_follow_up_on=today + 2 * DAY)
    HelpApproval.objects.create(
        help=help, kind="hours_change", decision=ApprovalStatus.REQUESTED, requested_by=owner
    )
    return case


@pytest.fixture
def office(asd, asd_colleague, asdlead, asd_other_team):
    own = _case_with_everything_due(asd, "Eigen")
    confidential = _case_with_everything_due(asd, "Vertraulich", confidential=True)
    colleagues = _case_with_everything_due(asd_colleague, "Kollege")
    closed = _case_with_everything_due(asd, "Geschlossen")
    Case.objects.filter(pk=closed.pk).update(status=CaseStatus.CLOSED, closed_on=f.today())
    _case_with_everything_due(asd_other_team, "Anderes Team")
    return {"own": own, "confidential": confidential, "colleagues": colleagues}


def _expected(user, today):
    """The desk as "rows whose case is among her visible open cases" (subqueries)."""
    soon = today + DUE_SOON_DAYS * DAY
    if user.role == Role.ASD:
        mine = Case.objects.in_use().open().filter(owner=user)
    else:
        mine = Case.objects.visible_to(user).open()
    asd = user.role in (Role.ASD, Role.ASD_LEAD)
    helps = Help.objects.all() if asd else Help.objects.visible_to(user)
    approvals = HelpApproval.objects.none()
    if user.role == Role.ASD_LEAD:
        approvals = HelpApproval.objects.filter(
            decision=ApprovalStatus.REQUESTED,
            help__case__team_id=user.team_id,
            help__case__in=Case.objects.visible_to(user),
        ).exclude(requested_by=user)
    elif user.role == Role.ASD:
        approvals = HelpApproval.objects.filter(
            decision=ApprovalStatus.REQUESTED, requested_by=user
        )
    return {
        "cases": set(mine.values_list("pk", flat=True)),
        "reviews": set(
            HelpPlan.objects.current()
            .filter(help__in=helps.active_on(today).filter(case__in=mine))
            .filter(next_review_due__lte=soon)
            .values_list("pk", flat=True)
        ),
        "helps_ending": set(
            helps.filter(case__in=mine)
            .ending_within(DUE_SOON_DAYS, today)
            .values_list("pk", flat=True)
        ),
        "follow_ups": set(
            RiskAssessment.objects.filter(case__in=mine)
            .follow_up_due(7, today)
            .values_list("pk", flat=True)
            if asd
            else []
        ),
        "approvals": set(approvals.values_list("pk", flat=True)),
    }


def _shown(desk):
    return {
        section: {row.pk for row in getattr(desk, section)}
        for section in ("cases", "reviews", "helps_ending", "follow_ups", "approvals")
    }


@pytest.mark.parametrize(
    "persona", ["asd", "asd_colleague", "asdlead", "named_lead", "fachkraft", "asd_other_team"]
)
def test_each_section_lists_exactly_what_the_user_sees(request, office, persona, asdlead):
    if persona == "named_lead":
        CaseAccessGrant.objects.create(
            case=office["confidential"],
            user=asdlead,
            reason="Vertretung",
            valid_from=f.today(),
            granted_by=office["confidential"].owner,
        )
        user = asdlead
    else:
        user = request.getfixturevalue(persona)
    today = f.today()

    shown = _shown(desk_for(user, today))

    assert shown == _expected(user, today)
    cases = shown["cases"]
    if persona == "asd":
        assert cases == {office["own"].pk, office["confidential"].pk}
    if persona == "asdlead":
        assert cases == {office["own"].pk, office["colleagues"].pk}
        # Requests on her team's cases, closed ones too; not on the confidential case.
        assert len(shown["approvals"]) == 3
    if persona == "named_lead":
        assert office["confidential"].pk in cases
        assert len(shown["approvals"]) == 4
    if persona in ("asd", "asd_colleague", "asdlead"):
        assert all(shown[section] for section in shown)  # the data reach every section
