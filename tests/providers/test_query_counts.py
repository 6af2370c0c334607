"""The hour sheet and the lead's overview cost the same number of queries at any size.

Each page is measured with a small world (5 entries, 3 helps) and a large one
(200 entries, 40 helps) under the same bound, so an N+1 in a template loop or a
selector fails here. The bounds are the numbers measured when these tests were
written; raise one only for a new, constant query.
"""

import datetime

import pytest
from django.urls import reverse

from core.models import Role
from providers.models import ApprovalState, HourEntry, HourKind, MonthApproval
from tests import factories as f

from .conftest import MONDAY, TODAY

pytestmark = pytest.mark.django_db

SIZES = [
    pytest.param(5, 3, id="5-entries-3-helps"),
    pytest.param(200, 40, id="200-entries-40-helps"),
]

# Measured on 2026-11 (Django 6.0, PostgreSQL), the same at both sizes: session and
# user; the week's entries; the month total; the shown helps (the first 31 loggable
# ones, and for a bigger provider the own and recently logged ones; the form's
# queryset only validates a POST); delivered minutes per shown help; the month's
# approval. A team lead's help search adds one query.
HOUR_SHEET_QUERIES = 8
HOUR_SHEET_SEARCH_QUERIES = 9
# Session and user; minutes by staff and kind; open entries per staff; the month's
# approvals; the helps with their month minutes; the provider for the heading.
OVERVIEW_QUERIES = 7


def build_world(*, provider, staff, decided_by, asd, first_help, entries: int, helps: int):
    """`helps` running helps of `provider` and `entries` entries of `staff` this week.

    Two in three entries are case-specific (spread over the helps), the rest not tied
    to a case; the first half is approved, and one approved entry has a correction.
    """
    all_helps = [first_help] + [
        f.make_help(f.make_case(asd, family_name=f"Familie {i}"), provider)
        for i in range(helps - 1)
    ]
    objects = []
    for i in range(entries):
        case_specific = i % 3 != 2
        objects.append(
            HourEntry(
                staff=staff[i % len(staff)],
                provider=provider,
                date=MONDAY + datetime.timedelta(days=i % 3),
                minutes=30,
                kind=HourKind.CASE_SPECIFIC if case_specific else HourKind.CASE_UNSPECIFIC,
                activity="direct_work" if case_specific else "networking",
                help=all_helps[i % len(all_helps)] if case_specific else None,
                note=f"Eintrag {i}",
            )
        )
    created = HourEntry.objects.bulk_create(objects)
    approval = MonthApproval.objects.create(
        provider=provider,
        staff=staff[0],
        month=TODAY.replace(day=1),
        state=ApprovalState.APPROVED,
        decided_by=decided_by,
    )
    approved = [e.pk for e in created[: entries // 2] if e.staff_id == staff[0].pk]
    HourEntry.objects.filter(pk__in=approved).update(approval=approval)
    original = HourEntry.objects.get(pk=approved[0])
    HourEntry.objects.create(
        staff=original.staff,
        provider=provider,
        date=original.date,
        minutes=-10,
        kind=original.kind,
        activity=original.activity,
        help=original.help,
        corrects=original,
        note="Korrektur",
    )


@pytest.mark.parametrize(("entries", "helps"), SIZES)
def test_hour_sheet_queries_do_not_grow_with_entries_or_helps(
    staff_client,
    fachkraft,
    traegerleitung,
    provider,
    asd,
    help,
    entries,
    helps,
    django_assert_max_num_queries,
):
    build_world(
        provider=provider,
        staff=[fachkraft],
        decided_by=traegerleitung,
        asd=asd,
        first_help=help,
        entries=entries,
        helps=helps,
    )

    with django_assert_max_num_queries(HOUR_SHEET_QUERIES):
        response = staff_client.get(reverse("providers:hour_sheet"))

    assert response.status_code == 200
    assert len(response.context["form"].fields["help"].queryset) == helps
    assert sum(len(day.entries) for day in response.context["days"]) == entries + 1


@pytest.mark.parametrize(("entries", "helps"), SIZES)
def test_hour_sheet_help_search_costs_one_query_more(
    lead_client,
    fachkraft,
    traegerleitung,
    provider,
    asd,
    help,
    entries,
    helps,
    django_assert_max_num_queries,
):
    build_world(
        provider=provider,
        staff=[traegerleitung],
        decided_by=traegerleitung,
        asd=asd,
        first_help=help,
        entries=entries,
        helps=helps,
    )

    with django_assert_max_num_queries(HOUR_SHEET_SEARCH_QUERIES):
        response = lead_client.get(reverse("providers:hour_sheet"), {"help_q": "Familie"})

    assert response.status_code == 200
    assert response.context["help_hits"]


@pytest.mark.parametrize(("entries", "helps"), SIZES)
def test_overview_queries_do_not_grow_with_entries_or_helps(
    lead_client,
    fachkraft,
    traegerleitung,
    provider,
    asd,
    help,
    entries,
    helps,
    django_assert_max_num_queries,
):
    colleagues = [
        f.make_user(f"kollege{i}", Role.PROVIDER_STAFF, provider=provider) for i in range(3)
    ]
    build_world(
        provider=provider,
        staff=[fachkraft, *colleagues],
        decided_by=traegerleitung,
        asd=asd,
        first_help=help,
        entries=entries,
        helps=helps,
    )

    with django_assert_max_num_queries(OVERVIEW_QUERIES):
        response = lead_client.get(reverse("providers:overview"))

    assert response.status_code == 200
    assert len(response.context["plan_checks"]) == helps
    assert len(response.context["plan_page"]) == min(helps, 50)
    assert sum(row["total"] for row in response.context["staff_rows"]) == entries * 30 - 10
