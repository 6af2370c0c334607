"""Workflows of the case file: each checks, changes atomically, and writes the audit log."""

import csv
import datetime
import io
from dataclasses import dataclass
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import log_action
from core.models import AuditAction, Role, User

from .models import (
    ApprovalKind,
    ApprovalStatus,
    Case,
    CaseAccessGrant,
    CaseNote,
    CaseStatus,
    DailyRate,
    DeputyAssignment,
    EntrustedNoteGrant,
    Family,
    GoalRating,
    Help,
    HelpApproval,
    HelpPlan,
    HelpPlanGoal,
    RatingOccasion,
    ResourceKind,
    TeamConsultation,
)


@dataclass(frozen=True)
class GoalInput:
    """A goal as typed into the plan form, with its optional ratings (1–5)."""

    description: str
    status: str = "open"
    origin_id: int | None = None
    professional: int | None = None
    own: int | None = None


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


def needs_team_decision(help: Help) -> bool:
    """§ 36 (2): a help expected to last longer is chosen by several professionals."""
    if help.planned_end is None:
        return True
    limit = help.start + relativedelta(months=settings.KIJUFAZ_TEAM_DECISION_MONTHS)
    return help.planned_end > limit


def check_team_decision(help: Help) -> None:
    consultation = help.team_consultation
    # Checked first: a short help may name a consultation too, but only one of its own case.
    if consultation is not None and consultation.case_id != help.case_id:
        raise ValidationError({"team_consultation": _("The consultation belongs to another case.")})
    if not needs_team_decision(help):
        return
    if consultation is None:
        raise ValidationError(
            {
                "team_consultation": _(
                    "A help planned for more than %(months)s months (or without a planned end) is "
                    "chosen by several professionals: record the team consultation first."
                )
                % {"months": settings.KIJUFAZ_TEAM_DECISION_MONTHS}
            }
        )


@transaction.atomic
def record_team_consultation(
    *,
    case: Case,
    held_on: datetime.date,
    participants,
    options_considered: str,
    decision: str,
    reasons: str,
    by,
) -> TeamConsultation:
    professional_roles = (Role.ASD, Role.ASD_LEAD, Role.PROVIDER_STAFF, Role.PROVIDER_LEAD)
    if any(p.role not in professional_roles for p in participants):
        raise ValidationError(
            {"participants": _("Only professionals of the ASD and the providers take part.")}
        )
    others = {p.pk for p in participants} - {case.owner_id}
    if len(others) < 2:
        raise ValidationError(
            {"participants": _("At least two professionals besides the case owner take part.")}
        )
    consultation = TeamConsultation.objects.create(
        case=case,
        held_on=held_on,
        options_considered=options_considered,
        decision=decision,
        reasons=reasons,
        created_by=by,
    )
    consultation.participants.set(participants)
    log_action(user=by, action=AuditAction.CREATE, obj=consultation)
    return consultation


def _rate(goal_ids_and_ratings, occasion: str, day: datetime.date) -> None:
    GoalRating.objects.bulk_create(
        GoalRating(
            goal_id=goal_id, occasion=occasion, rated_on=day, professional=professional, own=own
        )
        for goal_id, professional, own in goal_ids_and_ratings
        if professional is not None
    )


@transaction.atomic
def request_help(*, help: Help, by, reason: str = "", resources=()) -> Help:
    """Record a help and ask the team lead to approve it; it counts only once approved."""
    check_team_decision(help)
    help.status = ApprovalStatus.REQUESTED
    help.created_by = by
    help.full_clean()
    help.save()
    if resources:
        help.resources.set(resources)
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
def end_help(*, help: Help, on: datetime.date, reason: str, by, ratings=()) -> None:
    """End a help; `ratings` are (goal id, professional, own) end ratings of its goals."""
    if help.is_ended:
        raise ValidationError(_("This help has already ended."))
    if not help.is_approved:
        raise ValidationError(_("Only an approved help can be ended."))
    if on < help.start:
        raise ValidationError({"end": _("A help cannot end before it started.")})
    help.end = on
    help.end_reason = reason
    help.save(update_fields=["end", "end_reason"])
    _rate(_own_goal_roots(help, ratings), RatingOccasion.END, on)
    log_action(
        user=by, action=AuditAction.CHANGE, obj=help, changes={"fields": ["end", "end_reason"]}
    )


