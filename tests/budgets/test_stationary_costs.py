"""Stationary days, costs, commitments, forecasts and utilisation, checked against hand sums.

DOMAIN.md: a placement is billed every day from its start up to the day before its
end (admission and discharge day together count as one day; an open placement every
day), each day at the daily rate in force on that day.
Committed as of day d: billed days of ongoing placements from d + 1 to the day before
the planned end (or 31 December) at the rate in force on d.
"""

import datetime
from decimal import Decimal

import pytest

from budgets.dashboard import region_years
from budgets.selectors import (
    committed_by_region,
    stationary_by,
    stationary_cost,
    stationary_rates,
)
from budgets.services import (
    available,
    book_posting,
    decide_reallocation,
    propose_reallocation,
)
from cases import services as case_services
from cases.models import ApprovalStatus, DailyRate, Setting

from .conftest import make_ambulant_help, make_contract, make_placement

pytestmark = pytest.mark.django_db

date = datetime.date
JAN_2026 = (date(2026, 1, 1), date(2026, 1, 31))


def cost_in(region, start, end) -> tuple[int, Decimal]:
    return stationary_cost(stationary_rates([region.pk]), start, end)


# --- Billed days and cost -----------------------------------------------------------


def test_january_across_a_rate_change_bills_each_day_at_its_rate(asd, region, stationary_provider):
    placement = make_placement(
        asd, region, stationary_provider, start=date(2025, 11, 1), rate=Decimal("200.00")
    )
    case_services.change_daily_rate(
        help=placement, valid_from=date(2026, 1, 10), amount=Decimal("220.00"), by=asd
    )

    days, cost = cost_in(region, *JAN_2026)

    # 1–9 January at 200 €, 10–31 January at 220 €.
    assert days == 31
    assert cost == 9 * Decimal("200.00") + 22 * Decimal("220.00") == Decimal("6640.00")


def test_rate_change_ends_the_previous_rate_the_day_before(asd, region, stationary_provider):
    placement = make_placement(asd, region, stationary_provider, start=date(2025, 11, 1))

    case_services.change_daily_rate(
        help=placement, valid_from=date(2026, 1, 10), amount=Decimal("220.00"), by=asd
    )

    assert list(placement.rates.values_list("valid_from", "valid_until", "amount")) == [
        (date(2025, 11, 1), date(2026, 1, 9), Decimal("200.00")),
        (date(2026, 1, 10), None, Decimal("220.00")),
    ]


def test_placement_across_the_year_boundary_splits_its_days_without_the_discharge_day(
    asd, region, stationary_provider
):
    make_placement(
        asd,
        region,
        stationary_provider,
        start=date(2025, 12, 20),
        end=date(2026, 1, 20),
        rate=Decimal("200.00"),
    )

    old_year = cost_in(region, date(2025, 1, 1), date(2025, 12, 31))
    new_year = cost_in(region, date(2026, 1, 1), date(2026, 12, 31))

    # 20–31 December = 12 days; 1–19 January = 19 days (20 January is the discharge day).
    assert old_year == (12, Decimal("2400.00"))
    assert new_year == (19, Decimal("3800.00"))


def test_open_placement_is_billed_every_day(asd, region, stationary_provider):
    make_placement(asd, region, stationary_provider, start=date(2026, 3, 1), rate=Decimal("150.00"))

    march = cost_in(region, date(2026, 3, 1), date(2026, 3, 31))
    year = cost_in(region, date(2026, 1, 1), date(2026, 12, 31))

    assert march == (31, Decimal("4650.00"))
    # March to December: 31+30+31+30+31+31+30+31+30+31 = 306 days.
    assert year == (306, Decimal("45900.00"))


def test_placement_inside_one_month_counts_admission_and_discharge_as_one_day(
    asd, region, stationary_provider
):
    make_placement(
        asd,
        region,
        stationary_provider,
        start=date(2026, 4, 5),
        end=date(2026, 4, 15),
        rate=Decimal("187.35"),
    )

    april = cost_in(region, date(2026, 4, 1), date(2026, 4, 30))

    # 5 to 14 April = 10 days at 187,35 €.
    assert april == (10, Decimal("1873.50"))
    assert cost_in(region, date(2026, 5, 1), date(2026, 5, 31)) == (0, Decimal("0.00"))


