"""Bookings and reallocations: checks under a row lock, atomic, audited.

Every write that checks what is left first locks the contract's sub-budget rows
with SELECT ... FOR UPDATE, always in the same order (flexible, then stationary),
so concurrent bookings and reallocations queue instead of racing or deadlocking.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import log_action
from core.models import AuditAction, Role

from .models import (
    BUDGET_ROLES,
    ClosedMonth,
    Direction,
    Posting,
    PostingKind,
    Reallocation,
    ReallocationStatus,
    ServiceContract,
    SubBudget,
    SubBudgetKind,
)
from .selectors import (
    ZERO,
    committed_by_region,
    money,
    planned_by_contract,
    stationary_cost,
    stationary_rates,
)


def _lock_sub_budgets(contract: ServiceContract) -> dict[str, SubBudget]:
    rows = SubBudget.objects.filter(contract=contract).order_by("kind")
    if settings.KIJUFAZ_ROW_LOCKS:
        rows = rows.select_for_update()
    return {row.kind: row for row in rows}


def available(contract: ServiceContract, kind: str, day: datetime.date | None = None) -> Decimal:
    """Plan minus what is booked and committed for the contract year (never stored)."""
    day = day or timezone.localdate()
    planned = planned_by_contract([contract], day)[(contract.pk, kind)]
    if kind == SubBudgetKind.FLEXIBLE:
        booked = money(
            Posting.objects.filter(sub_budget__contract=contract, sub_budget__kind=kind).aggregate(
                total=Sum("amount")
            )["total"]
        )
        return planned - booked
    as_of = min(max(day, contract.first_day), contract.last_day)
    __, booked = stationary_cost(stationary_rates([contract.region_id]), contract.first_day, as_of)
    committed = committed_by_region([contract.region_id], as_of).get(contract.region_id, ZERO)
    return planned - booked - committed


def _require_budget_role(user, *roles) -> None:
    if user.role not in (roles or BUDGET_ROLES):
        raise PermissionDenied


@transaction.atomic
def book_posting(
    *,
    contract: ServiceContract,
    booked_on: datetime.date,
    amount: Decimal,
    category: str,
    text: str,
    by,
    corrects: Posting | None = None,
    override_reason: str = "",
) -> Posting:
    _require_budget_role(by)
    if not contract.first_day <= booked_on <= contract.last_day:
        raise ValidationError({"booked_on": _("The date lies outside the contract year.")})
    sub_budgets = _lock_sub_budgets(contract)
    flexible = sub_budgets[SubBudgetKind.FLEXIBLE]
    month = booked_on.replace(day=1)
    is_correction = corrects is not None
    if ClosedMonth.objects.filter(contract=contract, month=month).exists() and not is_correction:
        raise ValidationError(
            {"booked_on": _("This month is closed; it takes only correction entries.")}
        )
    if amount == 0:
        raise ValidationError({"amount": _("The amount must not be zero.")})
    if amount < 0 and not is_correction:
        raise ValidationError({"amount": _("Negative amounts are only possible as corrections.")})
    if is_correction and corrects.sub_budget_id != flexible.pk:
        raise ValidationError(_("The correction must belong to the same sub-budget."))
    # What is left now: every posting of the year against the plan with every reallocation
    # approved so far, also for a posting dated before a reallocation was approved.
    remaining = available(contract, SubBudgetKind.FLEXIBLE) - amount
    if remaining < 0 and not override_reason.strip():
        raise ValidationError(
            {
                "amount": _(
                    "This booking would leave the flexible sub-budget %(rest)s € below "
                    "zero. Give a reason to book it anyway."
                )
                % {"rest": -remaining}
            }
        )
    posting = Posting.objects.create(
        sub_budget=flexible,
        booked_on=booked_on,
        amount=amount,
        kind=PostingKind.CORRECTION if is_correction else PostingKind.COST,
        category=category,
        text=text,
        corrects=corrects,
        override_reason=override_reason.strip() if remaining < 0 else "",
        created_by=by,
    )
    log_action(
        user=by,
        action=AuditAction.CREATE,
        obj=posting,
        changes={"amount": str(amount), "override": bool(posting.override_reason)},
    )
    return posting


@transaction.atomic
def close_month(*, contract: ServiceContract, month: datetime.date, by) -> ClosedMonth:
    _require_budget_role(by, Role.DEPARTMENT_HEAD)
    month = month.replace(day=1)
    if month.year != contract.year:
        raise ValidationError(_("The month lies outside the contract year."))
    closed, created = ClosedMonth.objects.get_or_create(
        contract=contract, month=month, defaults={"closed_by": by}
    )
    if created:
        log_action(user=by, action=AuditAction.CREATE, obj=closed)
    return closed


@transaction.atomic
def propose_reallocation(
    *,
    contract: ServiceContract,
    direction: str,
    amount: Decimal,
    reason: str,
    by,
    counter_of: Reallocation | None = None,
) -> Reallocation:
    _require_budget_role(by)
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be more than 0 €.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Please give the reason for the reallocation.")})
    if counter_of is not None:
        if (
            counter_of.status != ReallocationStatus.APPROVED
            or counter_of.contract_id != contract.pk
        ):
            raise ValidationError(_("Only an approved reallocation of this contract is reversed."))
        if Reallocation.objects.filter(counter_of=counter_of).exists():
            raise ValidationError(_("This reallocation has already been reversed."))
        direction = (
            Direction.TO_STATIONARY
            if counter_of.direction == Direction.TO_FLEXIBLE
            else Direction.TO_FLEXIBLE
        )
        amount = counter_of.amount
    reallocation = Reallocation.objects.create(
        contract=contract,
        direction=direction,
        amount=amount,
        reason=reason.strip(),
        proposed_by=by,
        counter_of=counter_of,
    )
    log_action(
        user=by,
        action=AuditAction.CREATE,
        obj=reallocation,
        changes={"amount": str(amount), "direction": direction},
    )
    return reallocation


@transaction.atomic
def decide_reallocation(
    *, reallocation: Reallocation, approve: bool, by, comment: str = "", override_reason: str = ""
) -> Reallocation:
    """The department head approves (applied at once) or rejects a proposal."""
    _require_budget_role(by, Role.DEPARTMENT_HEAD)
    contract = reallocation.contract
    _lock_sub_budgets(contract)
    reallocation = Reallocation.objects.select_for_update().get(pk=reallocation.pk)
    if not reallocation.is_pending:
        raise ValidationError(_("This reallocation has already been decided."))
    if reallocation.proposed_by_id == by.pk:
        raise ValidationError(_("A reallocation is approved by someone other than its proposer."))
    override_reason = override_reason.strip()
    if approve:
        source = (
            SubBudgetKind.STATIONARY
            if reallocation.direction == Direction.TO_FLEXIBLE
            else SubBudgetKind.FLEXIBLE
        )
        rest = available(contract, source) - reallocation.amount
        if rest < 0 and not override_reason:
            raise ValidationError(
                {
                    "override_reason": _(
                        "The %(budget)s would be %(rest)s € below zero. Give a reason to approve "
                        "it anyway."
                    )
                    % {"budget": SubBudgetKind(source).label, "rest": -rest}
                }
            )
        reallocation.override_reason = override_reason if rest < 0 else ""
    elif not comment.strip():
        raise ValidationError({"comment": _("Please give a reason for the rejection.")})
    reallocation.status = ReallocationStatus.APPROVED if approve else ReallocationStatus.REJECTED
    reallocation.decided_by = by
    reallocation.decided_at = timezone.now()
    reallocation.decision_comment = comment.strip()
    reallocation.save(
        update_fields=["status", "decided_by", "decided_at", "decision_comment", "override_reason"]
    )
    log_action(
        user=by,
        action=AuditAction.CHANGE,
        obj=reallocation,
        changes={"status": reallocation.status},
    )
    return reallocation
