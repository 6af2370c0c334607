import datetime

from django.conf import settings
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.choices import label_of
from core.models import Role

# --- Choices -----------------------------------------------------------------


class LegalBasis(models.TextChoices):
    FLEXIBLE = "27_2", _("§ 27 (2) flexible help")
    COUNSELLING = "28", _("§ 28 child guidance counselling")
    GROUP_WORK = "29", _("§ 29 social group work")
    EDUCATIONAL_ASSISTANT = "30", _("§ 30 educational assistant")
    FAMILY_SUPPORT = "31", _("§ 31 socio-educational family support (SPFH)")
    DAY_GROUP = "32", _("§ 32 day group")
    FOSTER_CARE = "33", _("§ 33 full-time foster care")
    RESIDENTIAL = "34", _("§ 34 residential care, assisted living")
    INTENSIVE = "35", _("§ 35 intensive individual support")
    INTEGRATION = "35a", _("§ 35a integration help")
    YOUNG_ADULTS = "41", _("§ 41 help for young adults")


class Setting(models.TextChoices):
    FLEXIBLE = "flexible", _("flexible (ambulant)")
    AMBULANT = "ambulant", _("ambulant")
    DAY_CARE = "day_care", _("day care (partly stationary)")
    STATIONARY = "stationary", _("stationary")


# The setting that the law fixes for a legal basis; the others allow a choice.
FIXED_SETTING = {
    LegalBasis.FLEXIBLE: Setting.FLEXIBLE,
    LegalBasis.COUNSELLING: Setting.AMBULANT,
    LegalBasis.GROUP_WORK: Setting.AMBULANT,
    LegalBasis.EDUCATIONAL_ASSISTANT: Setting.AMBULANT,
    LegalBasis.FAMILY_SUPPORT: Setting.AMBULANT,
    LegalBasis.DAY_GROUP: Setting.DAY_CARE,
    LegalBasis.FOSTER_CARE: Setting.STATIONARY,
    LegalBasis.RESIDENTIAL: Setting.STATIONARY,
}
ALLOWED_SETTINGS = {
    LegalBasis.INTENSIVE: (Setting.AMBULANT, Setting.STATIONARY),
}
AMBULANT_SETTINGS = (Setting.FLEXIBLE, Setting.AMBULANT)


def allowed_settings(legal_basis: str) -> tuple[str, ...]:
    if legal_basis in FIXED_SETTING:
        return (FIXED_SETTING[legal_basis],)
    return ALLOWED_SETTINGS.get(legal_basis, tuple(Setting.values))


class PersonRole(models.TextChoices):
    CHILD = "child", _("child")
    YOUTH = "youth", _("young person")
    PARENT = "parent", _("parent")
    YOUNG_ADULT = "young_adult", _("young adult")
    OTHER = "other", _("other household member")


class Gender(models.TextChoices):
    FEMALE = "f", _("female")
    MALE = "m", _("male")
    DIVERSE = "d", _("diverse")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed")


class CaseClosingReason(models.TextChoices):
    NO_NEED = "no_need", _("no further need for help")
    MOVED = "moved", _("family moved away")
    TRANSFERRED = "transferred", _("transferred to another office")
    OTHER = "other", _("other reason")


class ApprovalStatus(models.TextChoices):
    REQUESTED = "requested", _("awaiting approval")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")


class HelpEndReason(models.TextChoices):
    AS_PLANNED = "as_planned", _("goals reached / ended as planned")
    BROKEN_OFF_FAMILY = "broken_off_family", _("broken off by the family")
    BROKEN_OFF_PROVIDER = "broken_off_provider", _("broken off by the provider")
    CHANGED = "changed", _("changed to another help")
    RETURN = "return", _("return into the region")


class ApprovalKind(models.TextChoices):
    GRANT = "grant", _("grant help")
    HOURS_CHANGE = "hours_change", _("change approved hours")


class GoalStatus(models.TextChoices):
    OPEN = "open", _("open")
    IN_PROGRESS = "in_progress", _("in progress")
    REACHED = "reached", _("reached")
    NOT_REACHED = "not_reached", _("not reached")


class NoteKind(models.TextChoices):
    NOTE = "note", _("note")
    PHONE = "phone", _("phone call")
    HOME_VISIT = "home_visit", _("home visit")
    MEETING = "meeting", _("meeting")


class RiskLevel(models.TextChoices):
    NOT_ASSESSED = "not_assessed", _("not yet assessed")
    NONE = "none", _("no risk to the child's welfare")
    UNCLEAR = "unclear", _("risk unclear, need for help")
    LATENT = "latent", _("latent risk")
    ACUTE = "acute", _("acute risk")


