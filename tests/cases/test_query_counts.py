"""Pages keep a constant number of queries however many cases, helps and plans there are.

The bounds were measured (see the comment at each) and are the same for the small and
the large data set: a query per row (N+1) pushes the large one over the bound.
"""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from cases.models import (
    ApprovalKind,
    Case,
    CaseAccessGrant,
    Family,
    Help,
    HelpApproval,
    HelpPlan,
    HelpPlanGoal,
    Person,
    RiskAssessment,
)
from tests import factories as f

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def bulk_cases(count: int, owners, provider) -> list[Case]:
    """`count` open cases spread over `owners`, each with two persons, a running help whose
    plan review and planned end are due soon, a pending hours change and a § 8a follow-up."""
    today = f.today()
    region = owners[0].team.region
    families = Family.objects.bulk_create(
        Family(name=f"Familie {i:03d}", postal_code="57072", region=region) for i in range(count)
    )
    Person.objects.bulk_create(
        Person(family=family, first_name=name, last_name=family.name, birth_date=born, role=role)
        for family in families
        for name, born, role in (
            ("Kind", datetime.date(2016, 1, 1), "child"),
            ("Mutter", datetime.date(1988, 1, 1), "parent"),
        )
    )
    cases = Case.objects.bulk_create(
        Case(
            reference=f"Q-{i:05d}",
            family=family,
            owner=owners[i % len(owners)],
            team=owners[i % len(owners)].team,
            opened_on=today - 200 * DAY,
        )
        for i, family in enumerate(families)
    )
    helps = Help.objects.bulk_create(
        Help(
            case=case,
            provider=provider,
            legal_basis="31",
            setting="ambulant",
            start=case.opened_on,
            planned_end=today + 10 * DAY,
            planned_hours_per_month=Decimal("10"),
            status="approved",
            created_by=case.owner,
        )
        for case in cases
    )
    plans = HelpPlan.objects.bulk_create(
        HelpPlan(
            help=help,
            version=1,
            meeting_date=help.start,
            participants="Familie, ASD",
            agreed_steps="Termine",
            next_review_due=today + 5 * DAY,
            created_by=help.created_by,
        )
        for help in helps
    )
    HelpPlanGoal.objects.bulk_create(HelpPlanGoal(plan=plan, description="Ziel") for plan in plans)
    HelpApproval.objects.bulk_create(
        HelpApproval(
            help=help,
            kind=ApprovalKind.HOURS_CHANGE,
            proposed_hours_per_month=Decimal("12"),
            requested_by=help.created_by,
        )
        for help in helps
    )
    RiskAssessment.objects.bulk_create(
        RiskAssessment(
            case=case,
            report_received_on=today - 10 * DAY,
            report_source="Schule",
            report_summary="Meldung",
            next_follow_up_on=today + 3 * DAY,
            created_by=case.owner,
        )
        for case in cases
    )
    return cases


def bulk_helps(case: Case, count: int, provider) -> None:
    """`count` running helps on `case`, each with three plan versions of two goals."""
    helps = Help.objects.bulk_create(
        Help(
            case=case,
            provider=provider,
            legal_basis="31",
            setting="ambulant",
            start=case.opened_on,
            planned_hours_per_month=Decimal("10"),
            status="approved",
            created_by=case.owner,
        )
        for __ in range(count)
    )
    plans = HelpPlan.objects.bulk_create(
        HelpPlan(
            help=help,
            version=version,
            is_current=version == 3,
            meeting_date=help.start + version * DAY,
            participants="Familie, ASD",
            agreed_steps="Termine",
            next_review_due=help.start + 180 * DAY,
            created_by=case.owner,
        )
        for help in helps
        for version in (1, 2, 3)
    )
    HelpPlanGoal.objects.bulk_create(
        HelpPlanGoal(plan=plan, position=i, description=f"Ziel {i}")
        for plan in plans
        for i in range(2)
    )


