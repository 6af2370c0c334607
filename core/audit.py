"""Writing the audit log: the one function every view and service calls.

The log is tamper-evident: every entry stores the `entry_hash` of the entry before it
(`prev_hash`) and its own SHA-256 over its content and that `prev_hash`. Changing a
row breaks its own hash; deleting a row breaks the link of the row after it; a forger
who recomputes one hash breaks the link of the next row. `verify_chain` (and
`manage.py verify_audit_log`) walks the chain in id order and names the first break.

Writers form one chain even when they run in parallel: on PostgreSQL the database
function `core_audit_append` (migration core/0007) takes an advisory lock, reads the
last hash, draws the id and inserts the entry, all in one statement. The lock is a
transaction lock: outside a transaction it is released when that statement commits,
so no request holds it across a round trip to Python. When log_action runs inside a
service's `transaction.atomic()` the lock is held until that transaction commits:
services write their audit entry last, just before they return (as they do), which
keeps the time other writers wait to the commit itself. The function expects the
default READ COMMITTED isolation (a REPEATABLE READ snapshot taken earlier would not
see the latest entry).
"""

import datetime
import hashlib
import ipaddress
import json
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import AuditAction, AuditEntry

# Any fixed 64-bit number; names the lock in pg_locks ("audit" in ASCII). It is written
# into core_audit_append by migration core/0007.
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
    entry.at = timezone.now()
    if connection.vendor == "postgresql":
        _append_in_database(entry)
        return
    # SQLite (make run) has one writer at a time anyway.
    with transaction.atomic(savepoint=False):
        entry.prev_hash = _last_hash()
        entry.entry_hash = entry_digest(entry)
        entry.save(force_insert=True)


# The canonical text of an entry whose predecessor hash is still unknown. Its keys are
# sorted and every quote inside a value is escaped, so the last occurrence of this is
# the entry's own "prev" (only "user" and "username" follow it).
_UNKNOWN_PREV = '"prev":""'


def _append_in_database(entry: AuditEntry) -> None:
    """core_audit_append hashes head + the last entry's hash + tail, which is exactly
    `entry_digest` of the entry with that predecessor."""
    entry.prev_hash = ""
    text = _canonical(entry)
    split = text.rindex(_UNKNOWN_PREV) + len(_UNKNOWN_PREV) - 1
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT entry_id, prev_hash, entry_hash FROM core_audit_append("
            "%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::inet, %s, %s, %s)",
            [
                text[:split],
                text[split:],
                entry.at,
                entry.user_id,
                entry.username,
                entry.action,
                entry.object_type,
                entry.object_id,
                json.dumps(entry.changes),
                entry.ip_address,
                entry.path,
                entry.case_id,
                entry.family_id,
            ],
        )
        entry.pk, entry.prev_hash, entry.entry_hash = cursor.fetchone()
    entry._state.adding = False
    entry._state.db = connection.alias


def _last_hash() -> str:
    last = AuditEntry.objects.order_by("-id").values_list("entry_hash", flat=True).first()
    return last or ""


def entry_digest(entry: AuditEntry) -> str:
    """SHA-256 over a canonical serialisation of the entry's content and `prev_hash`."""
    return hashlib.sha256(_canonical(entry).encode()).hexdigest()


def _canonical(entry: AuditEntry) -> str:
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
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


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


# --- Anchors: the head of the chain, kept outside the database -------------------------
#
# The chain shows a changed or removed entry by the link of the entry after it; the
# newest entries have none after them. So every hour the head of the chain (its id and
# hash) is appended to a file outside the database; `verify_audit_log` checks that every
# anchored entry is still there with the same hash. What was written after the last
# anchor can still go unnoticed.


def anchor_chain() -> dict | None:
    """Append the newest entry's id and hash to the anchor file (None: the log is empty)."""
    head = AuditEntry.objects.order_by("-id").values("id", "entry_hash", "at").first()
    if head is None:
        return None
    anchor = {
        "id": head["id"],
        "hash": head["entry_hash"],
        "at": head["at"].isoformat(),
        "anchored_at": timezone.now().isoformat(),
    }
    path = Path(settings.KIJUFAZ_AUDIT_ANCHOR_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as file:
        file.write(json.dumps(anchor) + "\n")
        file.flush()
        os.fsync(file.fileno())
    return anchor


@dataclass(frozen=True)
class AnchorReport:
    checked: int
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


def verify_anchors() -> AnchorReport:
    """Every anchored entry must still be in the log with the hash it had."""
    path = Path(settings.KIJUFAZ_AUDIT_ANCHOR_FILE)
    if not path.exists():
        return AnchorReport(0)
    anchors = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            anchor = json.loads(line)
            anchors.append((int(anchor["id"]), str(anchor["hash"])))
        except (ValueError, KeyError, TypeError):
            return AnchorReport(
                len(anchors), _("line %(n)s of the anchor file is not an anchor") % {"n": number}
            )
    stored = dict(
        AuditEntry.objects.filter(id__in={pk for pk, __ in anchors}).values_list("id", "entry_hash")
    )
    for pk, digest in anchors:
        if pk not in stored:
            missing = _("anchored entry #%(id)s is missing: it (and what followed) was removed")
            return AnchorReport(len(anchors), missing % {"id": pk})
        if stored[pk] != digest:
            changed = _("anchored entry #%(id)s has another hash than when it was anchored")
            return AnchorReport(len(anchors), changed % {"id": pk})
    return AnchorReport(len(anchors))
