from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import twofactor
from .audit import log_action
from .models import AuditAction, User

# django-otp's own admin pages would show the admin each user's authenticator secret
# (as a QR code) and the backup codes: the admin only resets them (UserAdmin action).
for otp_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(otp_model):
        admin.site.unregister(otp_model)

# The audit log has no admin page: the data protection officer reads it in the privacy
# app's viewer (privacy/audit_views.py), where reading is audited and the hash chain
# can be checked.


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "team", "provider", "is_active"]
    list_filter = ["role", "team", "provider", "is_active"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("Role in the office"), {"fields": ["role", "team", "provider"]}),
    ]
    actions = ["reset_two_factor"]

    @admin.action(description=_("Reset two-factor sign-in (lost phone)"))
    def reset_two_factor(self, request, queryset):
        for user in queryset:
            removed = twofactor.reset_two_factor(user)
            log_action(
                user=request.user,
                action=AuditAction.DELETE,
                obj=user,
                changes={"two_factor": "reset", "devices": removed},
                request=request,
            )
        self.message_user(
            request,
            _("Two-factor sign-in was reset; the users set it up again at their next sign-in."),
            messages.SUCCESS,
        )
