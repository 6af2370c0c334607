import json

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ASD = "asd", _("ASD caseworker")
    ASD_LEAD = "asd_lead", _("ASD team lead")
    PROVIDER_STAFF = "provider_staff", _("Provider staff")
    PROVIDER_LEAD = "provider_lead", _("Provider team lead")
    DEPARTMENT_HEAD = "department_head", _("Department head")
    CONTROLLER = "controller", _("Controlling")
    DATA_PROTECTION = "data_protection", _("Data protection officer")
    ADMIN = "admin", _("Administrator")


ASD_ROLES = (Role.ASD, Role.ASD_LEAD)
PROVIDER_ROLES = (Role.PROVIDER_STAFF, Role.PROVIDER_LEAD)


# What str(user) reads (User.__str__): a query for user names loads only these.
USER_NAME_FIELDS = ("first_name", "last_name", "username")


def display_name(first_name: str, last_name: str, username: str) -> str:
    """str() of a user from its USER_NAME_FIELDS: the full name, else the username."""
    return f"{first_name} {last_name}".strip() or username


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role, default=Role.ASD)
    team = models.ForeignKey(
        "cases.Team",
        verbose_name=_("ASD team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    provider = models.ForeignKey(
        "providers.Provider",
        verbose_name=_("provider"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role__in=["asd", "asd_lead"]) | models.Q(provider__isnull=True),
                name="asd_users_have_no_provider",
            ),
            models.CheckConstraint(
                condition=~models.Q(role__in=["provider_staff", "provider_lead"])
                | models.Q(team__isnull=True),
                name="provider_users_have_no_asd_team",
            ),
        ]

    def __str__(self):
        return display_name(self.first_name, self.last_name, self.username)

    @property
    def is_asd(self) -> bool:
        return self.role in ASD_ROLES

    @property
    def is_asd_lead(self) -> bool:
        return self.role == Role.ASD_LEAD

    @property
    def is_provider(self) -> bool:
        return self.role in PROVIDER_ROLES

    @property
    def sees_case_data(self) -> bool:
        return self.is_asd or self.is_provider


class AuditAction(models.TextChoices):
    VIEW = "view", _("viewed")
    LIST = "list", _("listed")
    CREATE = "create", _("created")
    CHANGE = "change", _("changed")
    DELETE = "delete", _("deleted")
    EXPORT = "export", _("exported")
    LOGIN = "login", _("logged in")
    LOGOUT = "logout", _("logged out")
    LOGIN_FAILED = "login_failed", _("login failed")


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit log is append-only")

    def delete(self):
        raise PermissionError("The audit log is append-only")


class AuditEntry(models.Model):
    """One line of the append-only audit log.

    It records who did what to which object, never the personal data itself:
    `changes` holds the names of changed fields, not their values.
    """

    # Set by core.audit before the hash is computed (auto_now_add would overwrite it on save).
    at = models.DateTimeField(_("time"), default=timezone.now, editable=False, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    username = models.CharField(_("user name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=AuditAction)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object id"), max_length=40, blank=True)
    changes = models.JSONField(_("details"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    path = models.CharField(_("path"), max_length=300, blank=True)
    # Tamper evidence: each entry carries the hash of its predecessor and its own
    # hash over its content and that predecessor hash (see core.audit).
    prev_hash = models.CharField(_("hash of the previous entry"), max_length=64, blank=True)
    entry_hash = models.CharField(_("entry hash"), max_length=64, blank=True)
    # The case and family the object belongs to (filled by core.audit from the object), so
    # the data protection officer can ask "who touched this case / this person's family".
    # Plain integers, not foreign keys: the log outlives deleted cases and sits below the
    # cases app.
    case_id = models.BigIntegerField(_("case"), null=True, blank=True, db_index=True)
    family_id = models.BigIntegerField(_("family"), null=True, blank=True, db_index=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["user", "at"]),
            models.Index(fields=["action", "at"]),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.object_type}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("The audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit log is append-only")

    @property
    def details_text(self) -> str:
        return json.dumps(self.changes, ensure_ascii=False, sort_keys=True)


class Draft(models.Model):
    """Text typed into a long form, kept server-side so a timeout loses nothing.

    `key` names the form (its path); the draft is removed once that form was
    saved successfully.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(_("form"), max_length=300)
    data = models.JSONField(_("content"), default=dict)
    updated_at = models.DateTimeField(_("saved at"), auto_now=True)

    class Meta:
        verbose_name = _("draft")
        verbose_name_plural = _("drafts")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="one_draft_per_form")]

    def __str__(self):
        return f"{self.user_id} {self.key}"


class FiguresGeneration(models.Model):
    """A row counting the committed changes to the data behind the cached figures.

    PostgreSQL triggers (`core.figures`) raise `value` once per transaction, at its
    commit: row 1 when a table the dashboard and KPI figures read changes (migration
    0005), row 2 when a change moves hours between regions or providers (migration
    0008). `epoch` is new whenever a row is created again (e.g. after a flush), so a
    value is never reused for other data.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    epoch = models.UUIDField()
    value = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("figures generation")
        verbose_name_plural = _("figures generations")

    def __str__(self):
        return f"{self.epoch}:{self.value}"


class HoursChange(models.Model):
    """One line per transaction and month whose hour entries it changed (a PostgreSQL
    trigger writes it at commit, migration 0006). The sum of `weight` per month is that
    month's hours generation (`core.figures`): it only grows, needs no lock, and
    `compact_hours_changes` folds old lines into one with their summed weight."""

    month = models.DateField()
    weight = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("hours change")
        verbose_name_plural = _("hours changes")
        indexes = [models.Index(fields=["month", "weight"], name="core_hourschange_month")]

    def __str__(self):
        return f"{self.month:%Y-%m} +{self.weight}"
