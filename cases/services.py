"""Workflows of the case file: each checks, changes atomically, and writes the audit log."""

import datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import log_action
from core.models import AuditAction, Role

from .models import (
    ApprovalKind,
    ApprovalStatus,
    Case,
    CaseNote,
    CaseStatus,
    DailyRate,
    Family,
    Help,
    HelpApproval,
    HelpPlan,
    HelpPlanGoal,
)


class PlanConflict(Exception):
    """Someone saved a newer version of the help plan since the form was opened."""


def next_review_date(meeting_date: datetime.date) -> datetime.date:
    return meeting_date + relativedelta(months=settings.KIJUFAZ_REVIEW_INTERVAL_MONTHS)


def _assign_reference(case: Case) -> None:
    # The primary key makes the file number unique without a counter table.
    case.reference = f"{case.opened_on:%Y}-{case.pk:05d}"
    case.save(update_fields=["reference"])


@transaction.atomic
def open_case(*, family: Family, owner, opened_on: datetime.date, by) -> Case:
    if owner.role not in (Role.ASD, Role.ASD_LEAD) or owner.team_id is None:
        raise ValidationError(_("Only an ASD caseworker with a team can own a case."))
    if family.pk is None:
        family.save()
        log_action(user=by, action=AuditAction.CREATE, obj=family)
    case = Case(
        family=family,
        owner=owner,
        team_id=owner.team_id,
        opened_on=opened_on,
        reference=f"new-{timezone.now().timestamp()}",
    )
    case.full_clean(exclude=["reference"])
    case.save()
    _assign_reference(case)
    log_action(user=by, action=AuditAction.CREATE, obj=case)
    return case


@transaction.atomic
def close_case(*, case: Case, on: datetime.date, reason: str, note: str, by) -> None:
    if not case.is_open:
        raise ValidationError(_("The case is already closed."))
    if on < case.opened_on:
        raise ValidationError({"closed_on": _("A case cannot be closed before it was opened.")})
    running = case.helps.exclude(status=ApprovalStatus.REJECTED).filter(
        Q(end__isnull=True) | Q(end__gt=on)
    )
    if running.exists():
        raise ValidationError(_("End all running helps before closing the case."))
    case.status = CaseStatus.CLOSED
    case.closed_on = on
    case.closing_reason = reason
    case.closing_note = note
    case.save(update_fields=["status", "closed_on", "closing_reason", "closing_note"])
    log_action(
        user=by,
        action=AuditAction.CHANGE,
        obj=case,
        changes={"fields": ["status", "closed_on", "closing_reason", "closing_note"]},
    )


@transaction.atomic
def reassign_case(*, case: Case, new_owner, by) -> None:
    if by.role != Role.ASD_LEAD or by.team_id != case.team_id:
        raise PermissionDenied
    if new_owner.role not in (Role.ASD, Role.ASD_LEAD) or new_owner.team_id != case.team_id:
        raise ValidationError(_("The new owner must be a caseworker of the case's team."))
    case.owner = new_owner
    case.save(update_fields=["owner"])
    log_action(user=by, action=AuditAction.CHANGE, obj=case, changes={"fields": ["owner"]})


@transaction.atomic
def request_help(*, help: Help, by, reason: str = "") -> Help:
    """Record a help and ask the team lead to approve it; it counts only once approved."""
    help.status = ApprovalStatus.REQUESTED
    help.created_by = by
    help.full_clean()
    help.save()
    if help.is_stationary:
        DailyRate.objects.create(help=help, valid_from=help.start, amount=help.daily_rate)
    HelpApproval.objects.create(
        help=help,
        kind=ApprovalKind.GRANT,
        proposed_hours_per_month=help.planned_hours_per_month,
        reason=reason,
        requested_by=by,
    )
    log_action(user=by, action=AuditAction.CREATE, obj=help)
    return help


@transaction.atomic
def request_hours_change(*, help: Help, hours: Decimal, reason: str, by) -> HelpApproval:
    if not help.is_approved or help.is_ended:
        raise ValidationError(_("Only a running, approved help can get new hours."))
    if hours < 0:
        raise ValidationError({"proposed_hours_per_month": _("Hours cannot be negative.")})
    if help.approvals.filter(decision=ApprovalStatus.REQUESTED).exists():
        raise ValidationError(_("This help already waits for an approval."))
    approval = HelpApproval.objects.create(
        help=help,
        kind=ApprovalKind.HOURS_CHANGE,
        proposed_hours_per_month=hours,
        reason=reason,
        requested_by=by,
    )
    log_action(user=by, action=AuditAction.CREATE, obj=approval)
    return approval


