"""Writing the audit log: the one function every view and service calls."""

from django.db import models

from .models import AuditAction, AuditEntry


def _client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def log_action(
    *,
    user,
    action: AuditAction | str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    changes: dict | None = None,
    request=None,
) -> AuditEntry:
    if obj is not None:
        object_type = obj._meta.label_lower
        object_id = obj.pk
    authenticated = user is not None and user.is_authenticated
    return AuditEntry.objects.create(
        user=user if authenticated else None,
        username=getattr(user, "username", "") if authenticated else "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        changes=changes or {},
        ip_address=_client_ip(request),
        path=request.path[:300] if request is not None else "",
    )


def changed_fields(form) -> list[str]:
    """The names of the fields a bound ModelForm changed (never their values)."""
    return sorted(form.changed_data)
