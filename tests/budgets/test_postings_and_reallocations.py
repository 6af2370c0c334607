"""Bookings on the flexible sub-budget and reallocations between the sub-budgets.

Postings are an append-only ledger: what is wrong is corrected by a new row. A
reallocation (Umschichtung) is proposed by the controller or the department head and
decided by the department head, never by its proposer; once approved it is only undone
by a counter-reallocation that needs approval again.
"""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import translation

from budgets import services
from budgets.models import ClosedMonth, Posting, PostingKind, Reallocation, ReallocationStatus
from budgets.selectors import planned_by_contract
from core.models import AuditAction, AuditEntry

from .conftest import make_contract, make_placement

pytestmark = pytest.mark.django_db

date = datetime.date
TODAY = date(2026, 6, 30)
FLEX, STAT = "flexible", "stationary"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 6, 30, 12, 0), tick=False):
        yield


@pytest.fixture
def english():
    """Messages in English, so the tests can quote them as the code writes them."""
    with translation.override("en"):
        yield


@pytest.fixture
def contract(region):
    return make_contract(region, 2026, flexible=Decimal("1000.00"), stationary=Decimal("5000.00"))


def book(contract, by, amount="100.00", booked_on=None, **extra) -> Posting:
    return services.book_posting(
        contract=contract,
        booked_on=booked_on or date(2026, 3, 10),
        amount=Decimal(amount),
        category="personnel",
        text="Gehälter",
        by=by,
        **extra,
    )


def propose(contract, by, amount="300.00", direction="to_flexible", **extra) -> Reallocation:
    return services.propose_reallocation(
        contract=contract,
        direction=direction,
        amount=Decimal(amount),
        reason="Rückführung in die Region",
        by=by,
        **extra,
    )


def planned(contract) -> tuple[Decimal, Decimal]:
    plan = planned_by_contract([contract], TODAY)
    return plan[(contract.pk, FLEX)], plan[(contract.pk, STAT)]


def audit_of(obj) -> list[tuple[str, str]]:
    entries = AuditEntry.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).order_by("id")
    return [(e.action, e.username) for e in entries]


# --- Postings ------------------------------------------------------------------------


@pytest.mark.parametrize("day", [date(2025, 12, 31), date(2027, 1, 1)])
def test_posting_outside_the_contract_year_is_refused(contract, controlling, day):
    with pytest.raises(ValidationError) as error:
        book(contract, controlling, booked_on=day)

    assert "booked_on" in error.value.message_dict
    assert not Posting.objects.exists()


def test_posting_on_the_first_and_last_day_of_the_year_is_booked(contract, controlling):
    book(contract, controlling, booked_on=date(2026, 1, 1))
    book(contract, controlling, booked_on=date(2026, 12, 31))

    assert Posting.objects.count() == 2


def test_zero_posting_is_refused(contract, controlling):
    with pytest.raises(ValidationError) as error:
        book(contract, controlling, amount="0.00")

    assert "amount" in error.value.message_dict


def test_negative_amount_is_refused_unless_it_is_a_correction(contract, controlling):
    original = book(contract, controlling, amount="250.00")

    with pytest.raises(ValidationError) as error:
        book(contract, controlling, amount="-50.00")
    correction = book(contract, controlling, amount="-50.00", corrects=original)

    assert "amount" in error.value.message_dict
    assert correction.kind == PostingKind.CORRECTION
    assert correction.corrects == original
    assert services.available(contract, FLEX) == Decimal("800.00")


def test_database_refuses_a_negative_cost_posting_and_a_zero_posting(contract, controlling):
    sub_budget = contract.sub_budgets.get(kind=FLEX)
    fields = {"sub_budget": sub_budget, "booked_on": TODAY, "category": "rent", "text": "x"}

    for amount in (Decimal("-1.00"), Decimal("0.00")):
        with pytest.raises(IntegrityError), transaction.atomic():
            Posting.objects.create(amount=amount, created_by=controlling, **fields)


def test_correction_must_belong_to_the_same_contract(contract, other_region, controlling):
    other = make_contract(other_region, 2026)
    foreign = book(other, controlling)

    with pytest.raises(ValidationError):
        book(contract, controlling, amount="-10.00", corrects=foreign)


def test_closed_month_takes_only_corrections(contract, controlling, leitung):
    january = book(contract, controlling, booked_on=date(2026, 1, 20))
    services.close_month(contract=contract, month=date(2026, 1, 31), by=leitung)

    with pytest.raises(ValidationError) as error:
        book(contract, controlling, booked_on=date(2026, 1, 5))
    correction = book(
        contract, controlling, amount="-20.00", booked_on=date(2026, 1, 31), corrects=january
    )
    february = book(contract, controlling, booked_on=date(2026, 2, 1))

    assert "booked_on" in error.value.message_dict
    assert ClosedMonth.objects.get().month == date(2026, 1, 1)
    assert correction.kind == PostingKind.CORRECTION
    assert february.kind == PostingKind.COST