def can_decide(approval: HelpApproval, user) -> bool:
    return (
        user.role == Role.ASD_LEAD
        and user.team_id == approval.help.case.team_id
        and user.pk != approval.requested_by_id
    )


@transaction.atomic
def decide_approval(*, approval: HelpApproval, approve: bool, comment: str, by) -> None:
    approval = (
        HelpApproval.objects.select_for_update().select_related("help__case").get(pk=approval.pk)
    )
    if not approval.is_pending:
        raise ValidationError(_("This request has already been decided."))
    if not can_decide(approval, by):
        raise PermissionDenied
    approval.decision = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    approval.decided_by = by
    approval.decided_at = timezone.now()
    approval.comment = comment
    approval.save(update_fields=["decision", "decided_by", "decided_at", "comment"])
    help = approval.help
    if approval.kind == ApprovalKind.GRANT:
        help.status = approval.decision
        help.save(update_fields=["status"])
    elif approve:
        help.planned_hours_per_month = approval.proposed_hours_per_month
        help.save(update_fields=["planned_hours_per_month"])
    log_action(
        user=by,
        action=AuditAction.CHANGE,
        obj=approval,
        changes={"decision": approval.decision},
    )


@transaction.atomic
def end_help(*, help: Help, on: datetime.date, reason: str, by) -> None:
    if help.is_ended:
        raise ValidationError(_("This help has already ended."))
    if not help.is_approved:
        raise ValidationError(_("Only an approved help can be ended."))
    if on < help.start:
        raise ValidationError({"end": _("A help cannot end before it started.")})
    help.end = on
    help.end_reason = reason
    help.save(update_fields=["end", "end_reason"])
    log_action(
        user=by, action=AuditAction.CHANGE, obj=help, changes={"fields": ["end", "end_reason"]}
    )


@transaction.atomic
def save_help_plan(
    *,
    help: Help,
    based_on_version: int,
    plan: HelpPlan,
    goals: list[tuple[str, str]],
    by,
) -> HelpPlan:
    """Save a new version of the help plan.

    `based_on_version` is the version the author started from (0 for none). If
    someone saved a newer one meanwhile, PlanConflict is raised instead of
    overwriting their work; the unique (help, version) constraint catches the
    race of two saves at the same instant.
    """
    current = help.plans.select_for_update().filter(is_current=True).first()
    current_version = current.version if current else 0
    if current_version != based_on_version:
        raise PlanConflict
    if current is not None:
        current.is_current = False
        current.save(update_fields=["is_current"])
    plan.help = help
    plan.version = current_version + 1
    plan.is_current = True
    plan.created_by = by
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError as exc:
        raise PlanConflict from exc
    HelpPlanGoal.objects.bulk_create(
        HelpPlanGoal(plan=plan, position=i, description=description, status=status)
        for i, (description, status) in enumerate(goals)
    )
    log_action(user=by, action=AuditAction.CREATE, obj=plan, changes={"version": plan.version})
    return plan


@transaction.atomic
def add_note(*, case: Case, kind: str, text: str, by) -> CaseNote:
    note = CaseNote.objects.create(case=case, kind=kind, text=text, author=by)
    log_action(user=by, action=AuditAction.CREATE, obj=note)
    return note


@transaction.atomic
def change_daily_rate(*, help: Help, valid_from: datetime.date, amount: Decimal, by) -> DailyRate:
    """A new daily rate from a day on; the previous rate ends the day before."""
    if not help.is_stationary:
        raise ValidationError(_("Only a stationary help has a daily rate."))
    if amount <= 0:
        raise ValidationError({"amount": _("The daily rate must be more than 0 €.")})
    current = help.rates.select_for_update().order_by("-valid_from").first()
    if current is not None and valid_from <= current.valid_from:
        raise ValidationError(
            {
                "valid_from": _("A new rate must start after the current one (%(day)s).")
                % {"day": f"{current.valid_from:%d.%m.%Y}"}
            }
        )
    if help.end is not None and valid_from > help.end:
        raise ValidationError({"valid_from": _("The help has already ended by then.")})
    if current is not None:
        current.valid_until = valid_from - datetime.timedelta(days=1)
        current.save(update_fields=["valid_until"])
    rate = DailyRate.objects.create(help=help, valid_from=valid_from, amount=amount)
    log_action(user=by, action=AuditAction.CREATE, obj=rate, changes={"help": help.pk})
    return rate
