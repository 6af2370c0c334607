"""Retention (Löschfristen): rules per record type, runs the data protection officer
approves, and the protocol of what a run anonymised or deleted (docs/RETENTION.md)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RecordType(models.TextChoices):
    # A closed case falls under exactly one of the four case types, the first that fits.
    CASE_OUT_OF_HOME = "case_out_of_home", _("case file with out-of-home care (§§ 33, 34, 35)")
    CASE_HELP = "case_help", _("case file with help with upbringing (§§ 27 ff.)")
    CASE_RISK = "case_risk", _("case file with a § 8a risk assessment, no help")
    CASE_NO_HELP = "case_no_help", _("case file without help")
    HOUR_ENTRY = "hour_entry", _("hour entries (proof of service)")
    GROUP_ATTENDANCE = "group_attendance", _("registered group-offer participants")
    DRAFT = "draft", _("drafts of unsaved forms")


CASE_RECORD_TYPES = (
    RecordType.CASE_OUT_OF_HOME,
    RecordType.CASE_HELP,
    RecordType.CASE_RISK,
    RecordType.CASE_NO_HELP,
)


class StartEvent(models.TextChoices):
    CASE_CLOSED = "case_closed", _("case closed")
    HELP_ENDED = "help_ended", _("last help ended")
    ENTRY_DATE = "entry_date", _("date of the entry")


class RetentionAction(models.TextChoices):
    ANONYMISE = "anonymise", _("anonymise")
    DELETE = "delete", _("delete")


class RetentionRule(models.Model):
    """How long one type of record is kept, counted from `start_event`."""

    record_type = models.CharField(_("record type"), max_length=20, choices=RecordType, unique=True)
    start_event = models.CharField(_("period starts with"), max_length=12, choices=StartEvent)
    restrict_after_months = models.PositiveIntegerField(
        _("restrict after (months)"),
        null=True,
        blank=True,
        help_text=_("Restriction (§ 84 SGB X): hidden, readable only with a logged reason."),
    )
    remove_after_months = models.PositiveIntegerField(_("anonymise or delete after (months)"))
    action = models.CharField(_("action"), max_length=10, choices=RetentionAction)
    legal_reasoning = models.TextField(_("legal reasoning"))
    confirmed_by_office = models.BooleanField(
        _("confirmed by the office"),
        default=False,
        help_text=_("The defaults are proposals until the office confirms them."),
    )
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last changed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention rules")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(restrict_after_months__isnull=True)
                | Q(restrict_after_months__lte=F("remove_after_months")),
                name="retention_restrict_before_removal",
            ),
            models.CheckConstraint(
                condition=Q(remove_after_months__gte=1), name="retention_removal_after_a_month"
            ),
        ]

    def __str__(self):
        return self.get_record_type_display()

    @property
    def is_case_rule(self) -> bool:
        return self.record_type in CASE_RECORD_TYPES


class RunStatus(models.TextChoices):
    PROPOSED = "proposed", _("proposed")
    APPROVED = "approved", _("approved, waiting to run")
    RUNNING = "running", _("running")
    EXECUTED = "executed", _("executed")
    REJECTED = "rejected", _("rejected")
    FAILED = "failed", _("failed")


class RetentionRunQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status__in=[RunStatus.PROPOSED, RunStatus.APPROVED, RunStatus.RUNNING])


class RetentionRun(models.Model):
    """One pass over what is due: proposed (nothing changed yet), then approved by the
    data protection officer and executed, or rejected.

    `due` is the snapshot taken when the run was proposed: per rule the ids to restrict
    and to remove, and the number held back by a legal hold. Execution touches exactly
    these ids (and only those still due then), never a fresh computation.
    """

    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus, default=RunStatus.PROPOSED
    )
    proposed_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    due_on = models.DateField(_("due as of"))
    due = models.JSONField(_("due records"), default=dict)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_comment = models.TextField(_("comment"), blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    executed_at = models.DateTimeField(_("executed at"), null=True, blank=True)
    progress_done = models.PositiveIntegerField(_("records done"), default=0)
    progress_total = models.PositiveIntegerField(_("records in total"), default=0)
    error = models.TextField(_("error"), blank=True)

    objects = RetentionRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")
        ordering = ["-proposed_at", "-id"]
        indexes = [models.Index(fields=["status", "proposed_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="proposed") | Q(decided_by__isnull=False),
                name="retention_run_decided_by_someone",
            ),
        ]

    def __str__(self):
        return _("Retention run of %(date)s") % {"date": f"{self.due_on:%d.%m.%Y}"}

    @property
    def is_proposed(self) -> bool:
        return self.status == RunStatus.PROPOSED

    @property
    def is_in_progress(self) -> bool:
        return self.status in (RunStatus.APPROVED, RunStatus.RUNNING)


class ProtocolAction(models.TextChoices):
    RESTRICTED = "restricted", _("restricted")
    ANONYMISED = "anonymised", _("anonymised")
    DELETED = "deleted", _("deleted")
    SKIPPED = "skipped", _("skipped (no longer due)")


class DeletionProtocol(models.Model):
    """What a run did to one record. Holds no personal data: a hash of the file number
    or an internal id is the only reference (see privacy.services.pseudonym)."""

    run = models.ForeignKey(
        RetentionRun, verbose_name=_("run"), on_delete=models.PROTECT, related_name="protocol"
    )
    rule = models.ForeignKey(
        RetentionRule, verbose_name=_("rule"), on_delete=models.PROTECT, related_name="+"
    )
    record_type = models.CharField(_("record type"), max_length=20, choices=RecordType)
    reference = models.CharField(_("pseudonymous reference"), max_length=80)
    object_count = models.PositiveIntegerField(_("records"))
    action = models.CharField(_("action taken"), max_length=10, choices=ProtocolAction)
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("deletion protocol entry")
        verbose_name_plural = _("deletion protocol")
        ordering = ["run", "id"]
        indexes = [models.Index(fields=["run", "record_type"])]
        constraints = [
            # Idempotence: a record is handled once per run and action.
            models.UniqueConstraint(
                fields=["run", "record_type", "reference", "action"],
                name="protocol_once_per_record_and_action",
            ),
        ]

    def __str__(self):
        return f"{self.run_id} {self.record_type} {self.reference} {self.action}"


class RestrictedCaseAccess(models.Model):
    """Someone reads a restricted case (§ 84 SGB X) for a stated reason, for a short time."""

    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        related_name="restricted_accesses",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.TextField(_("reason"))
    granted_at = models.DateTimeField(_("opened at"), default=timezone.now)
    expires_at = models.DateTimeField(_("readable until"))

    class Meta:
        verbose_name = _("access to a restricted case")
        verbose_name_plural = _("accesses to restricted cases")
        ordering = ["-granted_at", "-id"]
        indexes = [models.Index(fields=["user", "case", "expires_at"])]

    def __str__(self):
        return f"{self.case_id} {self.user_id} {self.granted_at:%d.%m.%Y %H:%M}"
