from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from cases.models import Region
from core.access import roles_required
from core.audit import log_action
from core.models import AuditAction, Role

from . import services
from .forms import ActionItemForm, DecisionForm, GoalReviewForm, ReportRequestForm, WorkshopForm
from .models import (
    REPORT_ROLES,
    REQUEST_ROLES,
    WORKSHOP_ROLES,
    ActionItem,
    ReportJob,
    ReportSubscription,
    Workshop,
)

READ_REPORT_ROLES = (*REPORT_ROLES, Role.PROVIDER_LEAD)
EDIT_WORKSHOP_ROLES = (Role.DEPARTMENT_HEAD, Role.CONTROLLER)


# --- Reports ----------------------------------------------------------------------


def _jobs():
    return ReportJob.objects.select_related("region", "requested_by")


def _report_page(request) -> dict:
    page = Paginator(_jobs(), 20).get_page(request.GET.get("page"))
    # The table asks again every 2 s while a report on this page is not finished.
    return {"page": page, "polling": any(not job.is_finished for job in page)}


@roles_required(*READ_REPORT_ROLES)
def report_list(request):
    can_request = request.user.role in REQUEST_ROLES
    form = ReportRequestForm(request.POST or None) if can_request else None
    if request.method == "POST":
        if not can_request:
            raise PermissionDenied
        if form.is_valid():
            job = services.request_report(
                region=form.cleaned_data["region"],
                period=form.cleaned_data["period"],
                by=request.user,
            )
            messages.success(request, _("The report %(job)s was requested.") % {"job": job})
            return redirect("controlling:report_list")
    report_page = _report_page(request)
    subscriptions = {s.region_id for s in ReportSubscription.objects.filter(user=request.user)}
    regions = [
        {"pk": r.pk, "name": r.name, "subscribed": r.pk in subscriptions}
        for r in Region.objects.order_by("name")
    ]
    return render(
        request,
        "controlling/report_list.html",
        {
            "form": form,
            **report_page,
            "can_request": can_request,
            "regions": regions,
            "all_subscribed": None in subscriptions,
        },
        status=400 if form is not None and form.is_bound else 200,
    )


@roles_required(*READ_REPORT_ROLES)
@require_POST
def report_subscription(request):
    """Switch the e-mail about new reports (of one region, or of all) on or off."""
    region_id = request.POST.get("region", "")
    if region_id and not region_id.isdigit():
        raise Http404
    # An unknown region is an error, not the subscription to all regions.
    region = get_object_or_404(Region, pk=region_id) if region_id else None
    subscription = ReportSubscription.objects.filter(user=request.user, region=region)
    if subscription.exists():
        subscription.delete()
        messages.success(request, _("You will no longer get e-mails about new reports."))
    elif not request.user.email:
        messages.error(request, _("Your account has no e-mail address; ask the administrator."))
    else:
        ReportSubscription.objects.create(user=request.user, region=region)
        messages.success(request, _("You will get an e-mail when a new report is ready."))
    return redirect("controlling:report_list")


@roles_required(*READ_REPORT_ROLES)
def report_status(request):
    """The rows of the report table, polled by htmx while a report is not finished."""
    return render(request, "controlling/report_rows.html", _report_page(request))


@roles_required(*READ_REPORT_ROLES)
def report_download(request, pk: int):
    job = get_object_or_404(ReportJob, pk=pk)
    if job.status != "done":
        raise Http404
    path = settings.MEDIA_ROOT / job.file
    if not path.exists():
        raise Http404
    log_action(
        user=request.user,
        action=AuditAction.EXPORT,
        obj=job,
        changes={"format": "pdf"},
        request=request,
    )
    return FileResponse(
        path.open("rb"),
        content_type="application/pdf",
        filename=f"controllingbericht-{job.period_key}.pdf",
    )


