"""The dashboard's figures for one hand-built region-year; every expected value is worked out
by hand below. "Today" is 30.06.2026: 181 days of the year have passed, 184 are to come.

Contract 2026 of the Modellregion: flexible plan 100.000 € personnel + 20.000 € rent,
stationary plan 60.000 €; on 01.03.2026 10.000 € were moved from stationary to flexible.
Contract 2025: flexible 100.000 €, stationary 80.000 €.

Flexible postings: 15.01.2026 9.000 €, 10.03.2026 9.000 €, 30.06.2026 9.050 € and a
correction of −50 € → 27.000 €; 15.12.2025 5.000 € on the 2025 contract.

Families of the region (approved helps unless said otherwise):
  A  § 34 stationary 01.12.2025–open, planned end 01.09.2026; 200 €, 210 € from 01.04.2026
  B  § 34 stationary 10.02.2026–20.05.2026 (return), 150 €
  C  § 31 ambulant   01.01.2026–open; its child attends the group offer on 05.03.2026
  D  § 31 ambulant   01.06.2025–30.11.2025; its child attends on 05.03. and 05.04.2026
  E  § 31 ambulant   from 01.08.2026 (after today)
  F  § 31 ambulant   01.01.2026–open, only requested (never counts)
  H  no help; its child attends a session on 15.07.2026 (after today)
  G  (other region) § 31 ambulant 01.01.2026–open
"""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.urls import reverse

from budgets import services
from budgets.models import PlanLine
from cases import services as case_services
from cases.models import ApprovalStatus, HelpEndReason
from providers.models import GroupOffer, GroupSession
from tests import factories as f

from .conftest import make_ambulant_help, make_contract, make_placement

pytestmark = pytest.mark.django_db

date = datetime.date
TODAY = date(2026, 6, 30)


def _book(contract, day, amount, by, **extra):
    return services.book_posting(
        contract=contract,
        booked_on=day,
        amount=Decimal(amount),
        category="personnel",
        text="Gehälter",
        by=by,
        **extra,
    )


def _child(family, name):
    return f.make_person(family, name)


@pytest.fixture
def world(
    time_machine,
    region,
    other_region,
    asd,
    provider,
    stationary_provider,
    controlling,
    leitung,
):
    time_machine.move_to(datetime.datetime(2026, 3, 1, 12, 0), tick=False)
    contract = make_contract(
        region, 2026, flexible=Decimal("100000.00"), stationary=Decimal("60000.00")
    )
    PlanLine.objects.create(
        sub_budget=contract.sub_budgets.get(kind="flexible"),
        category="rent",
        amount=Decimal("20000.00"),
    )
    earlier = make_contract(
        region, 2025, flexible=Decimal("100000.00"), stationary=Decimal("80000.00")
    )
    move = services.propose_reallocation(
        contract=contract,
        direction="to_flexible",
        amount=Decimal("10000.00"),
        reason="Rückführung",
        by=controlling,
    )
    services.decide_reallocation(reallocation=move, approve=True, by=leitung)

    _book(contract, date(2026, 1, 15), "9000.00", controlling)
    _book(contract, date(2026, 3, 10), "9000.00", controlling)
    june = _book(contract, date(2026, 6, 30), "9050.00", controlling)
    _book(contract, date(2026, 6, 30), "-50.00", controlling, corrects=june)
    _book(earlier, date(2025, 12, 15), "5000.00", controlling)

    a = make_placement(
        asd,
        region,
        stationary_provider,
        start=date(2025, 12, 1),
        planned_end=date(2026, 9, 1),
        rate=Decimal("200.00"),
        family_name="A",
    )
    case_services.change_daily_rate(
        help=a, valid_from=date(2026, 4, 1), amount=Decimal("210.00"), by=asd
    )
    b = make_placement(
        asd,
        region,
        stationary_provider,
        start=date(2026, 2, 10),
        end=date(2026, 5, 20),
        rate=Decimal("150.00"),
        family_name="B",
    )
    b.end_reason = HelpEndReason.RETURN
    b.save(update_fields=["end_reason"])
    c = make_ambulant_help(asd, region, provider, start=date(2026, 1, 1), family_name="C")
    d = make_ambulant_help(
        asd, region, provider, start=date(2025, 6, 1), end=date(2025, 11, 30), family_name="D"
    )
    make_ambulant_help(asd, region, provider, start=date(2026, 8, 1), family_name="E")
    make_ambulant_help(
        asd,
        region,
        provider,
        start=date(2026, 1, 1),
        family_name="F",
        status=ApprovalStatus.REQUESTED,
    )
    h = f.make_family(region, name="H")
    make_ambulant_help(asd, other_region, provider, start=date(2026, 1, 1), family_name="G")

    offer = GroupOffer.objects.create(
        provider=provider,
        region=region,
        topic="Elterncafé",
        target_group="Eltern",
        starts_on=date(2026, 1, 1),
    )
    sessions = {
        day: GroupSession.objects.create(
            offer=offer, date=day, duration_minutes=90, anonymous_participants=7
        )
        for day in (date(2026, 3, 5), date(2026, 4, 5), date(2026, 7, 15))
    }
    sessions[date(2026, 3, 5)].registered_participants.set(
        [_child(c.case.family, "Cem"), _child(d.case.family, "Dana")]
    )
    sessions[date(2026, 4, 5)].registered_participants.set(d.case.family.members.all())
    sessions[date(2026, 7, 15)].registered_participants.set([_child(h, "Hugo")])

    time_machine.move_to(datetime.datetime(2026, 6, 30, 12, 0), tick=False)
    return SimpleNamespace(contract=contract, region=region)