def test_only_the_department_head_closes_a_month_of_the_contract_year(
    contract, controlling, leitung
):
    with pytest.raises(PermissionDenied):
        services.close_month(contract=contract, month=date(2026, 1, 1), by=controlling)
    with pytest.raises(ValidationError):
        services.close_month(contract=contract, month=date(2025, 12, 1), by=leitung)

    closed = services.close_month(contract=contract, month=date(2026, 1, 1), by=leitung)
    again = services.close_month(contract=contract, month=date(2026, 1, 15), by=leitung)

    assert again == closed
    assert audit_of(closed) == [(AuditAction.CREATE, "leitung")]


def test_booking_below_zero_is_refused_with_the_shortfall_in_the_message(
    contract, controlling, english
):
    book(contract, controlling, amount="900.00")

    with pytest.raises(ValidationError) as error:
        book(contract, controlling, amount="150.00")

    assert error.value.message_dict["amount"] == [
        "This booking would leave the flexible sub-budget 50.00 € below zero. "
        "Give a reason to book it anyway."
    ]
    assert Posting.objects.count() == 1


def test_booking_below_zero_with_a_reason_is_booked_and_keeps_the_reason(contract, controlling):
    book(contract, controlling, amount="900.00")

    posting = book(
        contract, controlling, amount="150.00", override_reason="  Nachzahlung Miete 2025  "
    )

    assert posting.override_reason == "Nachzahlung Miete 2025"
    assert services.available(contract, FLEX) == Decimal("-50.00")
    assert AuditEntry.objects.filter(object_id=str(posting.pk)).get().changes == {
        "amount": "150.00",
        "override": True,
    }


def test_reason_is_not_stored_when_the_budget_suffices(contract, controlling):
    posting = book(contract, controlling, amount="1000.00", override_reason="vorsichtshalber")

    assert posting.override_reason == ""
    assert services.available(contract, FLEX) == Decimal("0.00")


def test_a_blank_reason_does_not_override(contract, controlling):
    with pytest.raises(ValidationError):
        book(contract, controlling, amount="1000.01", override_reason="   ")


def test_limit_counts_a_reallocation_approved_after_the_posting_date(
    contract, controlling, leitung
):
    """The limit is what is available now, also for a posting dated earlier in the year."""
    approved = propose(contract, controlling, amount="500.00")
    services.decide_reallocation(reallocation=approved, approve=True, by=leitung)

    posting = book(contract, controlling, amount="1400.00", booked_on=date(2026, 3, 10))

    assert posting.override_reason == ""
    assert services.available(contract, FLEX) == Decimal("100.00")


def test_posting_rows_are_append_only(contract, controlling):
    posting = book(contract, controlling)

    posting.amount = Decimal("1.00")
    with pytest.raises(PermissionError):
        posting.save()
    with pytest.raises(PermissionError):
        posting.delete()

    posting.refresh_from_db()
    assert posting.amount == Decimal("100.00")


@pytest.mark.parametrize(
    "persona", ["traegerleitung", "asd", "fachkraft", "datenschutz", "admin_user"]
)
def test_only_office_budget_roles_book(contract, request, persona):
    with pytest.raises(PermissionDenied):
        book(contract, request.getfixturevalue(persona))


def test_each_booking_is_audited(contract, controlling):
    posting = book(contract, controlling)

    assert audit_of(posting) == [(AuditAction.CREATE, "controlling")]


# --- Reallocations ---------------------------------------------------------------------


def test_proposer_cannot_approve_her_own_reallocation(contract, leitung):
    proposal = propose(contract, leitung)

    with pytest.raises(ValidationError):
        services.decide_reallocation(reallocation=proposal, approve=True, by=leitung)

    proposal.refresh_from_db()
    assert proposal.status == ReallocationStatus.PROPOSED
    assert planned(contract) == (Decimal("1000.00"), Decimal("5000.00"))


def test_database_refuses_a_decision_by_the_proposer(contract, leitung):
    proposal = propose(contract, leitung)

    # A plain QuerySet goes round the model's append-only guard, as raw SQL would.
    with pytest.raises(IntegrityError), transaction.atomic():
        QuerySet(Reallocation).filter(pk=proposal.pk).update(
            status=ReallocationStatus.APPROVED, decided_by=leitung
        )


def test_controller_cannot_decide(contract, controlling, leitung):
    proposal = propose(contract, leitung)

    with pytest.raises(PermissionDenied):
        services.decide_reallocation(reallocation=proposal, approve=True, by=controlling)


