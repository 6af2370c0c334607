import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.models import Role


class SubBudgetKind(models.TextChoices):
    FLEXIBLE = "flexible", _("flexible sub-budget")
    STATIONARY = "stationary", _("stationary sub-budget")


class PlanCategory(models.TextChoices):
    PERSONNEL = "personnel", _("personnel")
    RENT = "rent", _("rent")
    OVERHEAD = "overhead", _("overhead")
    PLACEMENTS = "placements", _("stationary placements")
    OTHER = "other", _("other")


BUDGET_ROLES = (Role.DEPARTMENT_HEAD, Role.CONTROLLER)


class ServiceContractQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Office roles see every contract; a provider lead the contracts of her provider."""
        if not user.is_authenticated:
            return self.none()
        if user.role in BUDGET_ROLES:
            return self
        if user.role == Role.PROVIDER_LEAD and user.provider_id:
            return self.filter(providers=user.provider_id)
        return self.none()


class ServiceContract(models.Model):
    """The Leistungsvertrag of one region and year."""

    region = models.ForeignKey(
        "cases.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    title = models.CharField(_("title"), max_length=200)
    providers = models.ManyToManyField(
        "providers.Provider", verbose_name=_("providers"), related_name="contracts"
    )

    objects = ServiceContractQuerySet.as_manager()

    class Meta:
        verbose_name = _("service contract")
        verbose_name_plural = _("service contracts")
        ordering = ["-year", "region__name"]
        constraints = [
            models.UniqueConstraint(fields=["region", "year"], name="one_contract_per_region_year"),
            models.CheckConstraint(
                condition=Q(year__gte=2000) & Q(year__lte=2100), name="contract_year_range"
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("budgets:contract_detail", args=[self.pk])

    @property
    def first_day(self) -> datetime.date:
        return datetime.date(self.year, 1, 1)

    @property
    def last_day(self) -> datetime.date:
        return datetime.date(self.year, 12, 31)


class SubBudget(models.Model):
    contract = models.ForeignKey(
        ServiceContract,
        verbose_name=_("contract"),
        on_delete=models.CASCADE,
        related_name="sub_budgets",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=SubBudgetKind)

    class Meta:
        verbose_name = _("sub-budget")
        verbose_name_plural = _("sub-budgets")
        ordering = ["contract", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "kind"], name="one_sub_budget_per_kind")
        ]

    def __str__(self):
        return f"{self.contract}: {self.get_kind_display()}"


class PlanLine(models.Model):
    """A planned amount of a sub-budget (personnel, rent, …); the plan is their sum."""

    sub_budget = models.ForeignKey(
        SubBudget,
        verbose_name=_("sub-budget"),
        on_delete=models.CASCADE,
        related_name="plan_lines",
    )
    category = models.CharField(_("category"), max_length=12, choices=PlanCategory)
    amount = models.DecimalField(_("planned amount (€)"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("plan line")
        verbose_name_plural = _("plan lines")
        ordering = ["sub_budget", "category"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="plan_line_not_negative")
        ]

    def __str__(self):
        return f"{self.get_category_display()}: {self.amount}"


class PostingKind(models.TextChoices):
    COST = "cost", _("actual cost")
    CORRECTION = "correction", _("correction")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError(f"{self.model._meta.label} is append-only")

    def delete(self):
        raise PermissionError(f"{self.model._meta.label} is append-only")


class AppendOnly(models.Model):
    """Ledger rows are written once; a mistake is corrected by a new row.

    Only the fields in `decision_fields` (a decision recorded later) may be saved again.
    """

    decision_fields: frozenset[str] = frozenset()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            fields = kwargs.get("update_fields")
            if not fields or not set(fields) <= self.decision_fields:
                raise PermissionError(f"{self._meta.label} is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(f"{self._meta.label} is append-only")


class Posting(AppendOnly):
    """A booking of actual costs on the flexible sub-budget (append-only ledger)."""

    sub_budget = models.ForeignKey(
        SubBudget,
        verbose_name=_("sub-budget"),
        on_delete=models.PROTECT,
        related_name="postings",
    )
    booked_on = models.DateField(_("booked for"))
    amount = models.DecimalField(_("amount (€)"), max_digits=12, decimal_places=2)
    kind = models.CharField(_("kind"), max_length=12, choices=PostingKind, default=PostingKind.COST)
    category = models.CharField(_("category"), max_length=12, choices=PlanCategory)
    text = models.CharField(_("text"), max_length=200)
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("corrects"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
    )
    override_reason = models.CharField(
        _("reason for exceeding the budget"), max_length=300, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("booked by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("booked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        ordering = ["booked_on", "id"]
        indexes = [models.Index(fields=["sub_budget", "booked_on"])]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="posting_not_zero"),
            models.CheckConstraint(
                condition=Q(kind="correction") | Q(amount__gt=0),
                name="posting_negative_only_as_correction",
            ),
        ]

    def __str__(self):
        return f"{self.booked_on:%d.%m.%Y} {self.amount} € {self.text}"


class ClosedMonth(models.Model):
    """A month of a contract closed for bookings: it takes only corrections."""

    contract = models.ForeignKey(
        ServiceContract,
        verbose_name=_("contract"),
        on_delete=models.CASCADE,
        related_name="closed_months",
    )
    month = models.DateField(_("month"))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("closed month")
        verbose_name_plural = _("closed months")
        ordering = ["contract", "month"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "month"], name="month_closed_once")
        ]

    def __str__(self):
        return f"{self.contract} {self.month:%m/%Y}"


class ReallocationStatus(models.TextChoices):
    PROPOSED = "proposed", _("proposed")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")


class Direction(models.TextChoices):
    TO_FLEXIBLE = "to_flexible", _("stationary → flexible")
    TO_STATIONARY = "to_stationary", _("flexible → stationary")


class Reallocation(AppendOnly):
    """Umschichtung between the sub-budgets, proposed and approved by different people."""

    decision_fields = frozenset(
        {"status", "decided_by", "decided_at", "decision_comment", "override_reason"}
    )

    contract = models.ForeignKey(
        ServiceContract,
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        related_name="reallocations",
    )
    direction = models.CharField(_("direction"), max_length=14, choices=Direction)
    amount = models.DecimalField(_("amount (€)"), max_digits=12, decimal_places=2)
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=10, choices=ReallocationStatus, default=ReallocationStatus.PROPOSED
    )
    counter_of = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="countered_by",
    )
    override_reason = models.CharField(_("reason for going below zero"), max_length=300, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
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

    class Meta:
        verbose_name = _("reallocation")
        verbose_name_plural = _("reallocations")
        ordering = ["-proposed_at", "-id"]
        indexes = [models.Index(fields=["contract", "status"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="reallocation_positive"),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("proposed_by")),
                name="reallocation_four_eyes",
            ),
        ]

    def __str__(self):
        return f"{self.get_direction_display()} {self.amount} €"

    @property
    def is_pending(self) -> bool:
        return self.status == ReallocationStatus.PROPOSED

    def signed_amount(self, kind: str):
        """What this reallocation adds to the plan of a sub-budget of `kind`."""
        to_kind = (
            SubBudgetKind.FLEXIBLE
            if self.direction == Direction.TO_FLEXIBLE
            else SubBudgetKind.STATIONARY
        )
        return self.amount if kind == to_kind else -self.amount
