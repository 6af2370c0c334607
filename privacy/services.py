"""Retention workflows: propose, approve/reject and execute runs; restrict, anonymise
and delete case files; legal holds; reading a restricted case with a logged reason.

Anonymisation keeps every row that budget and KPI figures are computed from (cases,
helps, hour entries, plans, goals and ratings, group sessions) and strips what names or
describes a person (docs/RETENTION.md).
"""

import datetime
import hashlib

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import (
    Case,
    CaseNote,
    Family,
    HelpApproval,
    HelpPlan,
    HelpPlanGoal,
    Person,
    RiskAssessment,
    TeamConsultation,
)
from core.audit import log_action
from core.models import AuditAction, Draft, Role
from providers.models import HourEntry

from . import selectors
from .models import (
    DeletionProtocol,
    ProtocolAction,
    RecordType,
    RestrictedCaseAccess,
    RetentionAction,
    RetentionRule,
    RetentionRun,
    RunStatus,
)

RESTRICTED_READING_MINUTES = 30
ANONYMISED_FAMILY_NAME = "anonymisiert"


def pseudonym(text: str) -> str:
    """A hash of a file number: the office can check whether a file it knows was
    anonymised or deleted; the protocol alone names nobody."""
    return "sha256:" + hashlib.sha256(f"kijufaz-retention:{text}".encode()).hexdigest()[:32]


# --- Runs -----------------------------------------------------------------------------


def _require_data_protection(user) -> None:
    if user.role != Role.DATA_PROTECTION:
        raise PermissionDenied


@transaction.atomic
def propose_run(*, today: datetime.date | None = None) -> RetentionRun | None:
    """Take a snapshot of what is due. Changes no data. A proposal still waiting for a
    decision is refreshed instead of adding a second; none is made while one runs."""
    today = today or timezone.localdate()
    busy = RetentionRun.objects.select_for_update().filter(
        status__in=[RunStatus.APPROVED, RunStatus.RUNNING]
    )
    if busy.exists():
        return None
    due = [item for item in selectors.due_per_rule(today) if item.total or item.held]
    if not any(item.total for item in due):
        return None
    snapshot = {"rules": [item.as_snapshot() for item in due]}
    run = RetentionRun.objects.filter(status=RunStatus.PROPOSED).first()
    if run is None:
        run = RetentionRun(status=RunStatus.PROPOSED)
    run.due_on, run.due, run.proposed_at = today, snapshot, timezone.now()
    run.progress_total = sum(item.total for item in due)
    run.save()
    return run


def _lock_proposed(run: RetentionRun) -> RetentionRun:
    run = RetentionRun.objects.select_for_update().get(pk=run.pk)
    if run.status != RunStatus.PROPOSED:
        raise ValidationError(_("This run was already decided."))
    return run


@transaction.atomic
def approve_run(*, run: RetentionRun, by, comment: str = "", request=None) -> RetentionRun:
    _require_data_protection(by)
    run = _lock_proposed(run)
    run.status, run.decided_by, run.decided_at = RunStatus.APPROVED, by, timezone.now()
    run.decision_comment = comment
    run.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
    log_action(
        user=by, action=AuditAction.CHANGE, obj=run, changes={"status": "approved"}, request=request
    )
    from .tasks import execute_retention_run

    transaction.on_commit(lambda: execute_retention_run.delay(run.pk))
    return run


@transaction.atomic
def reject_run(*, run: RetentionRun, by, comment: str, request=None) -> RetentionRun:
    _require_data_protection(by)
    if not comment.strip():
        raise ValidationError({"comment": _("Please give a reason for the rejection.")})
    run = _lock_proposed(run)
    run.status, run.decided_by, run.decided_at = RunStatus.REJECTED, by, timezone.now()
    run.decision_comment = comment
    run.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
    log_action(
        user=by, action=AuditAction.CHANGE, obj=run, changes={"status": "rejected"}, request=request
    )
    return run


def _claim(run_id: int) -> RetentionRun | None:
    with transaction.atomic():
        run = RetentionRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status not in (RunStatus.APPROVED, RunStatus.RUNNING):
            return None
        run.status = RunStatus.RUNNING
        run.started_at = run.started_at or timezone.now()
        run.save(update_fields=["status", "started_at"])
        return run


