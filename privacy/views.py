"""Retention pages: rules, what is due, runs and their protocol, legal holds, and
reading a restricted case with a logged reason."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.models import CaseNote, Help
from core.access import roles_required
from core.audit import changed_fields, log_action
from core.forms import add_service_errors
from core.models import AuditAction, Role
from core.reauth import sensitive_action

from . import selectors, services
from .forms import (
    DecisionForm,
    LegalHoldForm,
    LiftHoldForm,
    RejectForm,
    RestrictedReasonForm,
    RetentionRuleForm,
)
from .models import DeletionProtocol, RetentionRule, RetentionRun

DSB = Role.DATA_PROTECTION
HOLD_ROLES = (Role.DATA_PROTECTION, Role.ASD_LEAD)
RESTRICTED_ROLES = (Role.ASD, Role.ASD_LEAD, Role.DATA_PROTECTION)


# --- Rules ----------------------------------------------------------------------------


@roles_required(DSB)
def retention_rules(request):
    rules = RetentionRule.objects.select_related("updated_by")
    return render(request, "privacy/retention_rules.html", {"rules": rules})


@roles_required(DSB)
def retention_rule_edit(request, pk: int):
    rule = get_object_or_404(RetentionRule, pk=pk)
    form = RetentionRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        rule = form.save(commit=False)
        rule.updated_by = request.user
        rule.save()
        log_action(
            user=request.user,
            action=AuditAction.CHANGE,
            obj=rule,
            changes={"fields": changed_fields(form)},
            request=request,
        )
        messages.success(request, _("The retention rule was saved."))
        return redirect("privacy:retention_rules")
    return render(
        request,
        "privacy/retention_rule_form.html",
        {"form": form, "rule": rule},
        status=400 if form.is_bound else 200,
    )


# --- What is due and the runs --------------------------------------------------------------


@roles_required(DSB)
def retention_due(request):
    """Fällig: what each rule makes due today; legal holds apart. POST proposes a run."""
    if request.method == "POST":
        run = services.propose_run()
        if run is None:
            messages.info(request, _("Nothing is due, or a run is being carried out."))
            return redirect("privacy:retention_due")
        return redirect("privacy:retention_run", pk=run.pk)
    context = {
        "due": selectors.due_per_rule(),
        "held": selectors.held_cases().order_by("reference")[:200],
        "held_count": selectors.held_cases().count(),
    }
    return render(request, "privacy/retention_due.html", context)


@roles_required(DSB)
def retention_runs(request):
    page = Paginator(RetentionRun.objects.select_related("decided_by"), 25).get_page(
        request.GET.get("page")
    )
    return render(request, "privacy/retention_runs.html", {"page": page})


def _run_context(request, run: RetentionRun) -> dict:
    rules = {rule.pk: rule for rule in RetentionRule.objects.all()}
    entries = [
        {**entry, "rule_obj": rules.get(entry["rule"])} for entry in run.due.get("rules", [])
    ]
    summary = (
        DeletionProtocol.objects.filter(run=run)
        .values("record_type", "action")
        .annotate(entries=Count("id"), records=Sum("object_count"))
        .order_by("record_type", "action")
    )
    protocol = Paginator(DeletionProtocol.objects.filter(run=run), 50).get_page(
        request.GET.get("page")
    )
    return {"run": run, "entries": entries, "summary": summary, "protocol": protocol}


@roles_required(DSB)
def retention_run(request, pk: int):
    run = get_object_or_404(RetentionRun.objects.select_related("decided_by"), pk=pk)
    context = _run_context(request, run)
    context.update(approve_form=DecisionForm(), reject_form=RejectForm())
    return render(request, "privacy/retention_run.html", context)


@roles_required(DSB)
def retention_run_status(request, pk: int):
    """The progress box of a run, polled by htmx while it is carried out."""
    run = get_object_or_404(RetentionRun, pk=pk)
    return render(request, "privacy/retention_run_status.html", {"run": run})


@roles_required(DSB)
@require_POST
@sensitive_action
def retention_run_approve(request, pk: int):
    run = get_object_or_404(RetentionRun, pk=pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            services.approve_run(
                run=run, by=request.user, comment=form.cleaned_data["comment"], request=request
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The run was approved and is being carried out."))
    return redirect("privacy:retention_run", pk=run.pk)


@roles_required(DSB)
@require_POST
def retention_run_reject(request, pk: int):
    run = get_object_or_404(RetentionRun, pk=pk)
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            services.reject_run(
                run=run, by=request.user, comment=form.cleaned_data["comment"], request=request
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The run was rejected; nothing was changed."))
            return redirect("privacy:retention_run", pk=run.pk)
    context = _run_context(request, run)
    context.update(approve_form=DecisionForm(), reject_form=form)
    return render(request, "privacy/retention_run.html", context, status=400)


# --- Legal holds ------------------------------------------------------------------------------


@roles_required(*HOLD_ROLES)
def retention_holds(request):
    cases = selectors.hold_cases_for(request.user)
    form = LegalHoldForm(request.POST or None, cases=cases)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_legal_hold(
                case=form.cleaned_data["case"],
                by=request.user,
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The legal hold was set."))
            return redirect("privacy:retention_holds")
    page = Paginator(selectors.holds_visible_to(request.user).order_by("reference"), 50).get_page(
        request.GET.get("page")
    )
    status = 400 if form.errors else 200
    context = {"form": form, "page": page, "lift_form": LiftHoldForm()}
    return render(request, "privacy/retention_holds.html", context, status=status)


@roles_required(*HOLD_ROLES)
@require_POST
def retention_hold_lift(request, pk: int):
    case = get_object_or_404(selectors.holds_visible_to(request.user), pk=pk)
    form = LiftHoldForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please give a reason for lifting the legal hold."))
        return redirect("privacy:retention_holds")
    services.lift_legal_hold(
        case=case, by=request.user, reason=form.cleaned_data["reason"], request=request
    )
    messages.success(
        request, _("The legal hold on %(reference)s was lifted.") % {"reference": case.reference}
    )
    return redirect("privacy:retention_holds")


# --- Restricted cases ---------------------------------------------------------------------------


@roles_required(*RESTRICTED_ROLES)
def restricted_cases(request):
    cases = selectors.restricted_cases_for(request.user).select_related("team")
    page = Paginator(cases.order_by("reference"), 50).get_page(request.GET.get("page"))
    return render(request, "privacy/restricted_cases.html", {"page": page})


@roles_required(*RESTRICTED_ROLES)
def restricted_access(request, pk: int):
    case = get_object_or_404(selectors.restricted_cases_for(request.user), pk=pk)
    form = RestrictedReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.open_restricted_case(
                case=case, by=request.user, reason=form.cleaned_data["reason"], request=request
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("privacy:restricted_case", pk=case.pk)
    status = 400 if form.errors else 200
    return render(
        request, "privacy/restricted_access.html", {"case": case, "form": form}, status=status
    )


@roles_required(*RESTRICTED_ROLES)
def restricted_case(request, pk: int):
    """A read-only summary of the restricted case, while the reader's access lasts."""
    cases = selectors.restricted_cases_for(request.user).select_related("family", "team", "owner")
    case = get_object_or_404(
        cases.prefetch_related(
            "family__members",
            Prefetch("helps", queryset=Help.objects.select_related("provider")),
            Prefetch(
                "notes",
                # § 65: entrusted entries stay with their author even here.
                queryset=CaseNote.objects.exclude(entrusted=True).select_related("author"),
            ),
        ),
        pk=pk,
    )
    access = selectors.current_restricted_access(request.user, case)
    if access is None:
        return redirect("privacy:restricted_access", pk=case.pk)
    shows_risk = request.user.role in (Role.ASD, Role.ASD_LEAD)
    log_action(
        user=request.user,
        action=AuditAction.VIEW,
        obj=case,
        changes={"restricted_access": access.pk},
        request=request,
    )
    context = {
        "case": case,
        "access": access,
        "risk_assessments": case.risk_assessments.all() if shows_risk else None,
    }
    return render(request, "privacy/restricted_case.html", context)
