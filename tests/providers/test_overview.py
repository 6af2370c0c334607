"""The provider team lead's month overview: minutes by person and kind, totals and shares,
planned against delivered hours per help, and running helps without recent hours."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from tests import factories as f

from .conftest import TODAY

pytestmark = pytest.mark.django_db


def footer_rows(html: str) -> list[list[str]]:
    """The cells of the staff table's footer rows (total, share), without the heading cell."""
    footer = re.search(r"<tfoot>(.*?)</tfoot>", html, re.S).group(1)
    return [
        [cell.strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", footer, re.S)
    ]


def test_overview_shows_totals_and_shares_by_kind(
    lead_client, fachkraft, traegerleitung, help, log
):
    log(fachkraft, help=help, minutes=90)
    log(traegerleitung, minutes=30, kind="case_unspecific")

    response = lead_client.get(reverse("providers:overview"))

    assert response.context["kind_totals"] == {
        "case_specific": 90,
        "cross_case": 0,
        "case_unspecific": 30,
    }
    total_row, share_row = footer_rows(response.content.decode())
    assert total_row == ["90", "0", "30", "<strong>120</strong>", ""]
    assert share_row == ["75,0 %", "0,0 %", "25,0 %", "", ""]


def test_overview_lists_only_the_own_providers_staff(
    lead_client, fachkraft, fachkraft_other_provider, help, other_help, log
):
    log(fachkraft, help=help)
    log(fachkraft_other_provider, help=other_help)

    rows = lead_client.get(reverse("providers:overview")).context["staff_rows"]

    assert [row["staff_id"] for row in rows] == [fachkraft.pk]


def test_plan_check_flags_helps_more_than_20_percent_off_plan(
    lead_client, fachkraft, provider, asd, help, log
):
    # 18 November: the running month is compared pro rata, 18/30 of the planned hours.
    on_plan = f.make_help(f.make_case(asd, family_name="Wagner"), provider, hours=Decimal("3"))
    over = f.make_help(f.make_case(asd, family_name="Öztürk"), provider, hours=Decimal("1"))
    log(fachkraft, help=help, minutes=90)  # 1,5 of 12 h expected so far
    log(fachkraft, help=on_plan, minutes=120, date=datetime.date(2026, 11, 2))  # 2 of 1,8 h
    log(fachkraft, help=over, minutes=90)

    checks = lead_client.get(reverse("providers:overview")).context["plan_checks"]

    assert {c.help.case.family.name: c.flag for c in checks} == {
        "Yilmaz": "under",
        "Wagner": "",
        "Öztürk": "over",
    }


def test_running_helps_without_hours_for_14_days_are_listed(
    lead_client, fachkraft, provider, asd, help, log
):
    quiet = f.make_help(f.make_case(asd, family_name="Krause"), provider)
    long_ago = f.make_help(f.make_case(asd, family_name="Wagner"), provider)
    log(fachkraft, help=help, date=TODAY - datetime.timedelta(days=14))
    log(fachkraft, help=long_ago, date=TODAY - datetime.timedelta(days=15))

    listed = lead_client.get(reverse("providers:overview")).context["quiet_helps"]

    assert sorted(c.help.case.family.name for c in listed) == ["Krause", "Wagner"]
    assert {c.help.pk: c.last_entry for c in listed} == {
        quiet.pk: None,
        long_ago.pk: TODAY - datetime.timedelta(days=15),
    }


@pytest.fixture
def sixty_helps(asd, provider):
    """60 running ambulant helps of `provider` without planned hours (nothing to flag)."""
    return [
        f.make_help(f.make_case(asd, family_name=f"Familie {i:02d}"), provider, hours=None)
        for i in range(60)
    ]


def test_plan_checks_are_paginated_50_a_page_with_deviations_first(lead_client, sixty_helps):
    # 20 h a month planned and nothing delivered by the 18th: far under plan.
    under = [sixty_helps[55], sixty_helps[40]]
    for help in under:
        help.planned_hours_per_month = Decimal("20")
        help.save(update_fields=["planned_hours_per_month"])

    first = lead_client.get(reverse("providers:overview"))
    second = lead_client.get(reverse("providers:overview"), {"page": 2})

    first_page = [c.help.pk for c in first.context["plan_page"]]
    assert len(first_page) == 50
    assert first_page[:2] == [sixty_helps[40].pk, sixty_helps[55].pk]
    assert first_page[2:] == [h.pk for h in sixty_helps if h not in under][:48]
    assert [c.help.pk for c in second.context["plan_page"]] == [
        h.pk for h in sixty_helps if h not in under
    ][48:]
    assert 'class="pagination"' in first.content.decode()


@pytest.mark.parametrize("page", ["0", "-1", "abc", "999", "1e9"])
def test_a_bad_page_of_plan_checks_never_fails(lead_client, sixty_helps, page):
    response = lead_client.get(reverse("providers:overview"), {"page": page})

    assert response.status_code == 200
    assert len(response.context["plan_page"]) > 0


def test_the_quiet_helps_list_shows_the_30_longest_without_hours(
    lead_client, fachkraft, sixty_helps, log
):
    log(fachkraft, help=sixty_helps[0], date=TODAY - datetime.timedelta(days=20))

    response = lead_client.get(reverse("providers:overview"))

    quiet = response.context["quiet_helps"]
    assert len(quiet) == 60
    assert quiet[-1].help.pk == sixty_helps[0].pk
    html = response.content.decode()
    section = html[html.index('id="h-quiet"') :]
    assert section.count("<li>") == 30