def execute_run(run_id: int) -> RetentionRun | None:
    """Carry out an approved run: exactly the snapshot's records that are still due.

    Each record is handled in its own transaction with its protocol entry, so a run
    cut off halfway resumes where it stopped; running it again changes nothing.
    """
    run = _claim(run_id)
    if run is None:
        return None
    done = 0
    rules = {rule.pk: rule for rule in RetentionRule.objects.all()}
    for entry in run.due.get("rules", []):
        rule = rules.get(entry["rule"])
        if rule is None:
            continue
        if rule.is_case_rule:
            done = _execute_case_rule(run, rule, entry, done)
        else:
            _execute_bulk_rule(run, rule, entry.get("max_pk"))
            done += entry.get("remove_count", 0)
            _save_progress(run, done)
    run.status, run.executed_at = RunStatus.EXECUTED, timezone.now()
    run.save(update_fields=["status", "executed_at"])
    log_action(user=None, action=AuditAction.DELETE, obj=run, changes={"status": "executed"})
    return run


def _save_progress(run: RetentionRun, done: int) -> None:
    run.progress_done = min(done, run.progress_total)
    run.save(update_fields=["progress_done"])


def _already_protocolled(run, record_type, reference_prefix) -> bool:
    return DeletionProtocol.objects.filter(
        run=run, record_type=record_type, reference__startswith=reference_prefix
    ).exists()


def _execute_case_rule(run: RetentionRun, rule: RetentionRule, entry: dict, done: int) -> int:
    today = run.due_on
    steps = [
        (entry["remove"], selectors.cases_due_for_removal(rule, today), _remove_case),
        (entry["restrict"], selectors.cases_due_for_restriction(rule, today), _restrict_case),
    ]
    for ids, still_due, handle in steps:
        for case_id in ids:
            with transaction.atomic():
                case = Case.objects.select_for_update().filter(pk=case_id).first()
                # The internal id finds the entry again when a run resumes; the hash of
                # the file number lets the office check a file it knows.
                prefix = f"{case_id}/"
                reference = prefix + (pseudonym(case.reference) if case else "")
                if not _already_protocolled(run, rule.record_type, prefix):
                    if case is None or case.legal_hold or not still_due.filter(pk=case_id):
                        _protocol(run, rule, reference, 0, ProtocolAction.SKIPPED)
                    else:
                        action, count = handle(case, rule)
                        _protocol(run, rule, reference, count, action)
            done += 1
            _save_progress(run, done)
    return done


def _protocol(run, rule, reference, count, action) -> None:
    DeletionProtocol.objects.create(
        run=run,
        rule=rule,
        record_type=rule.record_type,
        reference=reference,
        object_count=count,
        action=action,
    )


def _restrict_case(case: Case, rule: RetentionRule) -> tuple[str, int]:
    restrict_case(case=case)
    return ProtocolAction.RESTRICTED, 1


def _remove_case(case: Case, rule: RetentionRule) -> tuple[str, int]:
    if rule.action == RetentionAction.DELETE and not figures_depend_on(case):
        return ProtocolAction.DELETED, delete_case(case=case)
    return ProtocolAction.ANONYMISED, anonymise_case(case=case)


@transaction.atomic
def _execute_bulk_rule(run: RetentionRun, rule: RetentionRule, max_pk: int | None) -> None:
    """Records of the rule still due on the run's day, created before the proposal."""
    if max_pk is None:
        return
    reference = f"{rule.record_type}:..{max_pk}"
    if _already_protocolled(run, rule.record_type, reference):
        return
    due = selectors.records_due_for_removal(rule, run.due_on).filter(pk__lte=max_pk)
    due = due.values("pk")
    if rule.record_type == RecordType.HOUR_ENTRY:
        count = HourEntry.objects.filter(pk__in=due).update(note="")
        action = ProtocolAction.ANONYMISED
    elif rule.record_type == RecordType.GROUP_ATTENDANCE:
        count = sum(_anonymise_person(person) for person in Person.objects.filter(pk__in=due))
        action = ProtocolAction.ANONYMISED
    else:
        count, __ = Draft.objects.filter(pk__in=due).delete()
        action = ProtocolAction.DELETED
    _protocol(run, rule, reference, count, action)


# --- The lifecycle of one case --------------------------------------------------------


def restrict_case(*, case: Case) -> None:
    """Sperrung (§ 84 SGB X): the case disappears from every list and page."""
    case.restricted_at = case.restricted_at or timezone.now()
    case.save(update_fields=["restricted_at"])


def figures_depend_on(case: Case) -> bool:
    """Would deleting the case change a budget or KPI figure (or another case's file)?"""
    return (
        case.helps.exists()
        or Person.objects.filter(family=case.family_id, group_sessions__isnull=False).exists()
        or case.family.cases.exclude(pk=case.pk).exists()
    )


def _anonymise_person(person: Person) -> int:
    person.first_name = selectors.ANONYMOUS_FIRST_NAME
    person.last_name = ""
    # The birth year keeps age-group figures right; the exact day identifies.
    person.birth_date = datetime.date(person.birth_date.year, 7, 1)
    person.save(update_fields=["first_name", "last_name", "birth_date"])
    return 1