def test_controller_gets_403_on_the_decision_page(client, contract, controlling, leitung):
    proposal = propose(contract, leitung)
    client.force_login(controlling)

    response = client.post(
        reverse("budgets:reallocation_decide", args=[proposal.pk]), {"decision": "approve"}
    )

    assert response.status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == ReallocationStatus.PROPOSED


@pytest.mark.parametrize("persona", ["traegerleitung", "asd", "datenschutz"])
def test_only_office_budget_roles_propose(contract, request, persona):
    with pytest.raises(PermissionDenied):
        propose(contract, request.getfixturevalue(persona))


def test_approval_moves_the_amount_from_stationary_to_flexible(contract, controlling, leitung):
    proposal = propose(contract, controlling, amount="300.00")

    services.decide_reallocation(reallocation=proposal, approve=True, by=leitung)

    proposal.refresh_from_db()
    assert proposal.status == ReallocationStatus.APPROVED
    assert proposal.decided_by == leitung
    assert planned(contract) == (Decimal("1300.00"), Decimal("4700.00"))
    assert services.available(contract, FLEX) == Decimal("1300.00")


def test_approved_reallocation_shows_on_the_dashboard(client, contract, controlling, leitung):
    proposal = propose(contract, controlling, amount="300.00")
    services.decide_reallocation(reallocation=proposal, approve=True, by=leitung)
    client.force_login(leitung)

    response = client.get(reverse("budgets:dashboard"), {"year": 2026})

    figures = response.context["rows"][0]["now"]
    assert (figures.flexible.planned, figures.stationary.planned) == (
        Decimal("1300.00"),
        Decimal("4700.00"),
    )
    assert "1.300,00\u00a0€" in response.text
    assert "4.700,00\u00a0€" in response.text


def test_pending_reallocation_does_not_change_the_plan(contract, controlling):
    propose(contract, controlling, amount="300.00")

    assert planned(contract) == (Decimal("1000.00"), Decimal("5000.00"))


