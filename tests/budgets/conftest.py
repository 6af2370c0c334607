"""Builders for the budget tests (the personas live in tests/conftest.py).

Money is written as Decimal literals so that every expected value in a test is a
number a person can check with a pocket calculator.
"""

import datetime
from decimal import Decimal

import pytest

from budgets.models import PlanLine, ServiceContract, SubBudget
from cases.models import DailyRate, Help, HelpEndReason, LegalBasis, Setting
from core.models import Role
from tests import factories as f


def make_contract(
    region, year, flexible=Decimal("100000"), stationary=Decimal("50000"), providers=()
) -> ServiceContract:
    """A Leistungsvertrag with one plan line per sub-budget."""
    contract = ServiceContract.objects.create(region=region, year=year, title=f"LV {year}")
    for kind, amount in (("flexible", flexible), ("stationary", stationary)):
        sub = SubBudget.objects.create(contract=contract, kind=kind)
        PlanLine.objects.create(
            sub_budget=sub,
            category="personnel" if kind == "flexible" else "placements",
            amount=amount,
        )
    contract.providers.set(providers)
    return contract


def make_placement(
    owner,
    region,
    provider,
    *,
    start: datetime.date,
    rate: Decimal = Decimal("200.00"),
    end: datetime.date | None = None,
    planned_end: datetime.date | None = None,
    family_name: str = "Muster",
    legal_basis: str = LegalBasis.RESIDENTIAL,
) -> Help:
    """An approved stationary placement of a family of `region`, with its first daily rate.

    Further rates are added with cases.services.change_daily_rate, as the app does.
    """
    family = f.make_family(region, name=family_name)
    case = f.make_case(owner, family=family, opened_on=start)
    help = f.make_help(
        case,
        provider,
        legal_basis=legal_basis,
        setting=Setting.STATIONARY,
        start=start,
        end=end,
        end_reason=HelpEndReason.AS_PLANNED if end else "",
        planned_end=planned_end,
        daily_rate=rate,
    )
    DailyRate.objects.create(help=help, valid_from=start, amount=rate)
    return help


def make_ambulant_help(
    owner,
    region,
    provider,
    *,
    start: datetime.date,
    end: datetime.date | None = None,
    family_name: str = "Muster",
    legal_basis: str = LegalBasis.FAMILY_SUPPORT,
    **extra,
) -> Help:
    family = f.make_family(region, name=family_name)
    case = f.make_case(owner, family=family, opened_on=start)
    return f.make_help(
        case,
        provider,
        legal_basis=legal_basis,
        setting=Setting.AMBULANT,
        start=start,
        end=end,
        end_reason=HelpEndReason.AS_PLANNED if end else "",
        **extra,
    )


@pytest.fixture
def traegerleitung_other(other_provider):
    """The team lead of a provider that is not a party to the region's contract."""
    return f.make_user("traegerleitung_skf", Role.PROVIDER_LEAD, provider=other_provider)


def book_salaries(world: dict) -> None:
    """A flexible posting of 1.234,00 € today on `world["contract"]`, by `world["leitung"]`."""
    from budgets import services

    services.book_posting(
        contract=world["contract"],
        booked_on=world["today"],
        amount=Decimal("1234.00"),
        category="personnel",
        text="Gehälter",
        by=world["leitung"],
    )
