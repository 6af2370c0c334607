import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.models import Help, Person
from core.access import roles_required
from core.audit import log_action
from core.exports import csv_response, pdf_response, xlsx_response
from core.forms import add_service_errors
from core.models import PROVIDER_ROLES, AuditAction, Role, User
from core.pdf import render_pdf
from core.periods import iso_week, month_end, parse_month, parse_week
from core.reauth import sensitive_action

from . import selectors, services
from .forms import (
    CorrectionForm,
    GroupOfferForm,
    GroupSessionForm,
    GroupSplitForm,
    HourEntryForm,
    ReturnMonthForm,
)
from .models import GroupOffer, HourEntry, HourKind, MonthApproval, month_start
from .selectors import hours, hours_summary, loggable_helps, provider_overview

OFFICE_ROLES = (Role.DEPARTMENT_HEAD, Role.CONTROLLER)
PLAN_CHECKS_PER_PAGE = 50


def _month_param(request) -> datetime.date:
    month, ok = parse_month(request.GET.get("month"), timezone.localdate())
    if not ok:
        messages.warning(request, _("The month was not understood; showing the current month."))
    return month


# --- The hour sheet -------------------------------------------------------------


def _posted_help_ids(request, name: str) -> list[int]:
    """Help ids of a submitted form, so a re-shown form keeps showing the chosen help."""
    return [int(v) for v in request.POST.getlist(name) if v.isdigit() and len(v) < 10]


def _help_choices(request, today, loggable, *, include_ids=()):
    """Shown helps and search hits; only a team lead may search the whole provider."""
    search = None
    if request.user.role == Role.PROVIDER_LEAD and "help_q" in request.GET:
        search = request.GET.get("help_q", "")
    shown, found = selectors.help_choices(
        request.user, today, include_ids=include_ids, search=search, loggable=loggable
    )
    return shown, {"help_q": search, "help_hits": found}


