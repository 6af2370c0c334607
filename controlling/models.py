import hashlib
import json

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.models import Role

REPORT_ROLES = (Role.DEPARTMENT_HEAD, Role.CONTROLLER, Role.ASD, Role.ASD_LEAD)
REQUEST_ROLES = (Role.DEPARTMENT_HEAD, Role.CONTROLLER, Role.ASD_LEAD)
WORKSHOP_ROLES = (Role.DEPARTMENT_HEAD, Role.CONTROLLER, Role.PROVIDER_LEAD)


class ContractGoal(models.TextChoices):
    """The goals of the service contract that a controlling workshop reviews."""

    TAILORED = "tailored", _("needs-based, tailored, flexible help on site")
    PREVENTIVE = "preventive", _("more preventive, low-threshold help")
    AMBULANT = "ambulant", _("more ambulant help, less stationary")
    PARTICIPATION = "participation", _("participation of the people helped")
    NETWORKING = "networking", _("networking in the social space")
    BUDGET = "budget", _("joint budget steering")


class GoalStatus(models.TextChoices):
    ACHIEVED = "achieved", _("achieved")
    PARTLY = "partly", _("partly achieved")
    NOT_ACHIEVED = "not_achieved", _("not achieved")


class Workshop(models.Model):
    """A Controllingworkshop of office and providers for one region."""

    region = models.ForeignKey(
        "cases.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="workshops",
    )
    date = models.DateField(_("date"))
    title = models.CharField(_("title"), max_length=200)
    participants_office = models.TextField(_("participants of the office"))
    participants_providers = models.TextField(_("participants of the providers"))
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("controlling workshop")
        verbose_name_plural = _("controlling workshops")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["region", "date"])]

    def __str__(self):
        return f"{self.title} ({self.date:%d.%m.%Y})"

    def get_absolute_url(self):
        return reverse("controlling:workshop_detail", args=[self.pk])


class GoalReview(models.Model):
    workshop = models.ForeignKey(
        Workshop,
        verbose_name=_("workshop"),
        on_delete=models.CASCADE,
        related_name="goal_reviews",
    )
    goal = models.CharField(_("contract goal"), max_length=20, choices=ContractGoal)
    status = models.CharField(_("status"), max_length=15, choices=GoalStatus)
    evidence = models.TextField(_("KPI evidence"), blank=True)

    class Meta:
        verbose_name = _("goal review")
        verbose_name_plural = _("goal reviews")
        ordering = ["workshop", "goal"]
        constraints = [
            models.UniqueConstraint(fields=["workshop", "goal"], name="goal_reviewed_once")
        ]

    def __str__(self):
        return f"{self.get_goal_display()}: {self.get_status_display()}"


class Decision(models.Model):
    workshop = models.ForeignKey(
        Workshop, verbose_name=_("workshop"), on_delete=models.CASCADE, related_name="decisions"
    )
    text = models.TextField(_("decision"))

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["workshop", "id"]

    def __str__(self):
        return self.text[:60]


class ActionItemQuerySet(models.QuerySet):
    def open(self):
        return self.filter(done_on__isnull=True)


class ActionItem(models.Model):
    """A task agreed in a workshop; open ones carry over to the next workshop."""

    workshop = models.ForeignKey(
        Workshop,
        verbose_name=_("workshop"),
        on_delete=models.CASCADE,
        related_name="action_items",
    )
    text = models.TextField(_("action"))
    owner = models.CharField(_("responsible"), max_length=200)
    due_on = models.DateField(_("due on"))
    done_on = models.DateField(_("done on"), null=True, blank=True)

    objects = ActionItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["done_on", "due_on"])]

    def __str__(self):
        return self.text[:60]


class JobStatus(models.TextChoices):
    PENDING = "pending", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


def report_key(region_slug: str, period_key: str) -> str:
    """The identity of a report: the same parameters give the same archived report."""
    payload = json.dumps({"region": region_slug, "period": period_key}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


class ReportJob(models.Model):
    """A controlling report: the request, its processing state and the archived PDF."""

    key = models.CharField(_("parameters key"), max_length=32, unique=True)
    region = models.ForeignKey(
        "cases.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: all regions."),
    )
    period_key = models.CharField(_("period"), max_length=40)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    scheduled = models.BooleanField(_("from the schedule"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=JobStatus, default=JobStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    file = models.CharField(_("file"), max_length=300, blank=True)
    checksum = models.CharField(_("SHA-256"), max_length=64, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), null=True, blank=True)

    class Meta:
        verbose_name = _("controlling report")
        verbose_name_plural = _("controlling reports")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["status", "requested_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="done") | (~Q(file="") & ~Q(checksum="")),
                name="done_report_has_file",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="report_period_valid",
            ),
        ]

    def __str__(self):
        region = self.region.name if self.region_id else _("all regions")
        return f"{region} {self.period.label}"

    @property
    def period(self):
        from .kpis import parse_period

        return parse_period(self.period_key)

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)


class ReportSubscription(models.Model):
    """Who gets an e-mail when a report of a region is ready."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_subscriptions"
    )
    region = models.ForeignKey(
        "cases.Region", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("report subscription")
        verbose_name_plural = _("report subscriptions")
        constraints = [
            models.UniqueConstraint(fields=["user", "region"], name="subscribed_once"),
            # NULL (all regions) is distinct from NULL in a plain unique constraint.
            models.UniqueConstraint(
                fields=["user"], condition=Q(region__isnull=True), name="subscribed_to_all_once"
            ),
        ]

    def __str__(self):
        return f"{self.user} → {self.region or _('all regions')}"