@transaction.atomic
def save_help_plan(
    *,
    help: Help,
    based_on_version: int,
    plan: HelpPlan,
    goals,
    by,
    resources=None,
) -> HelpPlan:
    """Save a new version of the help plan.

    `based_on_version` is the version the author started from (0 for none). If
    someone saved a newer one meanwhile, PlanConflict is raised instead of
    overwriting their work; the unique (help, version) constraint catches the
    race of two saves at the same instant.
    """
    plans = help.plans.select_for_update() if settings.KIJUFAZ_ROW_LOCKS else help.plans
    current = plans.filter(is_current=True).first()
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
    if resources is not None:
        # The plan names the resources it involves; the help carries the current set.
        plan.resources.set(resources)
        help.resources.set(resources)
    goals = [g if isinstance(g, GoalInput) else GoalInput(*g) for g in goals]
    roots = {
        goal.pk: goal.lineage_root.pk
        for goal in HelpPlanGoal.objects.filter(
            plan__help=help, pk__in=[g.origin_id for g in goals if g.origin_id]
        ).select_related("origin")
    }
    created = HelpPlanGoal.objects.bulk_create(
        HelpPlanGoal(
            plan=plan,
            position=i,
            description=g.description,
            status=g.status,
            origin_id=roots.get(g.origin_id),
        )
        for i, g in enumerate(goals)
    )
    occasion = RatingOccasion.START if current is None else RatingOccasion.REVIEW
    _rate(
        [
            ((row.origin_id or row.pk), g.professional, g.own)
            for row, g in zip(created, goals, strict=True)
        ],
        occasion,
        plan.meeting_date,
    )
    log_action(user=by, action=AuditAction.CREATE, obj=plan, changes={"version": plan.version})
    return plan


def _own_goal_roots(help: Help, ratings) -> list:
    """Keep only ratings of this help's goals, attached to each goal's first version."""
    ratings = list(ratings)
    roots = {
        goal.pk: goal.lineage_root.pk
        for goal in HelpPlanGoal.objects.filter(
            plan__help=help, pk__in=[r[0] for r in ratings]
        ).select_related("origin")
    }
    kept, seen = [], set()
    for goal_id, professional, own in ratings:
        root = roots.get(goal_id)
        # One rating per goal and occasion: a second row for the same goal is ignored.
        if root is not None and root not in seen:
            seen.add(root)
            kept.append((root, professional, own))
    return kept


@transaction.atomic
def add_note(*, case: Case, kind: str, text: str, by, entrusted: bool = False) -> CaseNote:
    note = CaseNote.objects.create(case=case, kind=kind, text=text, author=by, entrusted=entrusted)
    log_action(user=by, action=AuditAction.CREATE, obj=note, changes={"entrusted": entrusted})
    return note


# --- § 35 SGB I confidential cases, named and deputy access, § 65 entrusted entries ----


def _check_manager(case: Case, by) -> None:
    if case.owner_id != by.pk and not (by.role == Role.ASD_LEAD and by.team_id == case.team_id):
        raise PermissionDenied


@transaction.atomic
def set_confidential(*, case: Case, confidential: bool, reason: str, by) -> None:
    """Restrict the case to its owner and the named people, or lift the restriction."""
    _check_manager(case, by)
    if not reason.strip():
        raise ValidationError({"reason": _("Please give a reason.")})
    case.confidential = confidential
    case.save(update_fields=["confidential"])
    log_action(
        user=by,
        action=AuditAction.CHANGE,
        obj=case,
        # The reason is the justification the data protection officer reviews.
        changes={"fields": ["confidential"], "confidential": confidential, "reason": reason},
    )


def case_access_candidates(case: Case, today: datetime.date | None = None):
    """Who may be named for a case: the team's caseworkers and the staff of providers
    delivering a running help on it; never the owner herself."""

    today = today or timezone.localdate()
    serving = Help.objects.active_on(today).filter(case=case).values("provider_id")
    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(role__in=[Role.ASD, Role.ASD_LEAD], team_id=case.team_id)
            | Q(role__in=[Role.PROVIDER_STAFF, Role.PROVIDER_LEAD], provider_id__in=serving)
        )
        .exclude(pk=case.owner_id)
        .order_by("last_name", "first_name")
    )


