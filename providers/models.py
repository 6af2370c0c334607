import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.choices import label_of
from core.models import Role
from core.periods import month_end


class ProviderKind(models.TextChoices):
    CONSORTIUM = "consortium", _("Consortium member (Hilfeleisterteam)")
    STATIONARY = "stationary", _("Outside stationary provider")


def provider_label(name: str, short_name: str) -> str:
    """str() of a provider from its name and short name: the short name if it has one."""
    return short_name or name


class Provider(models.Model):
    """A free provider (freier Träger) delivering help."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    kind = models.CharField(
        _("kind"), max_length=20, choices=ProviderKind, default=ProviderKind.CONSORTIUM
    )

    class Meta:
        verbose_name = _("provider")
        verbose_name_plural = _("providers")
        ordering = ["name"]

    def __str__(self):
        return provider_label(self.name, self.short_name)


class Consortium(models.Model):
    """The Hilfeleisterteam: the providers working under one region's contract for a period."""

    region = models.ForeignKey(
        "cases.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="consortia",
    )
    name = models.CharField(_("name"), max_length=200)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    members = models.ManyToManyField(Provider, verbose_name=_("members"), related_name="consortia")

    class Meta:
        verbose_name = _("provider consortium")
        verbose_name_plural = _("provider consortia")
        ordering = ["region", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="consortium_period_valid",
            )
        ]

    def __str__(self):
        return self.name


class HourKind(models.TextChoices):
    CASE_SPECIFIC = "case_specific", _("case-specific")
    CROSS_CASE = "cross_case", _("cross-case")
    CASE_UNSPECIFIC = "case_unspecific", _("not tied to a case")


class Activity(models.TextChoices):
    DIRECT_WORK = "direct_work", _("work with the family")
    CASE_CONFERENCE = "case_conference", _("case conference, help-plan meeting")
    NETWORKING = "networking", _("networking in the social space")
    PREVENTION = "prevention", _("prevention")
    GROUP_OFFER = "group_offer", _("group offer")
    TEAM_MEETING = "team_meeting", _("team meeting")
    TRAINING = "training", _("training, supervision")
    OTHER = "other", _("other")


MIN_MINUTES = 5
MAX_MINUTES = 600
MAX_MINUTES_PER_DAY = 14 * 60


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


class HourEntryQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Staff see their own entries, provider leads their provider's; nobody else any."""
        if not user.is_authenticated:
            return self.none()
        if user.role == Role.PROVIDER_LEAD and user.provider_id:
            return self.filter(provider_id=user.provider_id)
        if user.role == Role.PROVIDER_STAFF:
            return self.filter(staff=user)
        return self.none()

    def in_month(self, month: datetime.date):
        return self.between(month_start(month), month_end(month))

    def between(self, start: datetime.date, end: datetime.date):
        return self.filter(date__gte=start, date__lte=end)


def time_span(start: datetime.time | None, end: datetime.time | None) -> str:
    """From–to as the hour pages show it ("08:30–10:00"), empty without times
    (formatted once per row here: the template's time filter costs more)."""
    if start is None or end is None:
        return ""
    return f"{start:%H:%M}–{end:%H:%M}"