@roles_required(Role.DEPARTMENT_HEAD)
def schedules(request):
    tasks = (
        PeriodicTask.objects.filter(task__startswith="controlling.")
        .select_related("crontab", "interval")
        .order_by("name")
    )
    if request.method == "POST":
        task_id = request.POST.get("task", "")
        if not task_id.isdigit():
            raise Http404
        task = get_object_or_404(tasks, pk=task_id)
        task.enabled = request.POST.get("enabled") == "on"
        fields = ["enabled", "last_run_at", "date_changed"]
        if task.crontab_id and request.POST.get("hour") is not None:
            day, hour = request.POST.get("day_of_month", ""), request.POST.get("hour", "")
            if not (day.isdigit() and 1 <= int(day) <= 28 and hour.isdigit() and int(hour) < 24):
                messages.error(request, _("Give a day from 1 to 28 and an hour from 0 to 23."))
                return redirect("controlling:schedules")
            crontab = task.crontab
            task.crontab, __ = CrontabSchedule.objects.get_or_create(
                minute=crontab.minute,
                hour=str(int(hour)),
                day_of_week=crontab.day_of_week,
                day_of_month=str(int(day)),
                month_of_year=crontab.month_of_year,
                timezone=crontab.timezone,
            )
            fields.append("crontab")
        # As PeriodicTask.save() would: a disabled task forgets its last run, and beat takes
        # date_changed as the last run of a task without one; else re-enabling fires at once.
        task.save(update_fields=fields)
        log_action(
            user=request.user,
            action=AuditAction.CHANGE,
            obj=task,
            changes={"enabled": task.enabled, "fields": fields},
        )
        messages.success(request, _("The schedule was saved."))
        return redirect("controlling:schedules")
    return render(request, "controlling/schedules.html", {"tasks": tasks})


# --- Workshops --------------------------------------------------------------------


@roles_required(*WORKSHOP_ROLES)
def workshop_list(request):
    workshops = Workshop.objects.select_related("region")
    page = Paginator(workshops, 20).get_page(request.GET.get("page"))
    open_items = ActionItem.objects.open().select_related("workshop__region")[:100]
    return render(
        request,
        "controlling/workshop_list.html",
        {
            "page": page,
            "open_items": open_items,
            "today": timezone.localdate(),
            "can_edit": request.user.role in EDIT_WORKSHOP_ROLES,
        },
    )


@roles_required(*EDIT_WORKSHOP_ROLES)
def workshop_new(request):
    form = WorkshopForm(request.POST or None, initial={"date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            workshop = form.save(commit=False)
            workshop.created_by = request.user
            workshop.save()
            log_action(user=request.user, action=AuditAction.CREATE, obj=workshop)
        return redirect(workshop)
    return render(
        request,
        "controlling/workshop_form.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )


FORMS = {"goal": GoalReviewForm, "decision": DecisionForm, "action": ActionItemForm}


@roles_required(*WORKSHOP_ROLES)
def workshop_detail(request, pk: int):
    workshop = get_object_or_404(Workshop.objects.select_related("region"), pk=pk)
    can_edit = request.user.role in EDIT_WORKSHOP_ROLES
    bound = request.POST.get("form") if request.method == "POST" else None
    if bound and not can_edit:
        raise PermissionDenied
    forms = {}
    for name, form_class in FORMS.items():
        kwargs = {"workshop": workshop} if name == "goal" else {}
        data = request.POST if bound == name else None
        forms[name] = form_class(data, prefix=name, **kwargs)
    if bound in forms and forms[bound].is_valid():
        with transaction.atomic():
            item = forms[bound].save(commit=False)
            item.workshop = workshop
            item.save()
            log_action(user=request.user, action=AuditAction.CREATE, obj=item)
        messages.success(request, _("Saved."))
        return redirect(workshop)
    if request.method == "POST" and bound not in forms:
        messages.error(request, _("Please use one of the forms on this page."))
        bound = bound or "unknown"
    carried = (
        ActionItem.objects.open()
        .filter(workshop__region=workshop.region, workshop__date__lt=workshop.date)
        .select_related("workshop")
    )
    return render(
        request,
        "controlling/workshop_detail.html",
        {
            "workshop": workshop,
            "goal_reviews": workshop.goal_reviews.all(),
            "decisions": workshop.decisions.all(),
            "action_items": workshop.action_items.all(),
            "carried": carried,
            "forms": forms if can_edit else None,
            "can_edit": can_edit,
        },
        status=400 if bound else 200,
    )


@roles_required(*EDIT_WORKSHOP_ROLES)
@require_POST
def action_item_done(request, pk: int):
    item = get_object_or_404(ActionItem, pk=pk)
    if item.done_on is None:
        item.done_on = timezone.localdate()
        item.save(update_fields=["done_on"])
        log_action(
            user=request.user, action=AuditAction.CHANGE, obj=item, changes={"fields": ["done_on"]}
        )
        messages.success(request, _("The action item is marked as done."))
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect(item.workshop)