# Measured on PostgreSQL, 25.11.2026. Case list: session, user, count, page, audit entry (with
# the hash chain's advisory lock and the previous entry's hash) and the filter's choice lists
# (providers have no owner/team filter). Confidential cases and grants are filtered inside
# the count and page queries (EXISTS), so they add none.
CASE_LIST_QUERIES = {"asd": 10, "asdlead": 10, "fachkraft": 8}
# Desk: session, user, and one query per section (no approvals/follow-ups for providers).
DESK_QUERIES = {"asd": 7, "asdlead": 7, "fachkraft": 5}
# Case detail: session, user, case, audit entry (+ lock and previous hash of the chain),
# persons, helps + plans + goals + pending approvals and the resources involved
# (prefetched), delivered-hours panel; ASD also journal (entrusted entries filtered in the
# same query) and § 8a assessments.
CASE_DETAIL_QUERIES = {"asd": 15, "fachkraft": 13}


@pytest.fixture
def sign_in(client, request):
    def sign_in(persona: str):
        client.force_login(request.getfixturevalue(persona))
        return client

    return sign_in


@pytest.mark.parametrize("count", [10, 200])
@pytest.mark.parametrize("persona", ["asd", "asdlead", "fachkraft"])
def test_case_list_queries_do_not_grow_with_the_number_of_cases(
    sign_in, asd, asd_colleague, provider, django_assert_max_num_queries, persona, count
):
    bulk_cases(count, [asd, asd_colleague], provider)
    client = sign_in(persona)

    with django_assert_max_num_queries(CASE_LIST_QUERIES[persona]):
        response = client.get(reverse("cases:case_list"))

    assert len(response.context["page"]) == min(count, 25)  # a full page was rendered


@pytest.mark.parametrize("count", [10, 200])
@pytest.mark.parametrize("persona", ["asd", "asdlead", "fachkraft"])
def test_desk_queries_do_not_grow_with_the_number_of_cases(
    sign_in, asd, asd_colleague, provider, django_assert_max_num_queries, persona, count
):
    bulk_cases(count, [asd, asd_colleague], provider)
    client = sign_in(persona)

    with django_assert_max_num_queries(DESK_QUERIES[persona]):
        response = client.get(reverse("desk"))

    desk = response.context["desk"]
    sections = [desk.cases, desk.reviews, desk.helps_ending]
    if persona != "fachkraft":
        sections += [desk.approvals, desk.follow_ups]
    assert all(len(section) > 0 for section in sections)  # every list had rows to render


@pytest.mark.parametrize("helps", [1, 20])
@pytest.mark.parametrize("persona", ["asd", "fachkraft"])
def test_case_detail_queries_do_not_grow_with_helps_and_plan_versions(
    sign_in, asd, provider, django_assert_max_num_queries, persona, helps
):
    case = f.make_case(asd)
    bulk_helps(case, helps, provider)
    client = sign_in(persona)

    with django_assert_max_num_queries(CASE_DETAIL_QUERIES[persona]):
        response = client.get(reverse("cases:case_detail", args=[case.pk]))

    assert len(response.context["helps"]) == helps
    assert response.content.decode().count("Ziel 1") == helps  # goals of the current plans


@pytest.mark.parametrize("count", [10, 200])
@pytest.mark.parametrize("persona", ["asd", "asdlead", "fachkraft"])
def test_case_list_queries_stay_constant_with_confidential_cases_and_grants(
    sign_in, request, asd, asd_colleague, provider, django_assert_max_num_queries, persona, count
):
    cases = bulk_cases(count, [asd, asd_colleague], provider)
    Case.objects.filter(pk__in=[c.pk for c in cases[::2]]).update(confidential=True)
    user = request.getfixturevalue(persona)
    CaseAccessGrant.objects.bulk_create(
        CaseAccessGrant(
            case=case, user=user, reason="Vertretung", valid_from=f.today(), granted_by=case.owner
        )
        for case in cases[::4]
    )
    client = sign_in(persona)

    with django_assert_max_num_queries(CASE_LIST_QUERIES[persona]):
        response = client.get(reverse("cases:case_list"))

    visible = Case.objects.visible_to(user).count()
    assert visible < count or persona == "asd"  # unnamed confidential cases are left out
    assert len(response.context["page"]) == min(visible, 25)
