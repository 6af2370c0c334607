from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    """Data protection: audit log viewer, retention (Löschfristen), access requests."""

    name = "privacy"
    verbose_name = _("Data protection")