@transaction.atomic
def grant_case_access(
    *,
    case: Case,
    user,
    reason: str,
    by,
    valid_from: datetime.date | None = None,
    valid_until: datetime.date | None = None,
) -> CaseAccessGrant:
    _check_manager(case, by)
    valid_from = valid_from or timezone.localdate()
    if not case_access_candidates(case).filter(pk=user.pk).exists():
        raise ValidationError(
            {"user": _("Only members of the case's team or staff of its provider can be named.")}
        )
    if not reason.strip():
        raise ValidationError({"reason": _("Please give a reason.")})
    if valid_until is not None and valid_until < valid_from:
        raise ValidationError({"valid_until": _("The end date must not be before the start.")})
    grant = CaseAccessGrant.objects.create(
        case=case,
        user=user,
        reason=reason,
        valid_from=valid_from,
        valid_until=valid_until,
        granted_by=by,
    )
    log_action(
        user=by,
        action=AuditAction.CREATE,
        obj=grant,
        changes={
            "case": case.pk,
            "user": user.pk,
            "valid_from": valid_from.isoformat(),
            "valid_until": valid_until.isoformat() if valid_until else None,
        },
    )
    return grant


@transaction.atomic
def revoke_case_access(*, grant: CaseAccessGrant, by) -> None:
    _check_manager(grant.case, by)
    if grant.revoked_at is not None:
        return
    grant.revoked_at = timezone.now()
    grant.save(update_fields=["revoked_at"])
    log_action(
        user=by,
        action=AuditAction.CHANGE,
        obj=grant,
        changes={"fields": ["revoked_at"], "case": grant.case_id, "user": grant.user_id},
    )


def deputy_candidates(lead):

    return User.objects.filter(
        is_active=True, role__in=[Role.ASD, Role.ASD_LEAD], team_id=lead.team_id
    ).order_by("last_name", "first_name")


@transaction.atomic
def assign_deputy(
    *,
    absent,
    deputy,
    valid_from: datetime.date,
    valid_until: datetime.date,
    reason: str,
    by,
) -> DeputyAssignment:
    """The team lead names a deputy for an absent caseworker of her team, for a time."""
    if by.role != Role.ASD_LEAD or by.team_id is None:
        raise PermissionDenied
    team_members = deputy_candidates(by)
    errors = {}
    if not team_members.filter(pk=absent.pk).exists():
        errors["absent"] = _("Choose a caseworker of your team.")
    if not team_members.filter(pk=deputy.pk).exists():
        errors["deputy"] = _("Choose a caseworker of your team.")
    elif absent.pk == deputy.pk:
        errors["deputy"] = _("The deputy must be someone else than the absent caseworker.")
    if valid_until < valid_from:
        errors["valid_until"] = _("The end date must not be before the start.")
    if not reason.strip():
        errors["reason"] = _("Please give a reason.")
    if errors:
        raise ValidationError(errors)
    assignment = DeputyAssignment.objects.create(
        absent=absent,
        deputy=deputy,
        valid_from=valid_from,
        valid_until=valid_until,
        reason=reason,
        created_by=by,
    )
    log_action(
        user=by,
        action=AuditAction.CREATE,
        obj=assignment,
        changes={
            "absent": absent.pk,
            "deputy": deputy.pk,
            "valid_from": valid_from.isoformat(),
            "valid_until": valid_until.isoformat(),
        },
    )
    return assignment


@transaction.atomic
def revoke_deputy(*, assignment: DeputyAssignment, by) -> None:
    if by.role != Role.ASD_LEAD or assignment.absent.team_id != by.team_id:
        raise PermissionDenied
    if assignment.revoked_at is not None:
        return
    assignment.revoked_at = timezone.now()
    assignment.save(update_fields=["revoked_at"])
    log_action(
        user=by,
        action=AuditAction.CHANGE,
        obj=assignment,
        changes={"fields": ["revoked_at"]},
    )


