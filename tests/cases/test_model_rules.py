"""Rules the database itself keeps, and the QuerySet vocabulary the views are built on."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from cases.models import (
    ApprovalKind,
    ApprovalStatus,
    Case,
    CaseStatus,
    Help,
    HelpApproval,
    RiskAssessment,
)
from tests import factories as f

pytestmark = pytest.mark.django_db

D = datetime.date
ONE_DAY = datetime.timedelta(days=1)


# --- Database constraints -----------------------------------------------------------


def test_family_has_at_most_one_open_case(case, asd):
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.create(
            reference="T-DOUBLE", family=case.family, owner=asd, team=asd.team, opened_on=f.today()
        )


def test_family_may_have_a_new_case_once_the_old_one_is_closed(case, asd):
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED, closed_on=f.today())

    f.make_case(asd, family=case.family, opened_on=f.today())

    assert case.family.cases.count() == 2


def test_second_open_case_fails_model_validation_with_a_clear_message(case, asd):
    second = Case(
        reference="T-DOUBLE", family=case.family, owner=asd, team=asd.team, opened_on=f.today()
    )

    with pytest.raises(ValidationError) as error, translation.override("en"):
        second.validate_constraints()

    assert "This family already has an open case." in error.value.messages


def test_help_cannot_end_before_it_starts(case, provider):
    with pytest.raises(IntegrityError), transaction.atomic():
        f.make_help(
            case,
            provider,
            start=D(2026, 3, 1),
            end=D(2026, 2, 28),
            end_reason="as_planned",
        )


def test_help_cannot_end_without_a_reason(case, provider):
    with pytest.raises(IntegrityError), transaction.atomic():
        f.make_help(case, provider, start=D(2026, 3, 1), end=D(2026, 3, 31), end_reason="")


def test_help_end_reason_needs_an_end(case, provider):
    with pytest.raises(IntegrityError), transaction.atomic():
        f.make_help(case, provider, start=D(2026, 3, 1), end_reason="as_planned")


def test_approval_is_never_decided_by_the_requester(asd, running_help):
    with pytest.raises(IntegrityError), transaction.atomic():
        HelpApproval.objects.create(
            help=running_help,
            kind=ApprovalKind.HOURS_CHANGE,
            proposed_hours_per_month=Decimal("25"),
            requested_by=asd,
            decided_by=asd,
            decision=ApprovalStatus.APPROVED,
        )


def test_help_waits_for_at_most_one_approval(asd, pending_help):
    with pytest.raises(IntegrityError), transaction.atomic():
        HelpApproval.objects.create(
            help=pending_help, kind=ApprovalKind.HOURS_CHANGE, requested_by=asd
        )


def test_plan_version_number_is_unique_per_help(running_help):
    with pytest.raises(IntegrityError), transaction.atomic():
        f.make_plan(running_help, version=1, is_current=False)


def test_help_has_one_current_plan(running_help):
    with pytest.raises(IntegrityError), transaction.atomic():
        f.make_plan(running_help, version=2, is_current=True)


# --- Help.objects.active_on / active_in (DOMAIN.md: both borders inclusive) ----------------


@pytest.fixture
def march_help(asd, provider):
    """An approved help from 1 to 31 March 2026."""
    case = f.make_case(asd, opened_on=D(2026, 1, 1))
    return f.make_help(
        case, provider, start=D(2026, 3, 1), end=D(2026, 3, 31), end_reason="as_planned"
    )


@pytest.mark.parametrize(
    ("day", "active"),
    [
        (D(2026, 2, 28), False),
        (D(2026, 3, 1), True),
        (D(2026, 3, 15), True),
        (D(2026, 3, 31), True),
        (D(2026, 4, 1), False),
    ],
)
def test_help_is_active_from_its_start_to_its_end_day(march_help, day, active):
    assert Help.objects.active_on(day).filter(pk=march_help.pk).exists() is active
    assert march_help.is_active_on(day) is active


@pytest.mark.parametrize(
    ("start", "end", "active"),
    [
        (D(2026, 2, 1), D(2026, 2, 28), False),  # ends the day before the help starts
        (D(2026, 2, 1), D(2026, 3, 1), True),  # ends on the start day
        (D(2026, 3, 10), D(2026, 3, 20), True),  # inside
        (D(2026, 1, 1), D(2026, 12, 31), True),  # around
        (D(2026, 3, 31), D(2026, 4, 30), True),  # starts on the end day
        (D(2026, 4, 1), D(2026, 4, 30), False),  # starts the day after the help ended
    ],
)
def test_help_is_active_in_a_period_it_touches(march_help, start, end, active):
    assert Help.objects.active_in(start, end).filter(pk=march_help.pk).exists() is active


def test_open_ended_help_stays_active(asd, provider):
    case = f.make_case(asd, opened_on=D(2026, 1, 1))
    help = f.make_help(case, provider, start=D(2026, 3, 1))

    assert Help.objects.active_on(D(2030, 1, 1)).filter(pk=help.pk).exists()
    assert Help.objects.active_in(D(2030, 1, 1), D(2030, 12, 31)).filter(pk=help.pk).exists()


@pytest.mark.parametrize("status", [ApprovalStatus.REQUESTED, ApprovalStatus.REJECTED])
def test_help_without_approval_is_never_active(asd, provider, status):
    case = f.make_case(asd, opened_on=D(2026, 1, 1))
    help = f.make_help(case, provider, start=D(2026, 3, 1), status=status)

    assert not Help.objects.active_on(D(2026, 3, 15)).filter(pk=help.pk).exists()
    assert not Help.objects.active_in(D(2026, 1, 1), D(2026, 12, 31)).filter(pk=help.pk).exists()


# --- Case.objects.review_overdue ------------------------------------------------------------

TODAY = D(2026, 6, 15)


def case_with_plan(owner, provider, *, review_due, **help_options):
    case = f.make_case(owner, opened_on=D(2026, 1, 1))
    help = f.make_help(case, provider, start=D(2026, 1, 1), **help_options)
    f.make_plan(help, meeting_date=D(2026, 1, 10), next_review_due=review_due)
    return case


def overdue(today=TODAY) -> set[Case]:
    return set(Case.objects.review_overdue(today))


def test_case_whose_review_date_has_passed_is_overdue(asd, provider):
    case = case_with_plan(asd, provider, review_due=TODAY - ONE_DAY)

    assert overdue() == {case}


def test_review_due_today_is_not_yet_overdue(asd, provider):
    case_with_plan(asd, provider, review_due=TODAY)

    assert overdue() == set()


def test_review_of_an_ended_help_is_not_overdue(asd, provider):
    case_with_plan(
        asd, provider, review_due=TODAY - ONE_DAY, end=TODAY - ONE_DAY, end_reason="as_planned"
    )

    assert overdue() == set()


def test_review_of_a_help_not_yet_approved_is_not_overdue(asd, provider):
    case_with_plan(asd, provider, review_due=TODAY - ONE_DAY, status=ApprovalStatus.REQUESTED)

    assert overdue() == set()


def test_only_the_current_plan_version_counts_for_the_review(asd, provider):
    case = case_with_plan(asd, provider, review_due=TODAY - ONE_DAY)
    help = case.helps.get()
    help.plans.update(is_current=False)
    f.make_plan(help, version=2, meeting_date=D(2026, 6, 1), next_review_due=D(2026, 12, 1))

    assert overdue() == set()


# --- visible_to: who may read which case (DOMAIN.md access table) -------------------------


TEAM_NORD = {"case", "ended", "requested", "future", "ends_today", "colleague"}
TEAM_MITTE = {"other_team", "other_provider"}


@pytest.fixture
def cases(case, asd, asd_colleague, asd_other_team, provider, other_provider):
    """Cases of both teams with helps in every state that matters for provider access."""
    today = f.today()

    def case_of(owner, name, help_provider=None, **help_options):
        new = f.make_case(owner, family_name=name)
        if help_provider is not None:
            f.make_help(new, help_provider, **help_options)
        return new

    return {
        "case": case,  # running help by `provider`
        "ended": case_of(asd, "Ende", provider, end=today - ONE_DAY, end_reason="as_planned"),
        "requested": case_of(asd, "Antrag", provider, status=ApprovalStatus.REQUESTED),
        "future": case_of(asd, "Zukunft", provider, start=today + ONE_DAY),
        "ends_today": case_of(asd, "Heute", provider, end=today, end_reason="as_planned"),
        "colleague": case_of(asd_colleague, "Kollegin"),
        "other_team": case_of(asd_other_team, "Mitte"),
        "other_provider": case_of(asd_other_team, "SkF", other_provider),
    }


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("asd", TEAM_NORD),
        ("asd_colleague", TEAM_NORD),
        ("asdlead", TEAM_NORD),
        ("asd_other_team", TEAM_MITTE),
        # Providers: only while an approved help of theirs runs today (end day included).
        ("fachkraft", {"case", "ends_today"}),
        ("traegerleitung", {"case", "ends_today"}),
        ("fachkraft_other_provider", {"other_provider"}),
        ("leitung", set()),
        ("controlling", set()),
        ("datenschutz", set()),
        ("admin_user", set()),
    ],
)
def test_each_role_sees_the_cases_the_access_table_allows(request, cases, persona, visible):
    user = request.getfixturevalue(persona)

    seen = set(Case.objects.visible_to(user))

    assert seen == {cases[name] for name in visible}


def test_anonymous_sees_no_case(cases):
    assert not Case.objects.visible_to(AnonymousUser()).exists()


@pytest.mark.parametrize(
    ("persona", "writable"),
    [
        ("asd", {"case", "ended", "requested", "future", "ends_today"}),
        ("asd_colleague", {"colleague"}),
        ("asdlead", TEAM_NORD),
        ("fachkraft", set()),
        ("leitung", set()),
    ],
)
def test_only_owner_and_team_lead_may_change_a_case(request, cases, persona, writable):
    user = request.getfixturevalue(persona)

    assert set(Case.objects.writable_by(user)) == {cases[name] for name in writable}


@pytest.mark.parametrize("persona", ["fachkraft", "traegerleitung"])
def test_providers_never_see_risk_assessments(request, case, persona):
    user = request.getfixturevalue(persona)

    assert Case.objects.visible_to(user).filter(pk=case.pk).exists()
    assert not RiskAssessment.objects.visible_to(user).exists()


def test_team_sees_risk_assessments_of_team_cases_only(case, asd_colleague, asd_other_team):
    assert set(RiskAssessment.objects.visible_to(asd_colleague)) == set(case.risk_assessments.all())
    assert not RiskAssessment.objects.visible_to(asd_other_team).exists()
