"""Budget pages keep a constant number of queries however many regions and bookings there are.

The bounds were measured (see the comment at each) and are the same for the small and the
large data set: a query per region or per row (N+1) pushes the large one over the bound.
"""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from budgets import services
from tests import factories as f

from .conftest import make_ambulant_help, make_contract, make_placement

pytestmark = pytest.mark.django_db

# Measured on PostgreSQL, the same at 1 and at 10 regions: session and user (2), regions (1),
# the figures of this year and the previous one together (7: contracts, plan lines with
# reallocations, flexible postings by month, stationary costs by month with the commitment
# and the drill-down's costs, families reached, helps by month with the drill-down's
# counts), pending reallocations (1), effectiveness (2: one per year) and the session's
# activity stamp (3: savepoint, update, release).
DASHBOARD_QUERIES = 15
# Measured: session and user (2), regions (1), the year's figures without the monthly
# series (6), the audit entry of the export (5: savepoint, chain lock, previous hash,
# insert, release) and the session's activity stamp (3). Not a page: the ≤ 15 target
# is for pages; the audit chain alone costs five.
EXPORT_QUERIES = 16
# Measured, the same with 5 and with 49 postings: session and user, the contract, its
# figures (3: plan lines with reallocations, flexible postings, stationary costs), the
# postings count and page, reallocations with their counter-reallocations (joined), plan
# lines, closed months, the session's activity stamp (3).
CONTRACT_QUERIES = 14

START = datetime.date(2026, 1, 1)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 6, 30, 12, 0), tick=False):
        yield


def region_with_budget(index, asd, provider, stationary_provider, controlling, leitung):
    """A region with a contract, postings, two placements with a rate change, two ambulant
    helps, an approved and reversed reallocation and a pending one."""
    region = f.make_region(f"Sozialraum {index:02d}")
    contract = make_contract(region, 2026, stationary=Decimal("200000"), providers=[provider])
    make_contract(region, 2025, providers=[provider])
    for month in (1, 2, 3):
        services.book_posting(
            contract=contract,
            booked_on=datetime.date(2026, month, 10),
            amount=Decimal("1000.00"),
            category="personnel",
            text="Gehälter",
            by=controlling,
        )
    for start in (datetime.date(2025, 11, 1), datetime.date(2026, 3, 1)):
        placement = make_placement(asd, region, stationary_provider, start=start)
        placement.rates.update(valid_until=datetime.date(2026, 4, 30))
        placement.rates.create(valid_from=datetime.date(2026, 5, 1), amount=Decimal("230.00"))
    for __ in range(2):
        make_ambulant_help(asd, region, provider, start=START)
    approved = services.propose_reallocation(
        contract=contract,
        direction="to_flexible",
        amount=Decimal("500.00"),
        reason="Rückführung",
        by=controlling,
    )
    approved = services.decide_reallocation(reallocation=approved, approve=True, by=leitung)
    services.propose_reallocation(
        contract=contract, direction="to_flexible", amount=Decimal("1"), reason="x", by=leitung
    )
    services.propose_reallocation(
        contract=contract,
        direction="to_stationary",
        amount=approved.amount,
        reason="zurück",
        by=controlling,
        counter_of=approved,
    )
    return contract


@pytest.fixture
def build(asd, provider, stationary_provider, controlling, leitung):
    def build(count):
        return [
            region_with_budget(i, asd, provider, stationary_provider, controlling, leitung)
            for i in range(count)
        ]

    return build


@pytest.mark.parametrize("regions", [1, 10])
def test_dashboard_queries_do_not_grow_with_regions(
    client, leitung, build, django_assert_max_num_queries, regions
):
    build(regions)
    client.force_login(leitung)

    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        response = client.get(reverse("budgets:dashboard"), {"year": 2026})

    assert response.status_code == 200
    with_contract = [row for row in response.context["rows"] if row["now"].contract]
    assert len(with_contract) == regions


@pytest.mark.parametrize("regions", [1, 10])
def test_export_queries_do_not_grow_with_regions(
    client, controlling, build, django_assert_max_num_queries, regions
):
    build(regions)
    client.force_login(controlling)

    with django_assert_max_num_queries(EXPORT_QUERIES):
        response = client.get(reverse("budgets:export_csv"), {"year": 2026})

    assert response.status_code == 200


@pytest.mark.parametrize("extra_postings", [0, 40])
def test_contract_page_queries_do_not_grow_with_postings_and_reallocations(
    client, controlling, leitung, build, django_assert_max_num_queries, extra_postings
):
    (contract,) = build(1)
    for i in range(extra_postings):
        posting = services.book_posting(
            contract=contract,
            booked_on=datetime.date(2026, 4, 1 + i % 28),
            amount=Decimal("10.00"),
            category="rent",
            text=f"Miete {i}",
            by=controlling,
        )
        if i % 10 == 0:
            services.book_posting(
                contract=contract,
                booked_on=posting.booked_on,
                amount=Decimal("-1.00"),
                category="rent",
                text="Korrektur",
                by=controlling,
                corrects=posting,
            )
            proposal = services.propose_reallocation(
                contract=contract,
                direction="to_flexible",
                amount=Decimal("10.00"),
                reason="Rückführung",
                by=controlling,
            )
            services.decide_reallocation(reallocation=proposal, approve=True, by=leitung)
    client.force_login(leitung)

    with django_assert_max_num_queries(CONTRACT_QUERIES):
        response = client.get(reverse("budgets:contract_detail", args=[contract.pk]))

    assert response.status_code == 200