def test_placement_that_ended_on_its_first_day_is_billed_that_one_day(
    asd, region, stationary_provider
):
    make_contract(region, 2026, stationary=Decimal("100000.00"))
    make_placement(
        asd,
        region,
        stationary_provider,
        start=date(2026, 3, 1),
        end=date(2026, 3, 1),
        rate=Decimal("187.35"),
    )

    # Admission and discharge day together count as one day: here they are the same.
    assert cost_in(region, date(2026, 3, 1), date(2026, 3, 31)) == (1, Decimal("187.35"))
    assert cost_in(region, date(2026, 3, 1), date(2026, 3, 1)) == (1, Decimal("187.35"))
    assert cost_in(region, date(2026, 2, 1), date(2026, 2, 28)) == (0, Decimal("0.00"))
    assert cost_in(region, date(2026, 3, 2), date(2026, 3, 31)) == (0, Decimal("0.00"))
    (figures,) = region_years(2026, [region], AS_OF)
    assert figures.stationary_days == 1
    assert figures.stationary.booked == Decimal("187.35")
    assert figures.monthly_stationary[:4] == [
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("187.35"),
        Decimal("0.00"),
    ]
    assert figures.stationary.committed == Decimal("0.00")


def test_leap_day_is_a_billed_day(asd, region, stationary_provider):
    make_placement(
        asd,
        region,
        stationary_provider,
        start=date(2028, 2, 25),
        end=date(2028, 3, 5),
        rate=Decimal("199.99"),
    )

    february = cost_in(region, date(2028, 2, 1), date(2028, 2, 29))
    whole_stay = cost_in(region, date(2028, 1, 1), date(2028, 12, 31))

    # 25, 26, 27, 28, 29 February; then 1–4 March.
    assert february == (5, Decimal("999.95"))
    assert whole_stay == (9, Decimal("1799.91"))


def test_several_placements_in_two_regions_are_grouped_by_region(
    asd, region, other_region, stationary_provider
):
    make_placement(asd, region, stationary_provider, start=date(2025, 12, 1), rate=Decimal("200"))
    make_placement(
        asd,
        region,
        stationary_provider,
        start=date(2026, 1, 10),
        end=date(2026, 1, 20),
        rate=Decimal("250.00"),
    )
    make_placement(
        asd, other_region, stationary_provider, start=date(2026, 1, 15), rate=Decimal("300.00")
    )

    rows = stationary_by(
        stationary_rates([region.pk, other_region.pk]),
        *JAN_2026,
        "help__case__family__region",
    )

    assert rows == [
        # 31 days × 200 € + 10 days (10–19 Jan) × 250 €
        {"help__case__family__region": region.pk, "days": 41, "cost": Decimal("8700.00")},
        # 15–31 January = 17 days × 300 €
        {"help__case__family__region": other_region.pk, "days": 17, "cost": Decimal("5100.00")},
    ]


def test_only_approved_stationary_placements_cost_money(asd, region, provider, stationary_provider):
    requested = make_placement(asd, region, stationary_provider, start=date(2026, 1, 1))
    requested.status = ApprovalStatus.REQUESTED
    requested.save(update_fields=["status"])
    day_care = make_ambulant_help(asd, region, provider, start=date(2026, 1, 1))
    day_care.setting = Setting.DAY_CARE
    day_care.save(update_fields=["setting"])
    DailyRate.objects.create(help=day_care, valid_from=date(2026, 1, 1), amount=Decimal("90"))

    assert cost_in(region, *JAN_2026) == (0, Decimal("0.00"))


# --- Commitments, forecast and utilisation ----------------------------------------------

AS_OF = date(2026, 6, 30)
# 1 January to 30 June: 31+28+31+30+31+30 = 181 days; 1 July to 31 December: 184 days.
ELAPSED, REMAINING = 181, 184


def test_ongoing_placement_is_committed_until_the_day_before_its_planned_end(
    asd, region, stationary_provider
):
    make_placement(
        asd,
        region,
        stationary_provider,
        start=date(2026, 1, 1),
        planned_end=date(2026, 10, 1),
        rate=Decimal("220.00"),
    )

    committed = committed_by_region([region.pk], AS_OF)

    # 1 July to 30 September = 31+31+30 = 92 days × 220 €.
    assert committed == {region.pk: Decimal("20240.00")}


def test_open_placement_without_planned_end_is_committed_to_31_december(
    asd, region, stationary_provider
):
    make_placement(asd, region, stationary_provider, start=date(2026, 1, 1), rate=Decimal("200"))
    make_placement(
        asd,
        region,
        stationary_provider,
        start=date(2026, 2, 1),
        planned_end=date(2027, 3, 31),
        rate=Decimal("100.50"),
    )

    committed = committed_by_region([region.pk], AS_OF)

    # Both run to the end of the contract year: 184 × 200 € + 184 × 100,50 €.
    assert committed == {region.pk: Decimal("36800.00") + Decimal("18492.00")}