class HourEntry(models.Model):
    """A Leistungsnachweis line: time a professional spent on help.

    Approved entries are never changed: a correction is a new entry that points
    to the one it corrects and carries the difference in minutes (may be negative),
    so sums stay right and the history stays readable.
    """

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("professional"),
        on_delete=models.PROTECT,
        related_name="hour_entries",
    )
    provider = models.ForeignKey(
        Provider,
        verbose_name=_("provider"),
        on_delete=models.PROTECT,
        related_name="hour_entries",
    )
    date = models.DateField(_("date"))
    start_time = models.TimeField(_("from"), null=True, blank=True)
    end_time = models.TimeField(_("until"), null=True, blank=True)
    minutes = models.IntegerField(_("minutes"))
    kind = models.CharField(_("kind"), max_length=16, choices=HourKind)
    activity = models.CharField(
        _("activity"), max_length=20, choices=Activity, default=Activity.DIRECT_WORK
    )
    help = models.ForeignKey(
        "cases.Help",
        verbose_name=_("help"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="hour_entries",
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    recurring = models.BooleanField(
        _("recurring weekly"),
        default=False,
        help_text=_("Offered for copying into the next week."),
    )
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("corrects entry"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
    )
    approval = models.ForeignKey(
        "MonthApproval",
        verbose_name=_("approved with"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
        editable=False,
    )
    split_group = models.UUIDField(_("group session"), null=True, blank=True, editable=False)
    idempotency_key = models.UUIDField(
        _("form key"), unique=True, default=uuid.uuid4, editable=False
    )
    created_at = models.DateTimeField(_("logged at"), auto_now_add=True)

    objects = HourEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("hour entry")
        verbose_name_plural = _("hour entries")
        ordering = ["date", "start_time", "id"]
        indexes = [
            models.Index(fields=["staff", "date"]),
            models.Index(fields=["provider", "date"]),
            models.Index(fields=["help", "date"]),
            models.Index(fields=["date", "kind"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(corrects__isnull=True)
                    & Q(minutes__gte=MIN_MINUTES)
                    & Q(minutes__lte=MAX_MINUTES)
                )
                | (
                    Q(corrects__isnull=False)
                    & Q(minutes__gte=-MAX_MINUTES)
                    & Q(minutes__lte=MAX_MINUTES)
                    & ~Q(minutes=0)
                ),
                name="hour_entry_minutes_in_range",
            ),
            models.CheckConstraint(
                condition=(Q(kind="case_specific") & Q(help__isnull=False))
                | (~Q(kind="case_specific") & Q(help__isnull=True)),
                name="hour_entry_help_iff_case_specific",
            ),
            models.CheckConstraint(
                condition=(Q(start_time__isnull=True) & Q(end_time__isnull=True))
                | (Q(start_time__isnull=False) & Q(end_time__gt=F("start_time"))),
                name="hour_entry_times_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.date:%d.%m.%Y} {self.minutes} min {self.get_kind_display()}"

    # Shown once per row of the hour sheet (core.choices).
    def get_kind_display(self) -> str:
        return label_of(HourKind, self.kind)

    def get_activity_display(self) -> str:
        return label_of(Activity, self.activity)

    @property
    def time_span(self) -> str:
        return time_span(self.start_time, self.end_time)

    @property
    def is_locked(self) -> bool:
        return self.approval_id is not None

    @property
    def is_correction(self) -> bool:
        return self.corrects_id is not None


class HourRollup(models.Model):
    """Minutes per provider, help, kind and day, kept by a PostgreSQL trigger on the hour
    entries (migration 0004): every write path, corrections, deletions and COPY included,
    in the same transaction as the entry. Case-specific minutes are summed per month (day
    is the first of the month); other minutes per day, because the region they count for
    depends on the day (consortium membership). The KPIs read this instead of millions of
    entries; `rebuild_hour_rollups()` recomputes it from the entries."""

    provider = models.ForeignKey(
        Provider, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    help = models.ForeignKey(
        "cases.Help",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    kind = models.CharField(max_length=16, choices=HourKind)
    day = models.DateField()
    minutes = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("hour rollup")
        indexes = [
            models.Index(fields=["day", "help"]),
            models.Index(fields=["help", "day"]),
        ]

    def __str__(self):
        return f"{self.day:%m/%Y} {self.kind} {self.minutes} min"


class ApprovalState(models.TextChoices):
    APPROVED = "approved", _("approved")
    RETURNED = "returned", _("returned for correction")


class MonthApproval(models.Model):
    """The provider team lead's decision on one professional's month of hours.

    Approving locks the entries present at that moment (HourEntry.approval); entries
    and corrections logged later stay open until the month is approved again.
    """

    provider = models.ForeignKey(Provider, verbose_name=_("provider"), on_delete=models.PROTECT)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("professional"),
        on_delete=models.PROTECT,
        related_name="month_approvals",
    )
    month = models.DateField(_("month"))
    state = models.CharField(_("state"), max_length=10, choices=ApprovalState)
    comment = models.TextField(_("comment"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), auto_now=True)

    class Meta:
        verbose_name = _("month approval")
        verbose_name_plural = _("month approvals")
        ordering = ["-month", "staff"]
        constraints = [
            models.UniqueConstraint(fields=["staff", "month"], name="one_approval_per_staff_month"),
        ]

    def __str__(self):
        return f"{self.staff} {self.month:%m/%Y}: {self.get_state_display()}"

    @property
    def is_approved(self) -> bool:
        return self.state == ApprovalState.APPROVED


class GroupOfferQuerySet(models.QuerySet):
    def visible_to(self, user):
        if user.is_authenticated and user.role in (Role.PROVIDER_STAFF, Role.PROVIDER_LEAD):
            return self.filter(provider_id=user.provider_id)
        return self.none()


class GroupOffer(models.Model):
    """A preventive group offer open to the region (präventives Gruppenangebot)."""

    provider = models.ForeignKey(
        Provider,
        verbose_name=_("provider"),
        on_delete=models.PROTECT,
        related_name="group_offers",
    )
    region = models.ForeignKey(
        "cases.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="group_offers",
    )
    topic = models.CharField(_("topic"), max_length=200)
    target_group = models.CharField(_("target group"), max_length=200)
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("professionals"),
        related_name="group_offers",
        blank=True,
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)

    objects = GroupOfferQuerySet.as_manager()

    class Meta:
        verbose_name = _("group offer")
        verbose_name_plural = _("group offers")
        ordering = ["-starts_on", "topic"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="group_offer_period_valid",
            )
        ]

    def __str__(self):
        return self.topic


class GroupSession(models.Model):
    offer = models.ForeignKey(
        GroupOffer,
        verbose_name=_("group offer"),
        on_delete=models.CASCADE,
        related_name="sessions",
    )
    date = models.DateField(_("date"))
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"))
    anonymous_participants = models.PositiveIntegerField(
        _("participants (anonymous count)"), default=0
    )
    registered_participants = models.ManyToManyField(
        "cases.Person",
        verbose_name=_("registered participants"),
        blank=True,
        related_name="group_sessions",
    )

    class Meta:
        verbose_name = _("group session")
        verbose_name_plural = _("group sessions")
        ordering = ["-date"]
        indexes = [models.Index(fields=["date"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=MIN_MINUTES)
                & Q(duration_minutes__lte=MAX_MINUTES),
                name="group_session_duration_range",
            )
        ]

    def __str__(self):
        return f"{self.offer} {self.date:%d.%m.%Y}"