def _anonymise_family(family: Family) -> int:
    family.name = ANONYMISED_FAMILY_NAME
    family.street = family.postal_code = family.phone = ""
    family.save(update_fields=["name", "street", "postal_code", "phone"])
    return 1 + sum(_anonymise_person(person) for person in family.members.all())


@transaction.atomic
def anonymise_case(*, case: Case) -> int:
    """Strip personal data from the case file, keep the rows figures are computed from.

    Returns how many records were touched. The family and its members are anonymised
    once no other case of the family still needs them.
    """
    count = 0
    helps = case.helps.all()
    count += CaseNote.objects.filter(case=case).delete()[0]
    count += RiskAssessment.objects.filter(case=case).update(
        report_source="", report_summary="", assessment="", protection_plan=""
    )
    count += TeamConsultation.objects.filter(case=case).update(
        options_considered="", decision="", reasons=""
    )
    count += HelpPlan.objects.filter(help__in=helps).update(participants="", agreed_steps="")
    count += HelpPlanGoal.objects.filter(plan__help__in=helps).update(description="")
    count += HelpApproval.objects.filter(help__in=helps).update(reason="", comment="")
    count += HourEntry.objects.filter(help__in=helps).exclude(note="").update(note="")
    count += case.access_grants.all().delete()[0]
    others = case.family.cases.exclude(pk=case.pk).filter(anonymised_at__isnull=True)
    if not others.exists():
        count += _anonymise_family(case.family)
    now = timezone.now()
    case.reference = f"ANON-{case.pk}"
    case.closing_note = ""
    case.legal_hold_reason = ""
    case.restricted_at = case.restricted_at or now
    case.anonymised_at = now
    case.save(
        update_fields=[
            "reference",
            "closing_note",
            "legal_hold_reason",
            "restricted_at",
            "anonymised_at",
        ]
    )
    return count + 1


@transaction.atomic
def delete_case(*, case: Case) -> int:
    """Delete a case file no figure depends on (callers check figures_depend_on)."""
    count = CaseNote.objects.filter(case=case).delete()[0]
    count += RiskAssessment.objects.filter(case=case).delete()[0]
    count += TeamConsultation.objects.filter(case=case).delete()[0]
    family = case.family
    count += case.delete()[0]
    if not family.cases.exists():
        count += family.delete()[0]
    return count


# --- Legal hold -------------------------------------------------------------------------


def _require_hold_manager(user, case: Case) -> None:
    if not selectors.hold_cases_for(user).filter(pk=case.pk).exists():
        raise PermissionDenied


@transaction.atomic
def set_legal_hold(*, case: Case, by, reason: str, request=None) -> Case:
    """A legal hold stops restriction and anonymisation until it is lifted."""
    _require_hold_manager(by, case)
    if not reason.strip():
        raise ValidationError({"reason": _("Please give a reason for the legal hold.")})
    if case.legal_hold:
        raise ValidationError(_("This case is already under a legal hold."))
    case.legal_hold, case.legal_hold_reason = True, reason
    case.save(update_fields=["legal_hold", "legal_hold_reason"])
    log_action(
        user=by,
        action=AuditAction.CHANGE,
        obj=case,
        changes={"legal_hold": "set", "reason": reason},
        request=request,
    )
    return case


@transaction.atomic
def lift_legal_hold(*, case: Case, by, reason: str, request=None) -> Case:
    _require_hold_manager(by, case)
    if not reason.strip():
        raise ValidationError({"reason": _("Please give a reason for lifting the legal hold.")})
    case.legal_hold, case.legal_hold_reason = False, ""
    case.save(update_fields=["legal_hold", "legal_hold_reason"])
    log_action(
        user=by,
        action=AuditAction.CHANGE,
        obj=case,
        changes={"legal_hold": "lifted", "reason": reason},
        request=request,
    )
    return case


# --- Reading a restricted case ------------------------------------------------------------


@transaction.atomic
def open_restricted_case(*, case: Case, by, reason: str, request=None) -> RestrictedCaseAccess:
    """Let `by` read the restricted case for a short time; the reason goes to the audit log."""
    if not selectors.restricted_cases_for(by).filter(pk=case.pk).exists():
        raise PermissionDenied
    if len(reason.strip()) < 10:
        raise ValidationError({"reason": _("Please describe the reason (at least 10 characters).")})
    now = timezone.now()
    access = RestrictedCaseAccess.objects.create(
        case=case,
        user=by,
        reason=reason,
        granted_at=now,
        expires_at=now + datetime.timedelta(minutes=RESTRICTED_READING_MINUTES),
    )
    log_action(
        user=by,
        action=AuditAction.VIEW,
        obj=case,
        changes={"restricted_access": "opened", "reason": reason},
        request=request,
    )
    return access