class RiskAssessmentStatus(models.TextChoices):
    REPORTED = "reported", _("report received")
    ASSESSED = "assessed", _("first assessment done")
    PROTECTION_PLAN = "protection_plan", _("protection plan agreed")
    CLOSED = "closed", _("closed")


# --- Organisation --------------------------------------------------------------


class Region(models.Model):
    """A social space (Sozialraum) with its own contract and budget."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    slug = models.SlugField(_("short name"), unique=True)
    inhabitants = models.PositiveIntegerField(_("inhabitants"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Team(models.Model):
    """An ASD team: caseworkers and their team lead (users with role asd_lead)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="teams"
    )

    class Meta:
        verbose_name = _("ASD team")
        verbose_name_plural = _("ASD teams")
        ordering = ["name"]

    def __str__(self):
        return self.name


# --- Access vocabulary -------------------------------------------------------------


def _active_on_q(day: datetime.date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}start__lte": day}) & (
        Q(**{f"{prefix}end__isnull": True}) | Q(**{f"{prefix}end__gte": day})
    )


def _named_on(user, today: datetime.date, case_ref="pk") -> Exists:
    """`user` holds an active named access (§ 35 SGB I) to the case at `case_ref`."""
    return Exists(
        CaseAccessGrant.objects.active_on(today).filter(case=OuterRef(case_ref), user_id=user.pk)
    )


def in_use_q(prefix: str = "") -> Q:
    """Case.objects.in_use as a condition on the case at `prefix` (see asd_sees_case_q)."""
    return Q(**{f"{prefix}restricted_at__isnull": True, f"{prefix}anonymised_at__isnull": True})


def asd_sees_case_q(user, today: datetime.date, prefix: str = "") -> Q:
    """Case.objects.visible_to for the ASD roles, as a condition on the case at `prefix`
    ("" for a case, "case__" for a help, "help__case__" for a plan), so that a query
    on helps or plans joins the case instead of testing it against a subquery of
    visible cases (cheaper to build, and to plan for PostgreSQL)."""
    owner = Q(**{f"{prefix}owner": user})
    scope = owner if user.team_id is None else Q(**{f"{prefix}team_id": user.team_id})
    case_ref = prefix.removesuffix("__") or "pk"
    not_confidential_or_named = Q(**{f"{prefix}confidential": False}) | _named_on(
        user, today, case_ref
    )
    return in_use_q(prefix) & (owner | (scope & not_confidential_or_named))


class CaseQuerySet(models.QuerySet):
    def in_use(self):
        """Cases that are neither restricted (§ 84 SGB X) nor anonymised.

        Restricted cases are read only through the privacy app's reason-logged reading.
        """
        return self.filter(in_use_q())

    def visible_to(self, user, today: datetime.date | None = None):
        """The cases whose personal data `user` may read (DOMAIN.md access table).

        A confidential case (§ 35 SGB I) is seen only by its owner and the people named
        in an active CaseAccessGrant: not by the rest of the team, not by the team lead
        unless named, and at a provider only by the staff members named (the provider
        must still deliver a running help on the case).
        """
        if not user.is_authenticated:
            return self.none()
        today = today or timezone.localdate()
        if user.role in (Role.ASD, Role.ASD_LEAD):
            return self.filter(asd_sees_case_q(user, today))
        not_confidential_or_named = Q(confidential=False) | _named_on(user, today)
        if user.role in (Role.PROVIDER_STAFF, Role.PROVIDER_LEAD) and user.provider_id:
            serving = Help.objects.serving_provider(user.provider_id, today)
            return (
                self.in_use()
                .filter(Exists(serving.filter(case=OuterRef("pk"))))
                .filter(not_confidential_or_named)
            )
        return self.none()

    def writable_by(self, user, today: datetime.date | None = None):
        """Cases `user` may change: the owner's own, the team lead's team, a deputy's
        absent colleague's (during the assignment). Confidential cases besides one's own
        need an active named access on top."""
        if not user.is_authenticated or user.role not in (Role.ASD, Role.ASD_LEAD):
            return self.none()
        today = today or timezone.localdate()
        if user.team_id is None:
            return self.in_use().filter(owner=user)
        if user.role == Role.ASD_LEAD:
            others = Q(team_id=user.team_id)
        else:
            deputising = DeputyAssignment.objects.active_on(today).filter(
                deputy_id=user.pk, absent=OuterRef("owner")
            )
            others = Q(team_id=user.team_id) & Exists(deputising)
        return self.in_use().filter(
            Q(owner=user) | (others & (Q(confidential=False) | _named_on(user, today)))
        )

    def open(self):
        return self.filter(status=CaseStatus.OPEN)

    def review_overdue(self, today: datetime.date | None = None):
        today = today or timezone.localdate()
        return self.filter(
            Exists(
                HelpPlan.objects.filter(
                    help__case=OuterRef("pk"), is_current=True, next_review_due__lt=today
                ).filter(_active_on_q(today, "help__"), help__status=ApprovalStatus.APPROVED)
            )
        )

    def with_legal_basis(self, legal_basis: str, helps=None):
        """Cases with a help on `legal_basis`, among `helps` (what the user may see)."""
        helps = Help.objects.all() if helps is None else helps
        return self.filter(Exists(helps.filter(case=OuterRef("pk"), legal_basis=legal_basis)))

    def with_setting(self, setting: str, helps=None):
        helps = Help.objects.all() if helps is None else helps
        return self.filter(Exists(helps.filter(case=OuterRef("pk"), setting=setting)))

    def search(self, text: str):
        text = text.strip()
        if not text:
            return self
        # Matching families and people are looked up on their own (trigram indexes), so
        # that PostgreSQL does not join every family of the office to the visible cases.
        named = Family.objects.filter(name__icontains=text).values("pk")
        members = Person.objects.filter(
            Q(first_name__icontains=text) | Q(last_name__icontains=text)
        ).values("family_id")
        return self.filter(
            Q(family_id__in=named) | Q(reference__icontains=text) | Q(family_id__in=members)
        )


class FamilyQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(Exists(Case.objects.visible_to(user).filter(family=OuterRef("pk"))))

    def writable_by(self, user):
        return self.filter(
            Exists(Case.objects.writable_by(user).open().filter(family=OuterRef("pk")))
        )


class HelpQuerySet(models.QuerySet):
    def approved(self):
        return self.filter(status=ApprovalStatus.APPROVED)

    def active_on(self, day: datetime.date):
        return self.approved().filter(_active_on_q(day))

    def active_in(self, start: datetime.date, end: datetime.date):
        """Active at some point of [start, end] (DOMAIN.md: active help in period)."""
        return (
            self.approved().filter(start__lte=end).filter(Q(end__isnull=True) | Q(end__gte=start))
        )

    def serving_provider(self, provider_id: int, today: datetime.date | None = None):
        """Helps a provider currently delivers: what gives its staff access to a case."""
        return self.active_on(today or timezone.localdate()).filter(provider_id=provider_id)

    def visible_to(self, user):
        if user.is_authenticated and user.role in (Role.PROVIDER_STAFF, Role.PROVIDER_LEAD):
            today = timezone.localdate()
            return self.serving_provider(user.provider_id, today).hiding_confidential_from(
                user, today
            )
        return self.filter(case__in=Case.objects.visible_to(user))

    def on_case_seen_by(self, case, user):
        """The helps of `case` that `user` sees: on the ASD's side every help, at a
        provider its own running ones. For a case that cases.access.get_case_for read for
        `user`, whether she sees the case is not asked again (one subquery less to build
        and to plan); for any other case it is."""
        if getattr(case, "rights_of_user_id", None) != user.pk:
            return self.visible_to(user).filter(case=case)
        helps = self.filter(case=case)
        if user.role in (Role.ASD, Role.ASD_LEAD):
            return helps
        if user.role in (Role.PROVIDER_STAFF, Role.PROVIDER_LEAD) and user.provider_id:
            return helps.serving_provider(user.provider_id)
        return self.none()

    def hiding_confidential_from(self, user, today: datetime.date | None = None):
        """Leaves out helps on restricted or anonymised cases, and on confidential cases
        (§ 35 SGB I) whose owner is not `user` and that do not name her."""
        today = today or timezone.localdate()
        return self.filter(
            case__restricted_at__isnull=True, case__anonymised_at__isnull=True
        ).filter(
            Q(case__confidential=False) | Q(case__owner_id=user.pk) | _named_on(user, today, "case")
        )

    def ending_within(self, days: int, today: datetime.date | None = None):
        today = today or timezone.localdate()
        return self.active_on(today).filter(
            planned_end__gte=today, planned_end__lte=today + datetime.timedelta(days=days)
        )


# --- Families and cases -------------------------------------------------------------


class Family(models.Model):
    """A household in a region."""

    name = models.CharField(_("family name"), max_length=120)
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=5, blank=True)
    city = models.CharField(_("city"), max_length=100, default="Siegen")
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="families"
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = FamilyQuerySet.as_manager()

    class Meta:
        verbose_name = _("family")
        verbose_name_plural = _("families")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["name"]), models.Index(fields=["region", "name"])]

    def __str__(self):
        return _("Family %(name)s") % {"name": self.name}

    def get_absolute_url(self):
        return reverse("cases:family_detail", args=[self.pk])


