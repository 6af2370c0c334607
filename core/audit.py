"""Writing the audit log: the one function every view and service calls.

The log is tamper-evident: every entry stores the `entry_hash` of the entry before it
(`prev_hash`) and its own SHA-256 over its content and that `prev_hash`. Changing a
row breaks its own hash; deleting a row breaks the link of the row after it; a forger
who recomputes one hash breaks the link of the next row. `verify_chain` (and
`manage.py verify_audit_log`) walks the chain in id order and names the first break.

Writers form one chain even when they run in parallel: on PostgreSQL an advisory
lock, taken in a short transaction around "read the last hash, insert", puts the
entries in a line. The lock is a transaction lock, so when log_action runs inside a
service's `transaction.atomic()` it is held until that transaction commits: services
write their audit entry last, just before they return (as they do), which keeps the
time other writers wait to the commit itself. log_action expects the default READ
COMMITTED isolation (a REPEATABLE READ snapshot taken earlier would not see the
latest entry).
"""

import datetime
import hashlib
import ipaddress
import json
from dataclasses import dataclass

from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import AuditAction, AuditEntry

# Any fixed 64-bit number; names the lock in pg_locks ("audit" in ASCII).
CHAIN_LOCK_ID = 0x6175646974


def _client_ip(request) -> str | None:
    if request is None:
        return None
    try:
        # Normalised as PostgreSQL's inet prints it, so the stored value hashes the same.
        return str(ipaddress.ip_address(request.META.get("REMOTE_ADDR") or ""))
    except ValueError:
        return None


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
    case_id, family_id = _case_and_family_of(obj)
    entry = AuditEntry(
        user=user if authenticated else None,
        username=getattr(user, "username", "") if authenticated else "",
        action=str(action),
        object_type=object_type,
        object_id=str(object_id),
        # Round-tripped through JSON so that the hash sees what the database gives back.
        changes=json.loads(json.dumps(_storable(changes or {}))),
        ip_address=_client_ip(request),
        path=request.path[:300] if request is not None else "",
        case_id=case_id,
        family_id=family_id,
    )
    _append(entry)
    return entry


def _append(entry: AuditEntry) -> None:
    # Inside a service's transaction no savepoint is needed: a failed audit insert
    # fails the service, as it did before the chain.
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_ID])
        # SQLite (make run) has one writer at a time anyway.
        entry.prev_hash = _last_hash()
        entry.at = timezone.now()
        entry.entry_hash = entry_digest(entry)
        entry.save(force_insert=True)


def _last_hash() -> str:
    last = AuditEntry.objects.order_by("-id").values_list("entry_hash", flat=True).first()
    return last or ""


def entry_digest(entry: AuditEntry) -> str:
    """SHA-256 over a canonical serialisation of the entry's content and `prev_hash`."""
    content = {
        "at": entry.at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
        "user": entry.user_id,
        "username": entry.username,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "changes": entry.changes,
        "ip": entry.ip_address,
        "path": entry.path,
        "case": entry.case_id,
        "family": entry.family_id,
        "prev": entry.prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _case_and_family_of(obj) -> tuple[int | None, int | None]:
    """The case and family an audited object belongs to, read from attributes the
    object already has (a case, anything with a `case_id`, anything hanging off a help
    such as a help plan or an hour entry, a family or a person), without importing the
    apps above core."""
    if obj is None:
        return None, None
    label = obj._meta.label_lower
    if label == "cases.case":
        return obj.pk, obj.family_id
    if label == "cases.family":
        return None, obj.pk
    if hasattr(obj, "family_id"):
        return None, obj.family_id
    if getattr(obj, "case_id", None) is not None:
        return obj.case_id, None
    if getattr(obj, "help_id", None) is not None:
        return obj.help.case_id, None
    return None, None


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


# --- Verifying the chain ------------------------------------------------------------


@dataclass(frozen=True)
class ChainBreak:
    entry_id: int
    at: datetime.datetime
    reason: str


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_break: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def verify_chain() -> ChainReport:
    """Walk the log in id order; stop at the first entry whose link or hash is wrong."""
    previous: AuditEntry | None = None
    checked = 0
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        reason = _mismatch(entry, previous)
        if reason:
            return ChainReport(checked, ChainBreak(entry.pk, entry.at, str(reason)))
        previous = entry
        checked += 1
    return ChainReport(checked, None)


def _mismatch(entry: AuditEntry, previous: AuditEntry | None) -> str:
    if previous is None and entry.prev_hash:
        return _(
            "it points to a predecessor, but it is the first entry of the log "
            "(the entries before it were removed)"
        )
    if previous is not None and entry.prev_hash != previous.entry_hash:
        return _(
            "its link does not match the entry before it (#%(previous)s): an entry in "
            "between was removed, or that entry was changed and its hash recomputed"
        ) % {"previous": previous.pk}
    if entry.entry_hash != entry_digest(entry):
        return _("its content does not match its hash: the entry was changed")
    return ""
