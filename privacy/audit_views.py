"""The audit log viewer of the data protection officer: filter, sort, export, check the
hash chain (issue #6). Reading the log is itself audited: it names staff members, their
addresses and what they looked at."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cases.models import Case
from core.access import roles_required
from core.audit import log_action, verify_anchors, verify_chain
from core.exports import csv_response, xlsx_response
from core.models import AuditAction, AuditEntry, Role
from core.reauth import sensitive_action

from .filters import AuditEntryFilter

ENTRIES_PER_PAGE = 50
SORT_COLUMNS = [
    ("at", _lazy("Time of entry")),
    ("user", _lazy("User")),
    ("action", _lazy("Audit action")),
    ("object", _lazy("Object")),
]


def _filtered_entries(request):
    base = AuditEntry.objects.annotate(
        case_reference=Subquery(Case.objects.filter(pk=OuterRef("case_id")).values("reference"))
    ).order_by("-at", "-id")
    entry_filter = AuditEntryFilter(request.GET or None, queryset=base)
    if not entry_filter.is_bound:
        return entry_filter, base
    if entry_filter.is_valid():
        return entry_filter, entry_filter.qs
    messages.error(request, _("Some filters could not be read; the log is shown unfiltered."))
    return entry_filter, base


def _audit_reading(request, action: AuditAction, **details) -> None:
    log_action(
        user=request.user,
        action=action,
        object_type="core.auditentry",
        changes={"filters": request.GET.dict(), **details},
        request=request,
    )


@never_cache
@roles_required(Role.DATA_PROTECTION)
def audit_log(request):
    entry_filter, entries = _filtered_entries(request)
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    _audit_reading(request, AuditAction.LIST, shown=[entry.pk for entry in page])
    return render(
        request,
        "privacy/audit_log.html",
        {
            "filter": entry_filter,
            "page": page,
            "sort_columns": SORT_COLUMNS,
            "current_order": request.GET.get("ordering", ""),
        },
    )


EXPORT_HEADER = [
    _lazy("Entry"),
    _lazy("Time of entry"),
    _lazy("User"),
    _lazy("Audit action"),
    _lazy("Object type"),
    _lazy("Object id"),
    _lazy("File number"),
    _lazy("Family"),
    _lazy("Details"),
    _lazy("IP address"),
    _lazy("Path"),
    _lazy("Entry hash"),
    _lazy("Hash of the previous entry"),
]


def _export_row(entry: AuditEntry) -> list:
    return [
        entry.pk,
        date_format(timezone.localtime(entry.at), "d.m.Y H:i:s"),
        entry.username,
        entry.get_action_display(),
        entry.object_type,
        entry.object_id,
        entry.case_reference or "",
        entry.family_id or "",
        entry.details_text,
        entry.ip_address or "",
        entry.path,
        entry.entry_hash,
        entry.prev_hash,
    ]


@never_cache
@roles_required(Role.DATA_PROTECTION)
@sensitive_action
def audit_export(request, fmt: str):
    __, entries = _filtered_entries(request)
    _audit_reading(request, AuditAction.EXPORT, format=fmt, count=entries.count())
    rows = (_export_row(entry) for entry in entries.iterator(chunk_size=2000))
    filename = f"protokoll-{timezone.localdate():%Y-%m-%d}"
    respond = csv_response if fmt == "csv" else xlsx_response
    return respond(filename, [str(h) for h in EXPORT_HEADER], rows)


@roles_required(Role.DATA_PROTECTION)
@require_POST
def audit_verify(request):
    """Walk the hash chain and check the anchors now; say whether the log is intact (or
    where it breaks)."""
    report = verify_chain()
    anchors = verify_anchors()
    if report.ok and not anchors.ok:
        messages.error(
            request,
            _("The newest entries of the audit log were tampered with: %(problem)s.")
            % {"problem": anchors.problem},
        )
    elif report.ok:
        messages.success(
            request,
            _("The audit log is intact: %(count)s entries checked, no link broken.")
            % {"count": report.checked},
        )
    else:
        broken = report.first_break
        messages.error(
            request,
            _(
                "The audit log has been tampered with. First broken link: entry #%(id)s of "
                "%(at)s – %(reason)s. The %(count)s entries before it are intact."
            )
            % {
                "id": broken.entry_id,
                "at": date_format(timezone.localtime(broken.at), "d.m.Y H:i:s"),
                "reason": broken.reason,
                "count": report.checked,
            },
        )
    log_action(
        user=request.user,
        action=AuditAction.VIEW,
        object_type="core.auditentry",
        changes={
            "chain_check": "ok" if report.ok else "broken",
            "checked": report.checked,
            "first_break": report.first_break.entry_id if report.first_break else None,
            "anchors": "ok" if anchors.ok else "broken",
        },
        request=request,
    )
    return redirect("privacy:audit_log")