class Person(models.Model):
    family = models.ForeignKey(
        Family, verbose_name=_("family"), on_delete=models.CASCADE, related_name="members"
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    birth_date = models.DateField(_("date of birth"))
    role = models.CharField(_("role in family"), max_length=20, choices=PersonRole)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender, blank=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering = ["birth_date", "id"]
        indexes = [
            models.Index(fields=["last_name", "first_name"]),
            models.Index(fields=["family", "birth_date"]),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"

    def age_on(self, day: datetime.date) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years

    @property
    def age(self) -> int:
        return self.age_on(timezone.localdate())


class Case(models.Model):
    """One family's case file at the ASD."""

    reference = models.CharField(_("file number"), max_length=20, unique=True)
    family = models.ForeignKey(
        Family, verbose_name=_("family"), on_delete=models.PROTECT, related_name="cases"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("case owner"),
        on_delete=models.PROTECT,
        related_name="owned_cases",
    )
    team = models.ForeignKey(
        Team, verbose_name=_("ASD team"), on_delete=models.PROTECT, related_name="cases"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=CaseStatus, default=CaseStatus.OPEN
    )
    opened_on = models.DateField(_("opened on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    closing_reason = models.CharField(
        _("closing reason"), max_length=20, choices=CaseClosingReason, blank=True
    )
    closing_note = models.TextField(_("closing note"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # § 35 SGB I: cases of staff members or their relatives are seen only by the
    # owner and the people named in CaseAccessGrant.
    confidential = models.BooleanField(
        _("restricted to named people (staff or relatives, § 35 SGB I)"), default=False
    )
    # Retention lifecycle (active → closed → restricted → anonymised; deletion removes
    # the row). A legal hold stops the lifecycle until it is lifted.
    restricted_at = models.DateTimeField(_("restricted (§ 84 SGB X) since"), null=True, blank=True)
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)
    legal_hold = models.BooleanField(_("legal hold"), default=False)
    legal_hold_reason = models.TextField(_("reason for the legal hold"), blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-opened_on", "-id"]
        indexes = [
            models.Index(fields=["team", "status"]),
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["opened_on"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["family"],
                condition=Q(status="open"),
                name="one_open_case_per_family",
                violation_error_message=_("This family already has an open case."),
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=F("opened_on")),
                name="case_closed_after_opened",
            ),
            models.CheckConstraint(
                condition=(Q(status="open") & Q(closed_on__isnull=True))
                | (Q(status="closed") & Q(closed_on__isnull=False)),
                name="case_closed_has_date",
            ),
        ]

    def __str__(self):
        return self.reference

    def get_absolute_url(self):
        return reverse("cases:case_detail", args=[self.pk])

    def get_status_display(self) -> str:  # once per row of the case list (core.choices)
        return label_of(CaseStatus, self.status)

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN

    @property
    def is_in_use(self) -> bool:
        return self.restricted_at is None and self.anonymised_at is None

    @property
    def lifecycle(self) -> str:
        if self.anonymised_at is not None:
            return CaseLifecycle.ANONYMISED
        if self.restricted_at is not None:
            return CaseLifecycle.RESTRICTED
        if self.status == CaseStatus.CLOSED:
            return CaseLifecycle.CLOSED
        return CaseLifecycle.ACTIVE


class CaseLifecycle(models.TextChoices):
    ACTIVE = "active", _("active")
    CLOSED = "closed", _("closed")
    RESTRICTED = "restricted", _("restricted (§ 84 SGB X)")
    ANONYMISED = "anonymised", _("anonymised")


class CaseAccessGrantQuerySet(models.QuerySet):
    def active_on(self, day: datetime.date):
        return self.filter(revoked_at__isnull=True, valid_from__lte=day).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=day)
        )


class CaseAccessGrant(models.Model):
    """A named person who may see a confidential case (§ 35 SGB I).

    A grant with `valid_until` is a time-limited deputy access; without it the
    person is named for as long as the grant exists. Grants are revoked by
    setting `revoked_at`, never deleted, so the audit trail stays readable.
    """

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="access_grants"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="case_access_grants",
    )
    reason = models.TextField(_("reason"))
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = CaseAccessGrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("named access")
        verbose_name_plural = _("named accesses")
        ordering = ["-granted_at", "-id"]
        indexes = [models.Index(fields=["user", "case"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="case_access_grant_ends_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.case} → {self.user}"

    def is_active_on(self, day: datetime.date) -> bool:
        return (
            self.revoked_at is None
            and self.valid_from <= day
            and (self.valid_until is None or self.valid_until >= day)
        )

    @property
    def is_active(self) -> bool:
        return self.is_active_on(timezone.localdate())


class DeputyAssignmentQuerySet(models.QuerySet):
    def active_on(self, day: datetime.date):
        return self.filter(revoked_at__isnull=True, valid_from__lte=day, valid_until__gte=day)


class DeputyAssignment(models.Model):
    """Explicit, time-limited deputy: `deputy` may act on `absent`'s cases."""

    absent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("absent caseworker"),
        on_delete=models.PROTECT,
        related_name="deputies",
    )
    deputy = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("deputy"),
        on_delete=models.PROTECT,
        related_name="deputy_for",
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    reason = models.TextField(_("reason"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("assigned at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = DeputyAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("deputy assignment")
        verbose_name_plural = _("deputy assignments")
        ordering = ["-valid_from", "-id"]
        indexes = [models.Index(fields=["deputy", "valid_until"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gte=F("valid_from")),
                name="deputy_assignment_ends_after_start",
            ),
            models.CheckConstraint(condition=~Q(absent=F("deputy")), name="deputy_is_someone_else"),
        ]

    def __str__(self):
        return f"{self.deputy} ↔ {self.absent}"

    def is_active_on(self, day: datetime.date) -> bool:
        return self.revoked_at is None and self.valid_from <= day <= self.valid_until

    @property
    def is_active(self) -> bool:
        return self.is_active_on(timezone.localdate())


class HelpPlanQuerySet(models.QuerySet):
    def current(self):
        return self.filter(is_current=True)


class ResourceKind(models.TextChoices):
    KINDERGARTEN = "kindergarten", _("kindergarten, day care centre")
    SCHOOL = "school", _("school")
    SCHOOL_SOCIAL_WORK = "school_social_work", _("school social work")
    YOUTH_CLUB = "youth_club", _("youth club")
    SPORTS_CLUB = "sports_club", _("sports club")
    CHURCH = "church", _("church community")
    COUNSELLING = "counselling", _("counselling service")
    INITIATIVE = "initiative", _("initiative, self-help")
    OTHER = "other", _("other")


class ResourceQuerySet(models.QuerySet):
    def with_active_help_count(self, day: datetime.date | None = None):
        """How many helps running on `day` involve each resource (a count, no names)."""
        day = day or timezone.localdate()
        return self.annotate(
            active_helps=models.Count(
                "helps",
                filter=Q(helps__status=ApprovalStatus.APPROVED, helps__start__lte=day)
                & (Q(helps__end__isnull=True) | Q(helps__end__gte=day)),
                distinct=True,
            )
        )


class Resource(models.Model):
    """An institution or initiative of the region's resource map (Ressourcenplan)."""

    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="resources"
    )
    organisation = models.CharField(_("organisation"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=ResourceKind)
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=5, blank=True)
    city = models.CharField(_("city"), max_length=100, default="Siegen")
    contact_person = models.CharField(_("contact person"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    offer = models.TextField(_("what they offer"), blank=True)
    opening_times = models.CharField(_("opening times"), max_length=300, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    objects = ResourceQuerySet.as_manager()

    class Meta:
        verbose_name = _("resource")
        verbose_name_plural = _("resource map")
        ordering = ["region", "organisation"]
        indexes = [models.Index(fields=["region", "kind"])]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "organisation"],
                name="resource_unique_per_region",
                violation_error_message=_("This organisation is already on the region's map."),
            )
        ]

    def __str__(self):
        return self.organisation


class TeamConsultation(models.Model):
    """Zusammenwirken mehrerer Fachkräfte (§ 36 Abs. 2 SGB VIII) before a longer help."""

    case = models.ForeignKey(
        "Case", verbose_name=_("case"), on_delete=models.PROTECT, related_name="consultations"
    )
    held_on = models.DateField(_("held on"))
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("participating professionals"),
        related_name="+",
    )
    options_considered = models.TextField(_("options considered"))
    decision = models.TextField(_("decision"))
    reasons = models.TextField(_("reasons"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("team consultation (§ 36 (2))")
        verbose_name_plural = _("team consultations (§ 36 (2))")
        ordering = ["-held_on", "-id"]

    def __str__(self):
        return _("Team consultation of %(date)s") % {"date": f"{self.held_on:%d.%m.%Y}"}


class Help(models.Model):
    """A granted measure of help with upbringing (§§ 27 ff SGB VIII)."""

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="helps"
    )
    recipient = models.ForeignKey(
        Person,
        verbose_name=_("young person"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="helps",
        help_text=_("The child or young person the help is for, if it is for one person."),
    )
    legal_basis = models.CharField(_("legal basis"), max_length=4, choices=LegalBasis)
    setting = models.CharField(_("setting"), max_length=12, choices=Setting)
    provider = models.ForeignKey(
        "providers.Provider",
        verbose_name=_("provider"),
        on_delete=models.PROTECT,
        related_name="helps",
    )
    resources = models.ManyToManyField(
        Resource, verbose_name=_("resources involved"), blank=True, related_name="helps"
    )
    team_consultation = models.ForeignKey(
        TeamConsultation,
        verbose_name=_("team consultation (§ 36 (2))"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="helps",
    )
    responsible_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible professional"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="responsible_helps",
    )
    start = models.DateField(_("start"))
    planned_end = models.DateField(_("planned end"), null=True, blank=True)
    end = models.DateField(_("end"), null=True, blank=True)
    end_reason = models.CharField(_("end reason"), max_length=20, choices=HelpEndReason, blank=True)
    planned_hours_per_month = models.DecimalField(
        _("approved hours per month"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    daily_rate = models.DecimalField(
        _("daily rate (€)"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    status = models.CharField(
        _("approval"), max_length=10, choices=ApprovalStatus, default=ApprovalStatus.REQUESTED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = HelpQuerySet.as_manager()

    class Meta:
        verbose_name = _("help")
        verbose_name_plural = _("helps")
        ordering = ["-start", "-id"]
        indexes = [
            models.Index(fields=["provider", "status", "start", "end"]),
            models.Index(fields=["case", "start"]),
            models.Index(fields=["legal_basis"]),
            models.Index(fields=["setting", "start"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=F("start")),
                name="help_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(planned_end__isnull=True) | Q(planned_end__gte=F("start")),
                name="help_planned_end_after_start",
            ),
            models.CheckConstraint(
                condition=(Q(end__isnull=True) & Q(end_reason=""))
                | (Q(end__isnull=False) & ~Q(end_reason="")),
                name="help_end_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(planned_hours_per_month__isnull=True)
                | Q(planned_hours_per_month__gte=0),
                name="help_hours_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(daily_rate__isnull=True) | Q(daily_rate__gt=0),
                name="help_daily_rate_positive",
            ),
        ]

    def __str__(self):
        return f"{self.get_legal_basis_display()} ({self.start:%d.%m.%Y})"

    # Shown once per row in the hour sheet, the desk and the case list (core.choices).
    def get_legal_basis_display(self) -> str:
        return label_of(LegalBasis, self.legal_basis)

    def get_setting_display(self) -> str:
        return label_of(Setting, self.setting)

    @property
    def is_stationary(self) -> bool:
        return self.setting == Setting.STATIONARY

    @property
    def is_ambulant(self) -> bool:
        return self.setting in AMBULANT_SETTINGS

    @property
    def is_approved(self) -> bool:
        return self.status == ApprovalStatus.APPROVED

    def is_active_on(self, day: datetime.date) -> bool:
        return self.is_approved and self.start <= day and (self.end is None or self.end >= day)

    @property
    def is_active(self) -> bool:
        return self.is_active_on(timezone.localdate())

    @property
    def is_ended(self) -> bool:
        return self.end is not None


class DailyRate(models.Model):
    """The daily rate (Tagessatz) of a stationary placement, in force from a day on.

    Rates change over time; stationary costs are billed day by day at the rate in
    force on each day, so the history is kept, never overwritten.
    """

    help = models.ForeignKey(
        Help, verbose_name=_("help"), on_delete=models.CASCADE, related_name="rates"
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    amount = models.DecimalField(_("daily rate (€)"), max_digits=8, decimal_places=2)

    class Meta:
        verbose_name = _("daily rate")
        verbose_name_plural = _("daily rates")
        ordering = ["help", "valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["help", "valid_from"], name="one_rate_per_day"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="daily_rate_amount_positive"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="daily_rate_period_valid",
            ),
        ]

    def __str__(self):
        return f"{self.amount} € ab {self.valid_from:%d.%m.%Y}"


class HelpApproval(models.Model):
    """A request for the team lead's approval (four-eyes) of a grant or an hours change."""

    help = models.ForeignKey(
        Help, verbose_name=_("help"), on_delete=models.CASCADE, related_name="approvals"
    )
    kind = models.CharField(_("kind"), max_length=15, choices=ApprovalKind)
    proposed_hours_per_month = models.DecimalField(
        _("proposed hours per month"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    reason = models.TextField(_("reason"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decision = models.CharField(
        _("decision"), max_length=10, choices=ApprovalStatus, default=ApprovalStatus.REQUESTED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["decision", "requested_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["help"],
                condition=Q(decision="requested"),
                name="one_pending_approval_per_help",
                violation_error_message=_("This help already waits for an approval."),
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="approval_four_eyes",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.help}"

    @property
    def is_pending(self) -> bool:
        return self.decision == ApprovalStatus.REQUESTED


class HelpPlan(models.Model):
    """One version of the help plan (§ 36 SGB VIII). Versions are never changed."""

    help = models.ForeignKey(
        Help, verbose_name=_("help"), on_delete=models.PROTECT, related_name="plans"
    )
    version = models.PositiveIntegerField(_("version"))
    is_current = models.BooleanField(_("current version"), default=True)
    meeting_date = models.DateField(_("date of the plan meeting"))
    participants = models.TextField(
        _("participants"), help_text=_("Who took part in the plan meeting.")
    )
    young_person_present = models.BooleanField(_("young person took part"), default=False)
    parents_present = models.BooleanField(_("parents took part"), default=False)
    agreed_steps = models.TextField(_("agreed steps"))
    resources = models.ManyToManyField(
        "Resource", verbose_name=_("resources involved"), blank=True, related_name="plans"
    )
    next_review_due = models.DateField(_("next review due"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("written by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("saved at"), auto_now_add=True)

    objects = HelpPlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("help plan")
        verbose_name_plural = _("help plans")
        ordering = ["help", "-version"]
        indexes = [models.Index(fields=["is_current", "next_review_due"])]
        constraints = [
            models.UniqueConstraint(fields=["help", "version"], name="help_plan_version_unique"),
            models.UniqueConstraint(
                fields=["help"], condition=Q(is_current=True), name="one_current_plan_per_help"
            ),
            models.CheckConstraint(
                condition=Q(next_review_due__gt=F("meeting_date")),
                name="plan_review_after_meeting",
            ),
        ]

    def __str__(self):
        return _("Help plan version %(version)s") % {"version": self.version}

    def get_absolute_url(self):
        return reverse("cases:plan_detail", args=[self.pk])

    def is_review_overdue(self, today: datetime.date | None = None) -> bool:
        return self.next_review_due < (today or timezone.localdate())


class HelpPlanGoal(models.Model):
    plan = models.ForeignKey(
        HelpPlan, verbose_name=_("help plan"), on_delete=models.CASCADE, related_name="goals"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    origin = models.ForeignKey(
        "self",
        verbose_name=_("first version of this goal"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="later_versions",
        help_text=_("Empty for a goal set in this version; ratings belong to the first version."),
    )
    description = models.CharField(_("goal"), max_length=500)
    status = models.CharField(_("status"), max_length=12, choices=GoalStatus, default="open")

    class Meta:
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        ordering = ["plan", "position", "id"]

    def __str__(self):
        return self.description

    @property
    def lineage_root(self) -> "HelpPlanGoal":
        return self.origin if self.origin_id else self


class RatingOccasion(models.TextChoices):
    START = "start", _("start of the help")
    REVIEW = "review", _("review")
    END = "end", _("end of the help")


class GoalRating(models.Model):
    """Wirksamkeitskontrolle: a goal rated 1–5 by the professional and by the family."""

    goal = models.ForeignKey(
        HelpPlanGoal, verbose_name=_("goal"), on_delete=models.CASCADE, related_name="ratings"
    )
    occasion = models.CharField(_("occasion"), max_length=10, choices=RatingOccasion)
    rated_on = models.DateField(_("rated on"))
    professional = models.PositiveSmallIntegerField(_("rating of the professional (1–5)"))
    own = models.PositiveSmallIntegerField(
        _("own rating of the young person or parents (1–5)"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("goal rating")
        verbose_name_plural = _("goal ratings")
        ordering = ["goal", "rated_on", "id"]
        indexes = [models.Index(fields=["occasion", "goal"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(professional__gte=1) & Q(professional__lte=5),
                name="rating_professional_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(own__isnull=True) | (Q(own__gte=1) & Q(own__lte=5)),
                name="rating_own_1_to_5",
            ),
            models.UniqueConstraint(
                fields=["goal", "occasion"],
                condition=Q(occasion__in=["start", "end"]),
                name="one_start_and_end_rating_per_goal",
            ),
        ]

    def __str__(self):
        return f"{self.get_occasion_display()}: {self.professional}/{self.own or '–'}"


class HelpGoalOutcome(models.Model):
    """The goal ratings of one help, summed for the effectiveness figures (controlling.kpis):
    its root goals with an END rating, how many of them were reached (rated 4 or 5) and
    the rating changes since START, the professional's and the own rating apart.

    Kept by PostgreSQL triggers on the ratings and the goals (migration cases 0008), in
    the same transaction as the change; `cases.services.rebuild_goal_outcomes()`
    recomputes it. The KPIs read one row per ended help instead of joining every goal
    to its two ratings. A help without rated goals has no row or a row of zeros."""

    help = models.OneToOneField(
        Help,
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    rated_goals = models.IntegerField(db_default=0)
    reached_goals = models.IntegerField(db_default=0)
    rated_goals_own = models.IntegerField(db_default=0)
    reached_goals_own = models.IntegerField(db_default=0)
    professional_compared = models.IntegerField(db_default=0)
    professional_change = models.IntegerField(db_default=0)
    own_compared = models.IntegerField(db_default=0)
    own_change = models.IntegerField(db_default=0)

    class Meta:
        verbose_name = _("goal outcome of a help")

    def __str__(self):
        return f"{self.help_id}: {self.reached_goals}/{self.rated_goals}"


class CaseNoteQuerySet(models.QuerySet):
    def not_entrusted(self):
        """Entries that may leave the journal: never a § 65 SGB VIII entrusted one."""
        return self.filter(entrusted=False)

    def visible_to(self, user):
        """Journal entries `user` may read: entrusted ones only for the author and named readers."""
        if not user.is_authenticated or user.role not in (Role.ASD, Role.ASD_LEAD):
            return self.none()
        return self.filter(case__in=Case.objects.visible_to(user)).readable_by(user)

    def readable_by(self, user):
        """Hides entrusted entries except from their author and the readers they named."""
        return self.filter(
            Q(entrusted=False)
            | Q(author_id=user.pk)
            | Exists(EntrustedNoteGrant.objects.filter(note=OuterRef("pk"), user_id=user.pk))
        )


class CaseNote(models.Model):
    """A journal entry of the case file. Entries are never edited, only added."""

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=NoteKind, default=NoteKind.NOTE)
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)
    # § 65 SGB VIII: readable only by the author and whom the author names.
    entrusted = models.BooleanField(_("entrusted in confidence (§ 65 SGB VIII)"), default=False)

    objects = CaseNoteQuerySet.as_manager()

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["case", "created_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} {self.created_at:%d.%m.%Y}"


class EntrustedNoteGrant(models.Model):
    """Someone the author of an entrusted entry lets read it, with the reason."""

    note = models.ForeignKey(
        CaseNote, verbose_name=_("journal entry"), on_delete=models.CASCADE, related_name="grants"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="entrusted_note_grants",
    )
    reason = models.TextField(_("reason"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reader of an entrusted entry")
        verbose_name_plural = _("readers of entrusted entries")
        constraints = [
            models.UniqueConstraint(fields=["note", "user"], name="one_grant_per_note_and_user")
        ]

    def __str__(self):
        return f"{self.note_id} → {self.user}"


class RiskAssessmentQuerySet(models.QuerySet):
    def visible_to(self, user):
        """§ 8a assessments are for the ASD only, never for providers."""
        if not user.is_authenticated or user.role not in (Role.ASD, Role.ASD_LEAD):
            return self.none()
        return self.filter(case__in=Case.objects.visible_to(user))

    def follow_up_due(self, within_days: int = 7, today: datetime.date | None = None):
        today = today or timezone.localdate()
        return self.exclude(status=RiskAssessmentStatus.CLOSED).filter(
            next_follow_up_on__lte=today + datetime.timedelta(days=within_days)
        )


class RiskAssessment(models.Model):
    """Child-protection risk assessment (§ 8a SGB VIII), the most sensitive record."""

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="risk_assessments"
    )
    report_received_on = models.DateField(_("report received on"))
    report_source = models.CharField(_("reported by"), max_length=200)
    report_summary = models.TextField(_("content of the report"))
    first_assessment_on = models.DateField(_("first assessment on"), null=True, blank=True)
    first_assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("first professional"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    second_assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("second professional"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    risk_level = models.CharField(
        _("risk level"), max_length=15, choices=RiskLevel, default=RiskLevel.NOT_ASSESSED
    )
    assessment = models.TextField(_("assessment"), blank=True)
    protection_plan = models.TextField(_("protection plan"), blank=True)
    next_follow_up_on = models.DateField(_("next follow-up on"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=RiskAssessmentStatus,
        default=RiskAssessmentStatus.REPORTED,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    objects = RiskAssessmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("risk assessment (§ 8a)")
        verbose_name_plural = _("risk assessments (§ 8a)")
        ordering = ["-report_received_on", "-id"]
        indexes = [models.Index(fields=["status", "next_follow_up_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(first_assessor__isnull=True)
                | Q(second_assessor__isnull=True)
                | ~Q(first_assessor=F("second_assessor")),
                name="risk_assessment_four_eyes",
            ),
            models.CheckConstraint(
                condition=Q(first_assessment_on__isnull=True)
                | Q(first_assessment_on__gte=F("report_received_on")),
                name="risk_assessment_after_report",
            ),
        ]

    def __str__(self):
        return _("§ 8a assessment of %(date)s") % {"date": f"{self.report_received_on:%d.%m.%Y}"}
