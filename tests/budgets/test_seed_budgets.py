"""The service contracts `seed_demo` writes: plans, monthly postings, one reallocation."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum
from django.test import override_settings
from django.utils import timezone

from budgets.models import (
    Direction,
    PlanCategory,
    PlanLine,
    Posting,
    PostingKind,
    Reallocation,
    ReallocationStatus,
    ServiceContract,
    SubBudgetKind,
)
from budgets.selectors import planned_by_contract, stationary_cost, stationary_rates
from budgets.services import available
from cases.models import Region
from core.models import Role
from providers.models import Provider, ProviderKind

pytestmark = pytest.mark.django_db

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
FLEXIBLE_CATEGORIES = {PlanCategory.PERSONNEL, PlanCategory.RENT, PlanCategory.OVERHEAD}


@pytest.fixture(scope="module")
def today(django_db_setup, django_db_blocker):
    """One demo scenario for the module, rolled back after it; the tests only read."""
    settings = override_settings(KIJUFAZ_ALLOW_DEMO_SEED=True, PASSWORD_HASHERS=FAST_HASHERS)
    with django_db_blocker.unblock(), settings, transaction.atomic():
        call_command("seed_demo", stdout=StringIO())
        yield timezone.localdate()
        transaction.set_rollback(True)


def plan_of(contract, kind) -> Decimal:
    lines = PlanLine.objects.filter(sub_budget__contract=contract, sub_budget__kind=kind)
    return lines.aggregate(total=Sum("amount"))["total"]


def test_a_contract_per_region_for_this_and_last_year(today):
    consortium = set(Provider.objects.filter(kind=ProviderKind.CONSORTIUM))
    years = {today.year - 1, today.year}

    for region in Region.objects.all():
        contracts = ServiceContract.objects.filter(region=region)
        assert {c.year for c in contracts} == years
        for contract in contracts:
            assert contract.title == f"Leistungsvertrag {region.name} {contract.year}"
            assert set(contract.providers.all()) == consortium
            kinds = set(contract.sub_budgets.values_list("kind", flat=True))
            assert kinds == {SubBudgetKind.FLEXIBLE, SubBudgetKind.STATIONARY}


def test_plan_lines(today):
    model_region = ServiceContract.objects.get(region__slug="modellregion", year=today.year)
    second_region = ServiceContract.objects.get(region__slug="siegen-mitte", year=today.year)

    for contract in ServiceContract.objects.all():
        flexible = PlanLine.objects.filter(
            sub_budget__contract=contract, sub_budget__kind="flexible"
        )
        assert set(flexible.values_list("category", flat=True)) == FLEXIBLE_CATEGORIES
        stationary = PlanLine.objects.filter(
            sub_budget__contract=contract, sub_budget__kind="stationary"
        )
        assert list(stationary.values_list("category", flat=True)) == [PlanCategory.PLACEMENTS]
    personnel = PlanLine.objects.get(
        sub_budget__contract=model_region, category=PlanCategory.PERSONNEL
    )
    assert personnel.amount == Decimal("1450000.00")
    assert plan_of(second_region, "flexible") < plan_of(model_region, "flexible")


def test_the_stationary_plan_fits_the_years_placements(today):
    for contract in ServiceContract.objects.all():
        __, cost = stationary_cost(
            stationary_rates([contract.region_id]), contract.first_day, contract.last_day
        )
        planned = planned_by_contract([contract], contract.last_day)
        plan_lines = plan_of(contract, SubBudgetKind.STATIONARY)

        assert Decimal("0.85") <= cost / plan_lines <= Decimal("1.05"), contract
        after_moves = planned[(contract.pk, SubBudgetKind.STATIONARY)]
        assert Decimal("0.85") <= cost / after_moves <= Decimal("1.05"), contract


def test_monthly_flexible_postings_up_to_the_previous_month(today):
    booked_by = set(Posting.objects.values_list("created_by__username", "created_by__role"))
    assert booked_by == {("controlling", Role.CONTROLLER)}
    assert not Posting.objects.exclude(kind=PostingKind.COST).exists()
    assert not Posting.objects.exclude(sub_budget__kind=SubBudgetKind.FLEXIBLE).exists()

    for contract in ServiceContract.objects.all():
        last_month = 12 if contract.year < today.year else today.month - 1
        postings = Posting.objects.filter(sub_budget__contract=contract)
        months = {(p.booked_on.month, p.category) for p in postings}
        assert months == {
            (month, category)
            for month in range(1, last_month + 1)
            for category in FLEXIBLE_CATEGORIES
        }
        for posting in postings:
            assert contract.first_day <= posting.booked_on <= contract.last_day
            assert posting.booked_on < today.replace(day=1)
            assert posting.amount.as_tuple().exponent == -2
            line = PlanLine.objects.get(
                sub_budget__contract=contract, category=posting.category
            ).amount
            assert abs(posting.amount - line / 12) <= line / 12 * Decimal("0.05"), posting
        # as book_posting demands: never more booked than planned
        assert available(contract, SubBudgetKind.FLEXIBLE, contract.last_day) >= 0


def test_one_approved_reallocation_in_the_model_region_this_year(today):
    reallocation = Reallocation.objects.select_related("contract__region").get()

    assert reallocation.contract.region.slug == "modellregion"
    assert reallocation.contract.year == today.year
    assert reallocation.direction == Direction.TO_FLEXIBLE
    assert reallocation.amount == Decimal("40000.00")
    assert reallocation.reason.startswith("Rückführung zweier Kinder")
    assert reallocation.status == ReallocationStatus.APPROVED
    assert reallocation.proposed_by.role == Role.CONTROLLER
    assert reallocation.decided_by.role == Role.DEPARTMENT_HEAD
    decided = timezone.localtime(reallocation.decided_at).date()
    assert datetime.date(today.year, 1, 1) <= decided <= today
    assert reallocation.proposed_at < reallocation.decided_at
    # decide_reallocation would have allowed it without an override reason
    assert available(reallocation.contract, SubBudgetKind.STATIONARY, decided) >= 0