def test_commitment_uses_the_rate_in_force_on_the_day_not_a_later_one(
    asd, region, stationary_provider
):
    placement = make_placement(
        asd, region, stationary_provider, start=date(2026, 1, 1), rate=Decimal("200.00")
    )
    case_services.change_daily_rate(
        help=placement, valid_from=date(2026, 6, 1), amount=Decimal("220.00"), by=asd
    )
    case_services.change_daily_rate(
        help=placement, valid_from=date(2026, 8, 1), amount=Decimal("250.00"), by=asd
    )

    committed = committed_by_region([region.pk], AS_OF)

    assert committed == {region.pk: REMAINING * Decimal("220.00")}
    assert committed[region.pk] == Decimal("40480.00")


def test_ended_and_future_placements_are_not_committed(asd, region, stationary_provider):
    make_placement(asd, region, stationary_provider, start=date(2026, 1, 1), end=date(2026, 6, 30))
    make_placement(asd, region, stationary_provider, start=date(2026, 7, 1))

    assert committed_by_region([region.pk], AS_OF) == {}


def test_placement_ending_tomorrow_has_nothing_left_to_commit(asd, region, stationary_provider):
    make_placement(asd, region, stationary_provider, start=date(2026, 1, 1), end=date(2026, 7, 1))

    # Its only remaining day, 1 July, is the discharge day.
    assert committed_by_region([region.pk], AS_OF) == {region.pk: Decimal("0.00")}


def test_stationary_forecast_is_booked_plus_committed(asd, region, stationary_provider):
    make_contract(region, 2026, stationary=Decimal("100000.00"))
    make_placement(asd, region, stationary_provider, start=date(2026, 1, 1), rate=Decimal("200"))

    (figures,) = region_years(2026, [region], AS_OF)

    assert figures.stationary.booked == ELAPSED * Decimal("200") == Decimal("36200.00")
    assert figures.stationary.committed == REMAINING * Decimal("200") == Decimal("36800.00")
    assert figures.stationary.forecast == Decimal("73000.00")
    assert figures.stationary_days == ELAPSED


def test_flexible_forecast_extrapolates_the_daily_run_rate(region, controlling):
    contract = make_contract(region, 2026, flexible=Decimal("50000.00"))
    for day, amount in ((date(2026, 1, 15), "4000.00"), (date(2026, 6, 30), "6000.00")):
        book_posting(
            contract=contract,
            booked_on=day,
            amount=Decimal(amount),
            category="personnel",
            text="Gehälter",
            by=controlling,
        )

    (figures,) = region_years(2026, [region], AS_OF)

    # 10.000 € in 181 days, 184 days to go: 10.000 + 10.000 / 181 × 184 = 20.165,745… €
    assert figures.flexible.booked == Decimal("10000.00")
    assert figures.flexible.committed == Decimal("0.00")
    assert figures.flexible.forecast == Decimal("20165.75")
    # 10.000 / 50.000
    assert figures.flexible.utilisation == Decimal("20.0")


def test_utilisation_is_booked_plus_committed_over_planned(asd, region, stationary_provider):
    contract = make_contract(region, 2026, stationary=Decimal("100000.00"))
    make_placement(asd, region, stationary_provider, start=date(2026, 1, 1), rate=Decimal("200"))

    (figures,) = region_years(2026, [region], AS_OF)

    # (36.200 + 36.800) / 100.000 × 100
    assert figures.stationary.utilisation == Decimal("73.0")
    assert figures.stationary.available == Decimal("27000.00")
    assert available(contract, "stationary", AS_OF) == Decimal("27000.00")


def test_planned_counts_only_reallocations_approved_by_the_day(
    region, controlling, leitung, time_machine
):
    contract = make_contract(
        region, 2026, flexible=Decimal("1000.00"), stationary=Decimal("5000.00")
    )
    time_machine.move_to(datetime.datetime(2026, 7, 15, 12, 0))
    proposal = propose_reallocation(
        contract=contract,
        direction="to_flexible",
        amount=Decimal("2000.00"),
        reason="Rückführung",
        by=controlling,
    )
    decide_reallocation(reallocation=proposal, approve=True, by=leitung)

    (before,) = region_years(2026, [region], AS_OF)
    (after,) = region_years(2026, [region], date(2026, 7, 15))

    assert (before.flexible.planned, before.stationary.planned) == (
        Decimal("1000.00"),
        Decimal("5000.00"),
    )
    assert (after.flexible.planned, after.stationary.planned) == (
        Decimal("3000.00"),
        Decimal("3000.00"),
    )
