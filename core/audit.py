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
        changes=_storable(changes or {}),
        ip_address=_client_ip(request),
        path=request.path[:300] if request is not None else "",
    )


def _storable(value):
    """PostgreSQL's jsonb refuses \\u0000: a NUL typed into a query string is kept as U+FFFD
    instead of turning the audit entry (and the page that writes it) into a 500."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    return value


def changed_fields(form) -> list[str]:
    """The names of the fields a bound ModelForm changed (never their values)."""
    return sorted(form.changed_data)
