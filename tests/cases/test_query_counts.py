"""Pages keep a constant number of queries however many cases, helps and plans there are.

The bounds were measured (see the comment at each) and are the same for the small and
the large data set: a query per row (N+1) pushes the large one over the bound.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import (
    ApprovalKind,
    Case,
    CaseAccessGrant,
    CaseNote,
    DeputyAssignment,
    EntrustedNoteGrant,
    Family,
    Help,
    HelpApproval,
    HelpPlan,
    HelpPlanGoal,
    Person,
    Resource,
    ResourceKind,
    RiskAssessment,
    Setting,
    TeamConsultation,
)
from providers.models import HourEntry, HourKind
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
# Case detail, measured on the city data set's bench case and on the world below: session,
# user, the case with the reader's rights (deputy of the owner, named for a confidential
# case: EXISTS in the same query), audit entry (+ lock and previous hash of the chain),
# helps (resources and pending approvals as arrays), plan versions, their goals, persons,
# delivered-hours panel; ASD also journal (entrusted entries filtered in the same query)
# and § 8a assessments; owner and team lead also the named people of a confidential case.
# The world below reproduces the bench's 19 queries of the code before (owner 16, deputy
# named for the case 19, team lead 18, provider staff 13: deputy and named checks asked
# twice, resources and approvals prefetched separately); now 14, 13, 14 and 11.
CASE_DETAIL_QUERIES = 15


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


def test_the_case_list_counts_without_joining_what_only_its_columns_show(sign_in, asd, provider):
    bulk_cases(30, [asd], provider)
    client = sign_in("asd")

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("cases:case_list"), {"ordering": "family"})

    count = next(q["sql"] for q in queries.captured_queries if "COUNT(*)" in q["sql"])
    assert "core_user" not in count and "cases_region" not in count
    assert response.context["page"].paginator.count == 30
    assert len(response.context["page"]) == 25


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


def confidential_case_in_full_use(owner, readers, provider, stationary_provider, size: int) -> Case:
    """A confidential case as the city data set has them (the bench's case page): `size`
    running helps with three plan versions each, resources, a team decision, pending
    approvals and delivered hours, a stationary help with its daily rate, `size` journal
    entries of which some are entrusted (some named to the readers, some not), § 8a
    assessments with both professionals, and `readers` named for the case."""
    today = f.today()
    case = f.make_case(owner, confidential=True)
    for i, born in enumerate((datetime.date(2012, 3, 1), datetime.date(2016, 5, 1))):
        f.make_person(case.family, first_name=f"Kind {i}", birth_date=born)
    CaseAccessGrant.objects.bulk_create(
        CaseAccessGrant(
            case=case, user=reader, reason="Vertretung", valid_from=today, granted_by=owner
        )
        for reader in readers
    )
    for reader in readers:
        if reader.role == "asd" and reader.team_id == owner.team_id:
            DeputyAssignment.objects.create(
                absent=owner,
                deputy=reader,
                valid_from=today,
                valid_until=today + 14 * DAY,
                reason="Urlaub",
                created_by=owner,
            )
    consultation = TeamConsultation.objects.create(
        case=case,
        held_on=today - 30 * DAY,
        options_considered="SPFH, Erziehungsbeistand",
        decision="SPFH",
        reasons="Bedarf im Alltag",
        created_by=owner,
    )
    bulk_helps(case, size, provider)
    helps = list(case.helps.all())
    Help.objects.filter(pk__in=[h.pk for h in helps]).update(team_consultation=consultation)
    resources = Resource.objects.bulk_create(
        Resource(
            region=owner.team.region, organisation=f"Beratungsstelle {i}", kind=ResourceKind.SCHOOL
        )
        for i in range(3)
    )
    for help in helps:
        help.resources.set(resources)
    HelpApproval.objects.bulk_create(
        HelpApproval(
            help=help,
            kind=ApprovalKind.HOURS_CHANGE,
            proposed_hours_per_month=Decimal("12"),
            requested_by=owner,
        )
        for help in helps
    )
    staff = next(r for r in readers if r.provider_id == provider.pk)
    HourEntry.objects.bulk_create(
        HourEntry(
            staff=staff,
            provider=provider,
            date=today - (i % 40) * DAY,
            minutes=45,
            kind=HourKind.CASE_SPECIFIC,
            activity="direct_work",
            help=helps[i % len(helps)],
        )
        for i in range(10 * size)
    )
    f.make_help(case, stationary_provider, setting=Setting.STATIONARY)
    notes = CaseNote.objects.bulk_create(
        CaseNote(case=case, author=owner, text=f"Eintrag {i}", entrusted=i % 3 == 0)
        for i in range(size + 3)
    )
    EntrustedNoteGrant.objects.bulk_create(
        EntrustedNoteGrant(note=note, user=reader, reason="Vertretung", granted_by=owner)
        for note in notes[::6]
        for reader in readers
        if reader.role in ("asd", "asd_lead")
    )
    for __ in range(max(1, size // 5)):
        f.make_risk_assessment(
            case,
            report_received_on=today - 10 * DAY,
            first_assessment_on=today - 5 * DAY,
            first_assessor=owner,
            second_assessor=readers[0],
            next_follow_up_on=today + 3 * DAY,
        )
    return case


@pytest.mark.parametrize("size", [1, 20])
@pytest.mark.parametrize("persona", ["asd_colleague", "asd", "asdlead", "fachkraft"])
def test_case_detail_queries_stay_constant_on_a_confidential_case_in_full_use(
    sign_in,
    asd,
    asd_colleague,
    asdlead,
    fachkraft,
    provider,
    stationary_provider,
    django_assert_max_num_queries,
    persona,
    size,
):
    # The case belongs to asd_colleague; asd deputises for her and, like the team lead and
    # the provider's staff member, is named for the case.
    case = confidential_case_in_full_use(
        asd_colleague, [asd, asdlead, fachkraft], provider, stationary_provider, size
    )
    client = sign_in(persona)

    with django_assert_max_num_queries(CASE_DETAIL_QUERIES):
        response = client.get(reverse("cases:case_detail", args=[case.pk]))

    page = response.content.decode()
    helps = size + (0 if persona == "fachkraft" else 1)  # staff see their provider's helps
    assert len(response.context["helps"]) == helps
    assert page.count("Ziel 1") == size  # goals of the current plans
    assert page.count("Beratungsstelle 2") == size
    assert page.count("(12,00 h)") == size  # pending hours changes
    if persona == "fachkraft":
        assert "notes" not in response.context and "assessments" not in response.context
    else:
        assert response.context["can_write"]  # owner, deputy and team lead, all named
        # § 65 SGB VIII: of the entrusted entries only those named to the reader are listed.
        reader = response.wsgi_request.user
        readable = CaseNote.objects.readable_by(reader).filter(case=case).count()
        assert len(response.context["notes"]) == readable
        assert readable < CaseNote.objects.filter(case=case).count() or persona == "asd_colleague"
        assert len(response.context["assessments"]) == max(1, size // 5)


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
