"""Hour logging and approval: each workflow checks, writes atomically and audits."""

import datetime
import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Help
from core.audit import log_action
from core.models import AuditAction, Role, User

from .models import (
    MAX_MINUTES,
    MAX_MINUTES_PER_DAY,
    MIN_MINUTES,
    ApprovalState,
    HourEntry,
    HourKind,
    MonthApproval,
    month_start,
)


def _minutes_between(start: datetime.time, end: datetime.time) -> int:
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)


def _check_entry(entry: HourEntry, *, today: datetime.date) -> None:
    """Every rule an hour entry must satisfy, with messages next to the fields."""
    errors: dict[str, list[str]] = {}

    def error(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if entry.date > today:
        error("date", _("Hours cannot be logged for a day in the future."))
    if entry.start_time and entry.end_time:
        if entry.end_time <= entry.start_time:
            error("end_time", _("The end must be after the start."))
        elif _minutes_between(entry.start_time, entry.end_time) < entry.minutes:
            error("minutes", _("The duration is longer than the time from start to end."))
    elif entry.start_time or entry.end_time:
        error("end_time", _("Give both start and end time, or neither."))
    if not entry.is_correction and not MIN_MINUTES <= entry.minutes <= MAX_MINUTES:
        error(
            "minutes",
            _("The duration must be between %(min)s and %(max)s minutes.")
            % {"min": MIN_MINUTES, "max": MAX_MINUTES},
        )
    if entry.kind == HourKind.CASE_SPECIFIC:
        if entry.help_id is None:
            error("help", _("A case-specific entry needs the help it was delivered for."))
        elif entry.help.provider_id != entry.provider_id:
            error("help", _("This help is delivered by another provider."))
        elif not entry.help.is_active_on(entry.date):
            error("help", _("This help was not active on that day."))
    elif entry.help_id is not None:
        error("help", _("Only case-specific entries name a help."))
    if errors:
        raise ValidationError(errors)
    _check_day(entry)


def _check_day(entry: HourEntry) -> None:
    same_day = HourEntry.objects.filter(staff_id=entry.staff_id, date=entry.date).exclude(
        pk=entry.pk
    )
    logged = same_day.aggregate(total=Sum("minutes"))["total"] or 0
    if logged + entry.minutes > MAX_MINUTES_PER_DAY:
        raise ValidationError(
            {
                "minutes": _(
                    "No more than 14 hours a day: %(logged)s minutes are already logged "
                    "on this day."
                )
                % {"logged": logged}
            }
        )
    if entry.start_time and entry.end_time:
        overlapping = same_day.filter(
            start_time__lt=entry.end_time, end_time__gt=entry.start_time, corrects__isnull=True
        )
        if overlapping.exists():
            raise ValidationError(
                {"start_time": _("You have already logged another entry at this time.")}
            )


def _lock_person(staff: User) -> None:
    # Serialises one person's hour writes, so the 14-hour rule and the overlap
    # check cannot be raced by two tabs or a double click.
    if settings.KIJUFAZ_ROW_LOCKS:
        User.objects.select_for_update().filter(pk=staff.pk).first()


def _ensure_staff(staff: User) -> None:
    if staff.role not in (Role.PROVIDER_STAFF, Role.PROVIDER_LEAD) or not staff.provider_id:
        raise PermissionDenied


@transaction.atomic
def log_hours(
    *,
    staff: User,
    idempotency_key: uuid.UUID,
    date: datetime.date,
    minutes: int,
    kind: str,
    activity: str,
    help: Help | None = None,
    start_time: datetime.time | None = None,
    end_time: datetime.time | None = None,
    note: str = "",
    recurring: bool = False,
    split_group: uuid.UUID | None = None,
    today: datetime.date | None = None,
) -> tuple[HourEntry, bool]:
    """Log one entry; a repeated submit of the same form returns the first entry."""
    _ensure_staff(staff)
    _lock_person(staff)
    existing = HourEntry.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.staff_id != staff.pk:
            raise PermissionDenied
        return existing, False
    entry = HourEntry(
        staff=staff,
        provider_id=staff.provider_id,
        idempotency_key=idempotency_key,
        date=date,
        minutes=minutes,
        kind=kind,
        activity=activity,
        help=help,
        start_time=start_time,
        end_time=end_time,
        note=note,
        recurring=recurring,
        split_group=split_group,
    )
    _check_entry(entry, today=today or timezone.localdate())
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError as exc:
        existing = HourEntry.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing, False
        raise ValidationError(
            {"start_time": _("You have already logged another entry at this time.")}
        ) from exc
    log_action(user=staff, action=AuditAction.CREATE, obj=entry)
    return entry, True


@transaction.atomic
def update_entry(*, entry: HourEntry, by: User, fields: dict, today=None) -> HourEntry:
    if entry.staff_id != by.pk:
        raise PermissionDenied
    _lock_person(by)
    entry = HourEntry.objects.select_related("help").get(pk=entry.pk)
    if entry.is_locked:
        raise ValidationError(_("Approved entries cannot be changed; log a correction instead."))
    if entry.is_correction:
        raise ValidationError(_("A correction is not changed; record another correction."))
    for name, value in fields.items():
        setattr(entry, name, value)
    _check_entry(entry, today=today or timezone.localdate())
    entry.save()
    log_action(user=by, action=AuditAction.CHANGE, obj=entry, changes={"fields": sorted(fields)})
    return entry


@transaction.atomic
def delete_entry(*, entry: HourEntry, by: User) -> None:
    if entry.staff_id != by.pk:
        raise PermissionDenied
    entry = HourEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.is_locked:
        raise ValidationError(_("Approved entries cannot be deleted; log a correction instead."))
    if entry.corrections.exists():
        raise ValidationError(_("This entry has corrections and stays in the record."))
    log_action(user=by, action=AuditAction.DELETE, obj=entry)
    entry.delete()


@transaction.atomic
def correct_entry(
    *, original: HourEntry, corrected_minutes: int, reason: str, by: User
) -> HourEntry:
    """Record the difference to an approved entry as a new, linked entry."""
    if original.staff_id != by.pk and not (
        by.role == Role.PROVIDER_LEAD and by.provider_id == original.provider_id
    ):
        raise PermissionDenied
    if not original.is_locked:
        raise ValidationError(_("Entries that are not approved yet are simply edited."))
    if not reason.strip():
        raise ValidationError({"reason": _("Please give a reason for the correction.")})
    _lock_person(original.staff)
    already = original.minutes + (
        original.corrections.aggregate(total=Sum("minutes"))["total"] or 0
    )
    delta = corrected_minutes - already
    if delta == 0:
        raise ValidationError({"corrected_minutes": _("This is the duration already recorded.")})
    if not 0 <= corrected_minutes <= MAX_MINUTES:
        raise ValidationError(
            {
                "corrected_minutes": _("The duration must be between 0 and %(max)s minutes.")
                % {"max": MAX_MINUTES}
            }
        )
    correction = HourEntry(
        staff=original.staff,
        provider_id=original.provider_id,
        date=original.date,
        minutes=delta,
        kind=original.kind,
        activity=original.activity,
        help_id=original.help_id,
        note=reason.strip()[:300],
        corrects=original,
    )
    if delta > 0:
        _check_day(correction)
    correction.save()
    log_action(
        user=by, action=AuditAction.CREATE, obj=correction, changes={"corrects": original.pk}
    )
    return correction


def _check_lead(provider_id: int, staff: User, by: User) -> None:
    if by.role != Role.PROVIDER_LEAD or by.provider_id != provider_id:
        raise PermissionDenied
    if staff.provider_id != provider_id:
        raise PermissionDenied
    if staff.pk == by.pk:
        raise ValidationError(_("Your own hours are approved by another team lead."))


@transaction.atomic
def approve_month(*, staff: User, month: datetime.date, by: User) -> MonthApproval:
    month = month_start(month)
    _check_lead(by.provider_id, staff, by)
    _lock_person(staff)
    if month > month_start(timezone.localdate()):
        raise ValidationError(_("A future month cannot be approved."))
    approval, __ = MonthApproval.objects.update_or_create(
        staff=staff,
        month=month,
        defaults={
            "provider_id": by.provider_id,
            "state": ApprovalState.APPROVED,
            "comment": "",
            "decided_by": by,
        },
    )
    locked = (
        HourEntry.objects.filter(staff=staff, approval__isnull=True)
        .in_month(month)
        .update(approval=approval)
    )
    log_action(
        user=by,
        action=AuditAction.CHANGE,
        obj=approval,
        changes={"state": approval.state, "entries_locked": locked},
    )
    return approval


@transaction.atomic
def return_month(*, staff: User, month: datetime.date, comment: str, by: User) -> MonthApproval:
    month = month_start(month)
    _check_lead(by.provider_id, staff, by)
    if not comment.strip():
        raise ValidationError({"comment": _("Please tell what needs correcting.")})
    open_entries = HourEntry.objects.filter(staff=staff, approval__isnull=True).in_month(month)
    if not open_entries.exists():
        raise ValidationError(_("There are no open entries to return in this month."))
    approval, __ = MonthApproval.objects.update_or_create(
        staff=staff,
        month=month,
        defaults={
            "provider_id": by.provider_id,
            "state": ApprovalState.RETURNED,
            "comment": comment.strip(),
            "decided_by": by,
        },
    )
    log_action(user=by, action=AuditAction.CHANGE, obj=approval, changes={"state": approval.state})
    return approval


def split_minutes(total: int, parts: int) -> list[int]:
    """Split a group session's minutes as evenly as possible (the first get the rest)."""
    base, rest = divmod(total, parts)
    return [base + (1 if i < rest else 0) for i in range(parts)]


@transaction.atomic
def log_group_session(
    *,
    staff: User,
    idempotency_key: uuid.UUID,
    date: datetime.date,
    minutes: int,
    helps: list[Help],
    note: str = "",
    today: datetime.date | None = None,
) -> list[HourEntry]:
    """One session with several families, logged once and split across their helps."""
    if len(helps) < 2:
        raise ValidationError({"helps": _("Choose at least two helps to split the session.")})
    shares = split_minutes(minutes, len(helps))
    if min(shares) < MIN_MINUTES:
        raise ValidationError(
            {"minutes": _("Each share must be at least %(min)s minutes.") % {"min": MIN_MINUTES}}
        )
    existing = list(HourEntry.objects.filter(split_group=idempotency_key))
    if existing:
        return existing
    entries = []
    for i, (help, share) in enumerate(zip(helps, shares, strict=True)):
        entry, __ = log_hours(
            staff=staff,
            idempotency_key=uuid.uuid5(idempotency_key, str(i)),
            date=date,
            minutes=share,
            kind=HourKind.CASE_SPECIFIC,
            activity="group_offer",
            help=help,
            note=note,
            split_group=idempotency_key,
            today=today,
        )
        entries.append(entry)
    return entries


@transaction.atomic
def copy_recurring_entries(
    *, staff: User, week_start: datetime.date, today=None
) -> tuple[int, list[str]]:
    """Copy last week's recurring entries into the week starting on `week_start`.

    Returns how many were copied and a message for each one that could not be.
    """
    today = today or timezone.localdate()
    previous = HourEntry.objects.filter(
        staff=staff,
        recurring=True,
        corrects__isnull=True,
        date__gte=week_start - datetime.timedelta(days=7),
        date__lt=week_start,
    ).select_related("help")
    copied, skipped = 0, []
    for old in previous:
        new_date = old.date + datetime.timedelta(days=7)
        key = uuid.uuid5(old.idempotency_key, f"copy-{new_date.isoformat()}")
        try:
            with transaction.atomic():
                __, created = log_hours(
                    staff=staff,
                    idempotency_key=key,
                    date=new_date,
                    minutes=old.minutes,
                    kind=old.kind,
                    activity=old.activity,
                    help=old.help,
                    start_time=old.start_time,
                    end_time=old.end_time,
                    note=old.note,
                    recurring=True,
                    today=today,
                )
        except ValidationError as error:
            skipped.append(f"{new_date:%d.%m.%Y}: {' '.join(error.messages)}")
        else:
            copied += int(created)
    return copied, skipped


@transaction.atomic
def rebuild_hour_rollups() -> None:
    """Recompute the hour rollups from the entries (PostgreSQL; the trigger of migration
    providers 0004 keeps them afterwards). For bulk loads that disabled the triggers."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("LOCK TABLE providers_hourentry IN SHARE MODE")
        cursor.execute("DELETE FROM providers_hourrollup")
        cursor.execute(
            """INSERT INTO providers_hourrollup (provider_id, help_id, kind, day, minutes)
               SELECT provider_id, help_id, kind,
                      CASE WHEN help_id IS NULL THEN date
                           ELSE date_trunc('month', date)::date END,
                      SUM(minutes)
               FROM providers_hourentry GROUP BY 1, 2, 3, 4"""
        )
        # Every month counts as changed: cached hour figures (core.figures) are recomputed.
        cursor.execute(
            """INSERT INTO core_hourschange (month, weight)
               SELECT DISTINCT date_trunc('month', day)::date, 1 FROM providers_hourrollup"""
        )
