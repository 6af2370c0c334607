"""Bookings and reallocations at the same moment (real PostgreSQL, real threads).

`book_posting` and `decide_reallocation` lock the contract's sub-budget rows with
SELECT … FOR UPDATE in one fixed order before they check what is left, so
concurrent writes queue: no update is lost, no check sees a stale balance, and no
two transactions wait on each other.
"""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum

from budgets import services
from budgets.models import Posting, Reallocation, ReallocationStatus
from budgets.selectors import planned_by_contract
from tests import factories as f

from .conftest import make_contract

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

JOIN_TIMEOUT = 60


def run_at_once(calls) -> list:
    """Run each call in its own thread (own DB connection), released together.

    Returns what each call returned or raised, in the order of `calls`.
    """
    barrier = threading.Barrier(len(calls), timeout=20)
    outcomes: list = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait()
            outcomes[i] = call()
        except Exception as error:  # noqa: BLE001 - the test inspects it
            outcomes[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_TIMEOUT)
    assert not [t for t in threads if t.is_alive()], "a thread hung (deadlock?)"
    return outcomes


def booking(contract, by, amount="100.00", times=1):
    def call():
        return [
            services.book_posting(
                contract=contract,
                booked_on=f.today(),
                amount=Decimal(amount),
                category="personnel",
                text="Honorar",
                by=by,
            )
            for __ in range(times)
        ]

    return call


def booked_total(contract) -> Decimal:
    return Posting.objects.filter(sub_budget__contract=contract).aggregate(s=Sum("amount"))["s"]


@pytest.fixture
def contract(region):
    return make_contract(region, f.today().year, flexible=Decimal("1000.00"))


def test_concurrent_bookings_lose_no_update(region, controlling, leitung):
    contract = make_contract(region, f.today().year, flexible=Decimal("100000.00"))
    bookers = [controlling, leitung] * 4

    outcomes = run_at_once([booking(contract, by, times=10) for by in bookers])

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert Posting.objects.count() == 80
    assert booked_total(contract) == Decimal("8000.00")
    assert services.available(contract, "flexible") == Decimal("92000.00")


def test_concurrent_bookings_near_the_limit_never_go_below_zero(contract, controlling):
    outcomes = run_at_once([booking(contract, controlling) for __ in range(20)])

    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    booked = [o for o in outcomes if isinstance(o, list)]
    assert (len(booked), len(refused)) == (10, 10), outcomes
    assert booked_total(contract) == Decimal("1000.00")
    assert services.available(contract, "flexible") == Decimal("0.00")
    assert not Posting.objects.exclude(override_reason="").exists()


def test_concurrent_approvals_and_bookings_stay_consistent_without_deadlock(
    contract, controlling, leitung
):
    # Five proposals of 200 € each from the 50.000 € stationary plan into the flexible one,
    # one the other way; the department head approves them while 25 bookings of 100 € run.
    to_flexible = [
        services.propose_reallocation(
            contract=contract,
            direction="to_flexible",
            amount=Decimal("200.00"),
            reason="Rückführung",
            by=controlling,
        )
        for __ in range(5)
    ]
    to_stationary = services.propose_reallocation(
        contract=contract,
        direction="to_stationary",
        amount=Decimal("100.00"),
        reason="Notaufnahme",
        by=controlling,
    )
    decisions = [
        (lambda r=r: services.decide_reallocation(reallocation=r, approve=True, by=leitung))
        for r in (*to_flexible, to_stationary)
    ]
    bookings = [booking(contract, controlling) for __ in range(25)]

    outcomes = run_at_once([*decisions, *bookings])

    unexpected = [
        o for o in outcomes if isinstance(o, Exception) and not isinstance(o, ValidationError)
    ]
    assert not unexpected, unexpected  # e.g. "deadlock detected" would show here
    booked = sum(isinstance(o, list) for o in outcomes[len(decisions) :])
    approved = Reallocation.objects.filter(status=ReallocationStatus.APPROVED)
    flexible_plan = planned_by_contract([contract], f.today())[(contract.pk, "flexible")]
    # Every decision that was refused left the proposal pending; none is half-applied.
    assert (
        Reallocation.objects.exclude(
            status__in=[ReallocationStatus.APPROVED, ReallocationStatus.PROPOSED]
        ).count()
        == 0
    )
    assert approved.filter(direction="to_flexible").count() == 5
    # The flexible plan is 1.000 € + every approved move, and never spent below zero.
    moved = sum(r.signed_amount("flexible") for r in approved)
    assert flexible_plan == Decimal("1000.00") + moved
    assert booked_total(contract) == booked * Decimal("100.00")
    available = services.available(contract, "flexible")
    assert available == flexible_plan - booked * Decimal("100.00")
    assert available >= 0
    assert not Posting.objects.exclude(override_reason="").exists()
    # A booking is refused only when less than 100 € is left: at least the smallest plan the
    # flexible budget ever had (1.000 € − 100 € if the move to stationary came first) is used.
    assert booked >= 9
