from django.db import models
from django.utils.translation import gettext_lazy as _


class ProviderKind(models.TextChoices):
    CONSORTIUM = "consortium", _("Consortium member (Hilfeleisterteam)")
    STATIONARY = "stationary", _("Outside stationary provider")


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
        return self.short_name or self.name