def note_reader_candidates(note: CaseNote):
    """Who the author of an entrusted entry may name: ASD colleagues of the case's team
    who are not yet named (the journal is never shown to providers)."""

    return (
        User.objects.filter(is_active=True, role__in=[Role.ASD, Role.ASD_LEAD])
        .filter(team_id=note.case.team_id)
        .exclude(pk=note.author_id)
        .exclude(entrusted_note_grants__note=note)
        .order_by("last_name", "first_name")
    )


@transaction.atomic
def grant_note_reader(*, note: CaseNote, user, reason: str, by) -> EntrustedNoteGrant:
    """§ 65 SGB VIII: only the author passes on what was entrusted to her."""
    if not note.entrusted or note.author_id != by.pk:
        raise PermissionDenied
    if not note_reader_candidates(note).filter(pk=user.pk).exists():
        raise ValidationError({"user": _("Choose a caseworker of the case's team.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Please give a reason.")})
    grant = EntrustedNoteGrant.objects.create(note=note, user=user, reason=reason, granted_by=by)
    log_action(
        user=by,
        action=AuditAction.CREATE,
        obj=grant,
        changes={"note": note.pk, "user": user.pk},
    )
    return grant


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


class ImportErrors(Exception):
    """Bad rows of an import, one message per line; nothing was saved."""

    def __init__(self, lines: list[str]):
        super().__init__(f"{len(lines)} errors")
        self.lines = lines


MAX_IMPORT_BYTES = 2 * 1024 * 1024


def _read_csv(file) -> list[dict]:
    raw = file.read(MAX_IMPORT_BYTES + 1)
    if len(raw) > MAX_IMPORT_BYTES:
        raise ImportErrors([_("The file is larger than 2 MB.")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportErrors([_("The file is not UTF-8 encoded text.")]) from None
    if "\x00" in text:
        raise ImportErrors([_("The file contains binary data; please upload a CSV file.")])
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=";")
    try:
        return _csv_rows(reader)
    except csv.Error as error:
        raise ImportErrors(
            [_("The file is not readable as CSV (%(problem)s).") % {"problem": error}]
        ) from error


def _csv_rows(reader) -> list[dict]:
    if not reader.fieldnames or "organisation" not in reader.fieldnames:
        raise ImportErrors(
            [
                _(
                    "The header line must name the columns, at least "
                    "'region', 'organisation' and 'kind'."
                )
            ]
        )
    return list(reader)


@transaction.atomic
def import_resources(*, file, by) -> int:
    """Import the resource map from CSV: all rows or none, errors reported per line."""
    from .forms import ResourceForm

    rows = _read_csv(file)
    kinds = {str(label).lower(): value for value, label in ResourceKind.choices}
    errors, forms, seen = [], [], set()
    for number, row in enumerate(rows, start=2):
        data = {key: (value or "").strip() for key, value in row.items() if key}
        data.setdefault("region", "")
        kind = data.get("kind", "")
        data["kind"] = kind if kind in ResourceKind.values else kinds.get(kind.lower(), kind)
        form = ResourceForm(data)
        # The file names the region by its short name; an unknown one is an invalid choice.
        form.fields["region"].to_field_name = "slug"
        key = (data["region"], data.get("organisation", "").lower())
        if key in seen:
            errors.append(
                _("Line %(n)s: the organisation appears twice in the file.") % {"n": number}
            )
        seen.add(key)
        if not form.is_valid():
            for field, messages in form.errors.items():
                for message in messages:
                    if field in form.fields:
                        line = _("Line %(n)s: %(field)s: %(message)s") % {
                            "n": number,
                            "field": form.fields[field].label,
                            "message": message,
                        }
                    else:  # e.g. the entry already exists: no single field is to blame
                        line = _("Line %(n)s: %(message)s") % {"n": number, "message": message}
                    errors.append(line)
        forms.append(form)
    if not rows:
        errors.append(_("The file has no data lines."))
    if errors:
        raise ImportErrors(errors)
    for form in forms:
        resource = form.save()
        log_action(user=by, action=AuditAction.CREATE, obj=resource, changes={"import": True})
    return len(forms)


@transaction.atomic
def rebuild_goal_outcomes() -> None:
    """Recompute HelpGoalOutcome from the goals and their ratings (PostgreSQL; the
    triggers of migration cases 0008 keep it afterwards). For bulk loads that disabled
    the rating trigger."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT cases_rebuild_goal_outcomes()")
