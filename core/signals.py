from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .audit import log_action
from .models import AuditAction


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    log_action(user=user, action=AuditAction.LOGIN, request=request)


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        # core.sessions names why it signed the user out (idle timeout, lifetime).
        reason = getattr(request, "kijufaz_logout_reason", "")
        changes = {"reason": reason} if reason else None
        log_action(user=user, action=AuditAction.LOGOUT, changes=changes, request=request)


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs):
    # Only the attempted user name is kept, never the password.
    username = str(credentials.get("username", ""))[:150]
    log_action(
        user=None,
        action=AuditAction.LOGIN_FAILED,
        changes={"username": username},
        request=request,
    )