def test_approval_is_undone_when_a_later_step_fails(contract, controlling, leitung, monkeypatch):
    proposal = propose(contract, controlling, amount="300.00")

    def broken_audit(**kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(services, "log_action", broken_audit)
    with pytest.raises(RuntimeError):
        services.decide_reallocation(reallocation=proposal, approve=True, by=leitung)

    proposal.refresh_from_db()
    assert proposal.status == ReallocationStatus.PROPOSED
    assert proposal.decided_by is None
    assert planned(contract) == (Decimal("1000.00"), Decimal("5000.00"))


def test_reallocation_below_zero_of_the_source_is_refused_without_a_reason(
    contract, controlling, leitung, asd, stationary_provider
):
    # Booked 1 Jan–30 Jun (181 days) and committed to 31 Dec (184 days) at 10 €: 3.650 €,
    # so 1.350 € of the 5.000 € stationary plan are left.
    make_placement(asd, contract.region, stationary_provider, start=date(2026, 1, 1), rate=10)
    assert services.available(contract, STAT) == Decimal("1350.00")
    proposal = propose(contract, controlling, amount="1350.01")

    with pytest.raises(ValidationError) as error:
        services.decide_reallocation(reallocation=proposal, approve=True, by=leitung)

    assert "override_reason" in error.value.message_dict
    proposal.refresh_from_db()
    assert proposal.status == ReallocationStatus.PROPOSED


def test_reallocation_below_zero_with_a_reason_is_approved_and_keeps_it(
    contract, controlling, leitung
):
    proposal = propose(contract, controlling, amount="6000.00")

    services.decide_reallocation(
        reallocation=proposal, approve=True, by=leitung, override_reason="Rückführung zweier Kinder"
    )

    proposal.refresh_from_db()
    assert proposal.status == ReallocationStatus.APPROVED
    assert proposal.override_reason == "Rückführung zweier Kinder"
    assert services.available(contract, STAT) == Decimal("-1000.00")


def test_reallocation_to_stationary_checks_the_flexible_budget(contract, controlling, leitung):
    book(contract, controlling, amount="800.00")
    proposal = propose(contract, controlling, amount="200.01", direction="to_stationary")

    with pytest.raises(ValidationError):
        services.decide_reallocation(reallocation=proposal, approve=True, by=leitung)


def test_rejection_needs_a_comment(contract, controlling, leitung):
    proposal = propose(contract, controlling)

    with pytest.raises(ValidationError) as error:
        services.decide_reallocation(reallocation=proposal, approve=False, by=leitung, comment=" ")
    services.decide_reallocation(
        reallocation=proposal, approve=False, by=leitung, comment="Belegung steigt wieder"
    )

    assert "comment" in error.value.message_dict
    proposal.refresh_from_db()
    assert proposal.status == ReallocationStatus.REJECTED
    assert proposal.decision_comment == "Belegung steigt wieder"
    assert planned(contract) == (Decimal("1000.00"), Decimal("5000.00"))


def test_a_decided_reallocation_cannot_be_decided_again(contract, controlling, leitung):
    proposal = propose(contract, controlling)
    services.decide_reallocation(reallocation=proposal, approve=True, by=leitung)

    with pytest.raises(ValidationError):
        services.decide_reallocation(reallocation=proposal, approve=False, by=leitung, comment="x")


def test_approved_reallocation_is_reversed_only_by_an_approved_counter_reallocation(
    contract, controlling, leitung
):
    original = propose(contract, controlling, amount="300.00")
    original = services.decide_reallocation(reallocation=original, approve=True, by=leitung)

    counter = propose(
        contract, controlling, amount="1.00", direction="to_flexible", counter_of=original
    )

    assert (counter.direction, counter.amount) == ("to_stationary", Decimal("300.00"))
    assert counter.status == ReallocationStatus.PROPOSED
    assert planned(contract) == (Decimal("1300.00"), Decimal("4700.00"))

    services.decide_reallocation(reallocation=counter, approve=True, by=leitung)

    assert planned(contract) == (Decimal("1000.00"), Decimal("5000.00"))


def test_a_reallocation_is_reversed_only_once(contract, controlling, leitung):
    original = propose(contract, controlling)
    original = services.decide_reallocation(reallocation=original, approve=True, by=leitung)
    propose(contract, controlling, counter_of=original)

    with pytest.raises(ValidationError):
        propose(contract, leitung, counter_of=original)

    assert Reallocation.objects.count() == 2


@pytest.mark.parametrize("decision", ["pending", "rejected"])
def test_only_an_approved_reallocation_can_be_reversed(contract, controlling, leitung, decision):
    original = propose(contract, controlling)
    if decision == "rejected":
        services.decide_reallocation(
            reallocation=original, approve=False, by=leitung, comment="nein"
        )

    with pytest.raises(ValidationError):
        propose(contract, controlling, counter_of=original)


def test_reallocation_of_another_contract_cannot_be_reversed_here(
    contract, other_region, controlling, leitung
):
    other = make_contract(other_region, 2026)
    original = propose(other, controlling)
    original = services.decide_reallocation(reallocation=original, approve=True, by=leitung)

    with pytest.raises(ValidationError):
        propose(contract, controlling, counter_of=original)


def test_reallocation_rows_are_append_only(contract, controlling):
    proposal = propose(contract, controlling)

    proposal.amount = Decimal("1.00")
    with pytest.raises(PermissionError):
        proposal.save()
    with pytest.raises(PermissionError):
        proposal.delete()


@pytest.mark.parametrize(("amount", "reason"), [("0.00", "Rückführung"), ("100.00", "  ")])
def test_proposal_needs_a_positive_amount_and_a_reason(contract, controlling, amount, reason):
    with pytest.raises(ValidationError):
        services.propose_reallocation(
            contract=contract,
            direction="to_flexible",
            amount=Decimal(amount),
            reason=reason,
            by=controlling,
        )


def test_every_step_of_a_reallocation_is_audited(contract, controlling, leitung):
    original = propose(contract, controlling)
    original = services.decide_reallocation(reallocation=original, approve=True, by=leitung)
    counter = propose(contract, controlling, counter_of=original)
    services.decide_reallocation(
        reallocation=counter, approve=False, by=leitung, comment="bleibt so"
    )

    assert audit_of(original) == [
        (AuditAction.CREATE, "controlling"),
        (AuditAction.CHANGE, "leitung"),
    ]
    assert audit_of(counter) == [
        (AuditAction.CREATE, "controlling"),
        (AuditAction.CHANGE, "leitung"),
    ]
    changes = [
        e.changes
        for e in AuditEntry.objects.filter(object_type="budgets.reallocation").order_by("id")
    ]
    assert changes == [
        {"amount": "300.00", "direction": "to_flexible"},
        {"status": "approved"},
        {"amount": "300.00", "direction": "to_stationary"},
        {"status": "rejected"},
    ]


def test_postings_cannot_be_rewritten_field_by_field_or_in_bulk(contract, controlling):
    posting = services.book_posting(
        contract=contract,
        booked_on=contract.first_day,
        amount=Decimal("10.00"),
        category="personnel",
        text="Gehälter",
        by=controlling,
    )

    posting.amount = Decimal("99.00")
    with pytest.raises(PermissionError):
        posting.save(update_fields=["amount"])
    with pytest.raises(PermissionError):
        Posting.objects.filter(pk=posting.pk).update(amount=Decimal("1.00"))
    with pytest.raises(PermissionError):
        Posting.objects.filter(pk=posting.pk).delete()