@pytest.fixture
def rows(client, leitung, world):
    client.force_login(leitung)
    response = client.get(reverse("budgets:dashboard"), {"year": 2026, "region": world.region.slug})
    assert response.status_code == 200
    (row,) = response.context["rows"]
    return row


def test_planned_is_the_sum_of_plan_lines_plus_the_approved_reallocation(rows):
    now = rows["now"]
    # 100.000 + 20.000 + 10.000; 60.000 − 10.000
    assert now.flexible.planned == Decimal("130000.00")
    assert now.stationary.planned == Decimal("50000.00")


def test_flexible_booked_forecast_and_utilisation(rows):
    flexible = rows["now"].flexible
    assert flexible.booked == Decimal("27000.00")  # 9.000 + 9.000 + 9.050 − 50
    assert flexible.committed == Decimal("0.00")
    # 27.000 + 27.000 / 181 × 184 = 27.000 + 27.447,513… €
    assert flexible.forecast == Decimal("54447.51")
    assert flexible.utilisation == Decimal("20.8")  # 27.000 / 130.000 = 20,77 %
    assert flexible.available == Decimal("103000.00")


def test_stationary_booked_committed_forecast_days_and_utilisation(rows):
    now = rows["now"]
    # A: 01.01.–31.03. 90 days × 200 € = 18.000 €, 01.04.–30.06. 91 days × 210 € = 19.110 €
    # B: 10.02.–19.05. = 19 + 31 + 30 + 19 = 99 days × 150 € = 14.850 €
    assert now.stationary.booked == Decimal("18000.00") + Decimal("19110.00") + Decimal("14850.00")
    assert now.stationary_days == 90 + 91 + 99
    # A until the day before its planned end: 01.07.–31.08. = 62 days × 210 €
    assert now.stationary.committed == Decimal("13020.00")
    assert now.stationary.forecast == Decimal("64980.00")
    assert now.stationary.utilisation == Decimal("130.0")  # 64.980 / 50.000 = 129,96 %
    assert now.stationary.available == Decimal("-14980.00")


def test_families_reached_count_each_family_once(rows):
    # A and B (placements), C (help and group), D (two group sessions); not E (later),
    # F (not approved), G (other region), H (session after today).
    assert rows["now"].families_reached == 4


def test_cost_per_family_reached_and_ambulant_share_by_cost(rows):
    now = rows["now"]
    # (27.000 + 51.960) / 4 families
    assert now.spent == Decimal("78960.00")
    assert now.cost_per_family == Decimal("19740.00")
    # 27.000 / 78.960 = 34,19 %
    assert now.ambulant_share_by_cost == Decimal("34.2")


def test_previous_year_column(rows):
    before = rows["before"]
    assert before.flexible.planned == Decimal("100000.00")
    assert before.stationary.planned == Decimal("80000.00")
    assert before.flexible.booked == before.flexible.forecast == Decimal("5000.00")
    # A: 01.–31.12.2025 = 31 days × 200 €; nothing committed after the year.
    assert (before.stationary_days, before.stationary.booked) == (31, Decimal("6200.00"))
    assert before.stationary.committed == Decimal("0.00")
    # A and D were reached in 2025.
    assert before.families_reached == 2
    assert before.cost_per_family == Decimal("5600.00")  # 11.200 / 2
    assert before.ambulant_share_by_cost == Decimal("44.6")  # 5.000 / 11.200


def test_monthly_series_up_to_today(rows):
    now = rows["now"]
    first_half = slice(0, 6)
    assert now.monthly_flexible[first_half] == [
        Decimal(v) for v in ("9000", "0", "9000", "0", "0", "9000")
    ]
    assert now.monthly_stationary[first_half] == [
        Decimal("6200.00"),  # A 31 × 200
        Decimal("8450.00"),  # A 28 × 200 + B 19 × 150
        Decimal("10850.00"),  # A 31 × 200 + B 31 × 150
        Decimal("10800.00"),  # A 30 × 210 + B 30 × 150
        Decimal("9360.00"),  # A 31 × 210 + B 19 × 150
        Decimal("6300.00"),  # A 30 × 210
    ]
    assert now.cumulative_spent()[first_half] == [
        Decimal(v) for v in ("15200", "23650", "43500", "54300", "63660", "78960")
    ]
    assert now.cumulative_plan() == [Decimal(15000 * m) for m in range(1, 13)]
    # Active helps (A, C; B from February to May; E from August), ambulant ones (C; E).
    assert now.monthly_active == [2, 3, 3, 3, 3, 2, 2, 3, 3, 3, 3, 3]
    assert now.monthly_ambulant == [1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2]
    assert now.monthly_share_by_count()[:8] == [
        Decimal(v) for v in ("50.0", "33.3", "33.3", "33.3", "33.3", "50.0", "50.0", "66.7")
    ]
    # 9.000 / 15.200; 0; 9.000 / 19.850; 0; 0; 9.000 / 15.300
    assert now.monthly_share_by_cost()[first_half] == [
        Decimal(v) for v in ("59.2", "0.0", "45.3", "0.0", "0.0", "58.8")
    ]


def test_monthly_series_has_no_spending_after_today(rows):
    now = rows["now"]
    assert now.monthly_stationary[6:] == [Decimal("0.00")] * 6
    assert now.cumulative_spent()[-1] == now.spent


def test_dashboard_shows_the_figures_in_german_format(client, rows):
    html = client.get(reverse("budgets:dashboard"), {"year": 2026}).content.decode()

    for amount in ("130.000,00", "50.000,00", "54.447,51", "64.980,00", "19.740,00", "5.600,00"):
        assert f"{amount}\u00a0€" in html