@roles_required(*PROVIDER_ROLES)
def hour_sheet(request):
    user, today = request.user, timezone.localdate()
    monday, ok = parse_week(request.GET.get("week"), today)
    if not ok:
        messages.warning(request, _("The week was not understood; showing the current week."))
    helps = loggable_helps(user.provider_id, today, user=user)
    default_day = min(today, monday + datetime.timedelta(days=6))
    # A successful save redirects: the dropdown's choices are only looked up for a page
    # that is rendered (saving an hour entry is the most frequent request).
    form = HourEntryForm(request.POST or None, helps=helps, shown=[], initial={"date": default_day})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                entry, created = services.log_hours(
                    staff=user,
                    idempotency_key=data["idempotency_key"],
                    date=data["date"],
                    minutes=data["minutes"],
                    kind=data["kind"],
                    activity=data["activity"],
                    help=data["help"],
                    start_time=data["start_time"],
                    end_time=data["end_time"],
                    note=data["note"],
                    recurring=data["recurring"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                if created:
                    messages.success(request, _("The entry was saved."))
                else:
                    messages.info(request, _("This entry had already been saved."))
                return redirect(f"{reverse('providers:hour_sheet')}?week={iso_week(entry.date)}")
        status = 400
    shown, search = _help_choices(
        request, today, helps, include_ids=_posted_help_ids(request, "help")
    )
    form.fields["help"].show_only(shown, blank=True)
    sheet = selectors.hour_sheet(user, monday, today, shown)
    context = {
        "form": form,
        "monday": monday,
        "week": iso_week(monday),
        "previous_week": iso_week(monday - datetime.timedelta(days=7)),
        "next_week": iso_week(monday + datetime.timedelta(days=7)),
        "is_current_week": monday <= today <= monday + datetime.timedelta(days=6),
        **search,
        **sheet,
    }
    return render(request, "providers/hour_sheet.html", context, status=status)


def _own_entry(request, pk: int) -> HourEntry:
    return get_object_or_404(
        HourEntry.objects.filter(staff=request.user).select_related("help"), pk=pk
    )


@roles_required(*PROVIDER_ROLES)
def entry_edit(request, pk: int):
    entry = _own_entry(request, pk)
    if entry.is_correction:
        # A correction is changed by correcting its original once more.
        return redirect("providers:entry_correct", pk=entry.corrects_id)
    if entry.is_locked:
        return redirect("providers:entry_correct", pk=entry.pk)
    today = timezone.localdate()
    helps = loggable_helps(request.user.provider_id, today, user=request.user)
    shown, __ = selectors.help_choices(
        request.user,
        today,
        include_ids=[entry.help_id, *_posted_help_ids(request, "help")],
        loggable=helps,
    )
    initial = {
        name: getattr(entry, name)
        for name in (
            "date",
            "start_time",
            "end_time",
            "minutes",
            "kind",
            "activity",
            "note",
            "recurring",
        )
    }
    initial.update(help=entry.help_id, idempotency_key=entry.idempotency_key)
    form = HourEntryForm(request.POST or None, helps=helps, shown=shown, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("idempotency_key")
        try:
            services.update_entry(entry=entry, by=request.user, fields=data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The entry was changed."))
            return redirect(f"{reverse('providers:hour_sheet')}?week={iso_week(data['date'])}")
    return render(
        request,
        "providers/entry_form.html",
        {"form": form, "entry": entry},
        status=400 if form.is_bound else 200,
    )


@roles_required(*PROVIDER_ROLES)
@require_POST
def entry_delete(request, pk: int):
    entry = _own_entry(request, pk)
    week = iso_week(entry.date)
    try:
        services.delete_entry(entry=entry, by=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The entry was deleted."))
    return redirect(f"{reverse('providers:hour_sheet')}?week={week}")


@roles_required(*PROVIDER_ROLES)
def entry_correct(request, pk: int):
    entry = get_object_or_404(
        HourEntry.objects.visible_to(request.user).select_related("help__case", "staff"), pk=pk
    )
    if entry.staff_id != request.user.pk and request.user.role != Role.PROVIDER_LEAD:
        raise PermissionDenied
    form = CorrectionForm(request.POST or None, initial={"corrected_minutes": entry.minutes})
    if request.method == "POST" and form.is_valid():
        try:
            services.correct_entry(
                original=entry,
                corrected_minutes=form.cleaned_data["corrected_minutes"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The correction was recorded; the original stays."))
            return redirect(f"{reverse('providers:hour_sheet')}?week={iso_week(entry.date)}")
    return render(
        request,
        "providers/entry_correct.html",
        {"form": form, "entry": entry},
        status=400 if form.is_bound else 200,
    )


@roles_required(*PROVIDER_ROLES)
@require_POST
def copy_last_week(request):
    monday, ok = parse_week(request.POST.get("week"), timezone.localdate())
    if not ok:
        messages.error(request, _("The week was not understood."))
        return redirect("providers:hour_sheet")
    copied, skipped = services.copy_recurring_entries(staff=request.user, week_start=monday)
    messages.success(request, _("%(n)s recurring entries were copied.") % {"n": copied})
    for message in skipped:
        messages.warning(request, _("Not copied: %(reason)s") % {"reason": message})
    return redirect(f"{reverse('providers:hour_sheet')}?week={iso_week(monday)}")


@roles_required(*PROVIDER_ROLES)
def group_split(request):
    today = timezone.localdate()
    helps = loggable_helps(request.user.provider_id, today, user=request.user)
    shown, search = _help_choices(
        request, today, helps, include_ids=_posted_help_ids(request, "helps")
    )
    form = GroupSplitForm(request.POST or None, helps=helps, shown=shown, initial={"date": today})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            entries = services.log_group_session(
                staff=request.user,
                idempotency_key=data["idempotency_key"],
                date=data["date"],
                minutes=data["minutes"],
                helps=list(data["helps"]),
                note=data["note"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("The session was split into %(n)s entries.") % {"n": len(entries)}
            )
            return redirect(f"{reverse('providers:hour_sheet')}?week={iso_week(data['date'])}")
    return render(
        request,
        "providers/group_split.html",
        {"form": form, **search},
        status=400 if form.is_bound else 200,
    )


# --- The team lead's overview and approval ---------------------------------------------


@roles_required(*PROVIDER_ROLES, *OFFICE_ROLES)
def overview(request):
    user = request.user
    if user.role in OFFICE_ROLES:
        return redirect("providers:summary")
    if user.role != Role.PROVIDER_LEAD:
        return redirect("providers:hour_sheet")
    month = _month_param(request)
    context = provider_overview(user, month, timezone.localdate())
    context.update(
        plan_page=Paginator(context["plan_checks"], PLAN_CHECKS_PER_PAGE).get_page(
            request.GET.get("page")
        ),
        month=month,
        month_param=f"{month:%Y-%m}",
        previous_month=f"{month_start(month - datetime.timedelta(days=1)):%Y-%m}",
        next_month=f"{month_end(month) + datetime.timedelta(days=1):%Y-%m}",
        kinds=HourKind.choices,
    )
    return render(request, "providers/overview.html", context)


def _staff_of_my_provider(request, staff_id: int) -> User:
    if request.user.role != Role.PROVIDER_LEAD:
        raise PermissionDenied
    return get_object_or_404(
        User.objects.filter(provider_id=request.user.provider_id, role__in=PROVIDER_ROLES),
        pk=staff_id,
    )


@roles_required(Role.PROVIDER_LEAD)
def month_review(request, staff_id: int, year: int, month: int):
    staff = _staff_of_my_provider(request, staff_id)
    try:
        first = datetime.date(year, month, 1)
    except ValueError:
        first = None
    if first is None:
        messages.error(request, _("The month was not understood."))
        return redirect("providers:overview")
    entries = (
        HourEntry.objects.filter(staff=staff)
        .in_month(first)
        .select_related("help__case__family", "corrects")
    )
    return_form = ReturnMonthForm(request.POST or None)
    if request.method == "POST":
        try:
            if request.POST.get("decision") == "approve":
                services.approve_month(staff=staff, month=first, by=request.user)
                messages.success(request, _("The month was approved; its entries are locked."))
                return redirect(f"{reverse('providers:overview')}?month={first:%Y-%m}")
            if return_form.is_valid():
                services.return_month(
                    staff=staff,
                    month=first,
                    comment=return_form.cleaned_data["comment"],
                    by=request.user,
                )
                messages.success(request, _("The month was returned with your comment."))
                return redirect(f"{reverse('providers:overview')}?month={first:%Y-%m}")
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
    approval = MonthApproval.objects.filter(staff=staff, month=first).first()
    total = sum(e.minutes for e in entries)
    # She approves her staff's hours on a confidential case without seeing whose it is.
    unnamed = selectors.unnamed_among(request.user, [e.help for e in entries if e.help_id])
    return render(
        request,
        "providers/month_review.html",
        {
            "staff": staff,
            "month": first,
            "entries": entries,
            "total": total,
            "approval": approval,
            "unnamed": unnamed,
            "return_form": return_form,
            "can_decide": staff.pk != request.user.pk,
        },
        status=400 if request.method == "POST" else 200,
    )


def _export_rows(entries, unnamed: set[int]):
    for e in entries.iterator(chunk_size=1000):
        yield [
            e.date.strftime("%d.%m.%Y"),
            f"{e.staff.first_name} {e.staff.last_name}",
            e.get_kind_display(),
            e.get_activity_display(),
            _file_number(e, unnamed),
            e.minutes,
            str(hours(e.minutes)).replace(".", ","),
            e.note,
            _("approved") if e.approval_id else _("open"),
            e.corrects_id or "",
        ]


def _file_number(entry, unnamed: set[int]) -> str:
    if not entry.help_id:
        return ""
    return _("confidential case") if entry.help_id in unnamed else entry.help.case.reference


@roles_required(*PROVIDER_ROLES)
@sensitive_action
def export_month(request, fmt: str):
    month = _month_param(request)
    entries = (
        HourEntry.objects.visible_to(request.user)
        .in_month(month)
        .select_related("staff", "help__case")
        .order_by("date", "staff__last_name", "id")
    )
    header = [
        _("Date"),
        _("Professional"),
        _("Kind"),
        _("Activity"),
        _("File number"),
        _("Minutes"),
        _("Hours"),
        _("Note"),
        _("Status"),
        _("Corrects entry"),
    ]
    log_action(
        user=request.user,
        action=AuditAction.EXPORT,
        object_type="providers.hourentry",
        changes={"format": fmt, "month": f"{month:%Y-%m}"},
        request=request,
    )
    on_protected = entries.filter(selectors.protected("help__case__"))
    unnamed = selectors.unnamed_helps(
        request.user, on_protected.values_list("help_id", flat=True).distinct()
    )
    filename = f"stunden-{month:%Y-%m}"
    if fmt == "xlsx":
        return xlsx_response(filename, header, _export_rows(entries, unnamed))
    return csv_response(filename, header, _export_rows(entries, unnamed))


@roles_required(*PROVIDER_ROLES)
@sensitive_action
def proof_of_service(request, pk: int, year: int, month: int):
    """The monthly Leistungsnachweis of one help, as the provider sends it to the office."""
    help = get_object_or_404(
        Help.objects.filter(provider_id=request.user.provider_id)
        .hiding_confidential_from(request.user)
        .select_related("case__family", "provider"),
        pk=pk,
    )
    if request.user.role != Role.PROVIDER_LEAD:
        raise PermissionDenied
    try:
        first = datetime.date(year, month, 1)
    except ValueError:
        messages.error(request, _("The month was not understood."))
        return redirect("providers:overview")
    entries = list(HourEntry.objects.filter(help=help).in_month(first).select_related("staff"))
    total = sum(e.minutes for e in entries)
    pdf = render_pdf(
        "providers/proof_pdf.html",
        {
            "help": help,
            "month": first,
            "entries": entries,
            "total_minutes": total,
            "total_hours": hours(total),
            "printed_at": timezone.localtime(),
            "all_approved": all(e.approval_id for e in entries),
        },
    )
    log_action(
        user=request.user,
        action=AuditAction.EXPORT,
        obj=help,
        changes={"format": "pdf", "month": f"{first:%Y-%m}"},
        request=request,
    )
    return pdf_response(pdf, f"leistungsnachweis-{help.case.reference}-{first:%Y-%m}")


@roles_required(*OFFICE_ROLES)
def summary(request):
    """Sums by provider, month and kind for the department head: no names."""
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year", today.year))
    except ValueError:
        year = today.year
    if not 2000 <= year <= 2100:
        year = today.year
    rows = hours_summary(year)
    table: dict[str, dict] = {}
    for row in rows:
        line = table.setdefault(row["provider__name"], dict.fromkeys(HourKind.values, 0))
        line[row["kind"]] += row["total"]
    lines = [
        {
            "provider": name,
            "kinds": [hours(kinds[k]) for k in HourKind.values],
            "total": hours(sum(kinds.values())),
        }
        for name, kinds in table.items()
    ]
    return render(
        request,
        "providers/summary.html",
        {
            "year": year,
            "lines": lines,
            "kinds": HourKind.choices,
            "previous_year": year - 1,
            "next_year": year + 1,
        },
    )


# --- Group offers -------------------------------------------------------------------


@roles_required(*PROVIDER_ROLES)
def group_offer_list(request):
    offers = (
        GroupOffer.objects.visible_to(request.user)
        .select_related("region")
        .annotate(
            session_count=Count("sessions", distinct=True),
            participants=Sum("sessions__anonymous_participants"),
        )
    )
    return render(request, "providers/group_offer_list.html", {"offers": offers})


@roles_required(*PROVIDER_ROLES)
def group_offer_new(request):
    provider = request.user.provider
    form = GroupOfferForm(
        request.POST or None, provider=provider, initial={"starts_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            offer = form.save(commit=False)
            offer.provider = provider
            offer.save()
            form.save_m2m()
            log_action(user=request.user, action=AuditAction.CREATE, obj=offer)
        messages.success(request, _("The group offer was created."))
        return redirect("providers:group_offer_detail", pk=offer.pk)
    return render(
        request,
        "providers/group_offer_form.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )


def _participant_choices(user):
    # Registered participants come from families the provider already works with.
    return (
        Person.objects.filter(
            family__cases__helps__in=Help.objects.serving_provider(
                user.provider_id
            ).hiding_confidential_from(user)
        )
        .distinct()
        .order_by("last_name", "first_name")
    )


@roles_required(*PROVIDER_ROLES)
def group_offer_detail(request, pk: int):
    offer = get_object_or_404(GroupOffer.objects.visible_to(request.user), pk=pk)
    sessions = offer.sessions.annotate(registered=Count("registered_participants"))
    form = GroupSessionForm(
        request.POST or None,
        offer=offer,
        persons=_participant_choices(request.user),
        initial={"date": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            session = form.save(commit=False)
            session.offer = offer
            session.save()
            form.save_m2m()
            log_action(user=request.user, action=AuditAction.CREATE, obj=session)
        messages.success(request, _("The session was recorded."))
        return redirect("providers:group_offer_detail", pk=offer.pk)
    return render(
        request,
        "providers/group_offer_detail.html",
        {"offer": offer, "sessions": sessions, "form": form},
        status=400 if form.is_bound else 200,
    )
