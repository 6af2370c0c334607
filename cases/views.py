from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from core.access import roles_required
from core.audit import changed_fields, log_action
from core.exports import csv_response, pdf_response, xlsx_response
from core.models import ASD_ROLES, PROVIDER_ROLES, AuditAction, Role
from core.pdf import render_pdf
from core.reauth import sensitive_action

from . import services
from .access import (
    can_manage_access,
    can_reassign_case,
    can_write_case,
    get_approval_for,
    get_case_for,
    get_deputy_assignment_for,
    get_entrusted_note_for_author,
    get_family_for,
    get_grant_for,
    get_help_for,
    get_plan_for,
    get_risk_assessment_for,
    sees_journal,
    sees_risk_assessments,
)
from .filters import CaseFilter
from .forms import (
    ApprovalDecisionForm,
    CaseAccessGrantForm,
    CaseCloseForm,
    CaseNoteForm,
    CaseOpenForm,
    ConfidentialForm,
    DeputyAssignmentForm,
    EndRatingFormSet,
    FamilyForm,
    GoalFormSet,
    HelpEndForm,
    HelpForm,
    HelpPlanForm,
    HoursChangeForm,
    NoteReaderForm,
    PersonForm,
    ReassignForm,
    ResourceForm,
    ResourceImportForm,
    RiskAssessmentForm,
    TeamConsultationForm,
)
from .models import (
    ApprovalStatus,
    Case,
    CaseAccessGrant,
    CaseNote,
    DeputyAssignment,
    Family,
    Person,
    Region,
    Resource,
    ResourceKind,
)
from .selectors import CASE_ROW_FIELDS, case_helps_for, case_rows, desk_for

CASE_ROLES = ASD_ROLES + PROVIDER_ROLES
CASES_PER_PAGE = 25
SORT_COLUMNS = [
    ("reference", _lazy("File number")),
    ("family", _lazy("Family")),
    ("opened", _lazy("Opened on")),
    ("owner", _lazy("Case owner")),
    ("status", _lazy("Status")),
]


def _audit_read(request, obj) -> None:
    """A form page shows personal data too: its first display is a read."""
    if request.method == "GET":
        log_action(user=request.user, action=AuditAction.VIEW, obj=obj, request=request)


def _show_errors(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


# --- Case list and export ---------------------------------------------------------


def _filtered_cases(request):
    base = Case.objects.visible_to(request.user).select_related("family__region", "owner", "team")
    case_filter = CaseFilter(request.GET or None, queryset=base, user=request.user)
    cases = case_filter.qs if case_filter.is_bound and case_filter.is_valid() else base
    return case_filter, cases


@roles_required(*CASE_ROLES)
def case_list(request):
    case_filter, cases = _filtered_cases(request)
    # The page reads only the columns the table shows, as plain rows (a values query
    # ignores the filter's select_related). Counted without the joins that only the
    # shown columns need.
    paginator = Paginator(cases.values_list(*CASE_ROW_FIELDS), CASES_PER_PAGE)
    paginator.count = cases.count()
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = case_rows(page.object_list)
    log_action(
        user=request.user,
        action=AuditAction.LIST,
        object_type="cases.case",
        changes={"filters": request.GET.dict(), "shown": [c.pk for c in page]},
        request=request,
    )
    return render(
        request,
        "cases/case_list.html",
        {
            "filter": case_filter,
            "page": page,
            "can_open_case": request.user.role in ASD_ROLES,
            "sort_columns": SORT_COLUMNS,
            "current_order": request.GET.get("ordering", ""),
        },
    )


@roles_required(*CASE_ROLES)
@sensitive_action
def case_export(request, fmt: str):
    __, cases = _filtered_cases(request)
    header = [
        _("File number"),
        _("Family"),
        _("Region"),
        _("Case owner"),
        _("Status"),
        _("Opened on"),
        _("Closed on"),
    ]
    rows = (
        [
            case.reference,
            case.family.name,
            case.family.region.name,
            str(case.owner),
            case.get_status_display(),
            case.opened_on.strftime("%d.%m.%Y"),
            case.closed_on.strftime("%d.%m.%Y") if case.closed_on else "",
        ]
        for case in cases.iterator(chunk_size=500)
    )
    log_action(
        user=request.user,
        action=AuditAction.EXPORT,
        object_type="cases.case",
        changes={"format": fmt, "filters": request.GET.dict()},
        request=request,
    )
    filename = f"faelle-{timezone.localdate():%Y-%m-%d}"
    if fmt == "xlsx":
        return xlsx_response(filename, header, rows)
    return csv_response(filename, header, rows)


# --- Opening a case ---------------------------------------------------------------


@roles_required(*ASD_ROLES)
def case_open(request):
    """A new family with its case, saved together or not at all."""
    family_form = FamilyForm(request.POST or None, prefix="family")
    case_form = CaseOpenForm(
        request.POST or None, prefix="case", initial={"opened_on": timezone.localdate()}
    )
    if request.method == "POST" and family_form.is_valid() and case_form.is_valid():
        try:
            case = services.open_case(
                family=family_form.save(commit=False),
                owner=request.user,
                opened_on=case_form.cleaned_data["opened_on"],
                by=request.user,
            )
        except ValidationError as error:
            _show_errors(request, error)
        else:
            messages.success(request, _("The case %(ref)s was opened.") % {"ref": case.reference})
            return redirect(case)
    return render(
        request, "cases/case_open.html", {"family_form": family_form, "case_form": case_form}
    )


@roles_required(*ASD_ROLES)
def family_case_open(request, pk: int):
    """Open a new case for a known family whose earlier case was closed."""
    family = get_family_for(request.user, pk)
    form = CaseOpenForm(request.POST or None, initial={"opened_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            case = services.open_case(
                family=family,
                owner=request.user,
                opened_on=form.cleaned_data["opened_on"],
                by=request.user,
            )
        except ValidationError as error:
            _show_errors(request, error)
        else:
            messages.success(request, _("The case %(ref)s was opened.") % {"ref": case.reference})
            return redirect(case)
    return render(request, "cases/family_case_open.html", {"family": family, "form": form})


# --- Case detail ------------------------------------------------------------------


@roles_required(*CASE_ROLES)
def case_detail(request, pk: int):
    user = request.user
    case = get_case_for(user, pk)
    context = {
        "case": case,
        "members": case.family.members.all(),
        "helps": case_helps_for(case, user),
        "can_write": can_write_case(user, case),
        "can_reassign": can_reassign_case(user, case),
        "can_manage_access": can_manage_access(user, case),
        "show_journal": sees_journal(user),
        "show_risk": sees_risk_assessments(user),
        "today": timezone.localdate(),
    }
    if context["show_journal"]:
        # § 65 SGB VIII: entrusted entries only for their author and the named readers.
        context["notes"] = CaseNote.objects.readable_by(user).filter(case=case)
        context["notes"] = context["notes"].select_related("author")[:50]
        context["note_form"] = CaseNoteForm()
    if context["can_manage_access"] and case.confidential:
        context["access_grants"] = _active_grants(case)
    if context["show_risk"]:
        context["assessments"] = case.risk_assessments.select_related(
            "first_assessor", "second_assessor"
        )
    log_action(user=user, action=AuditAction.VIEW, obj=case, request=request)
    return render(request, "cases/case_detail.html", context)


@roles_required(*ASD_ROLES)
def case_close(request, pk: int):
    case = get_case_for(request.user, pk, write=True)
    form = CaseCloseForm(
        request.POST or None, case=case, initial={"closed_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.close_case(
                case=case,
                on=form.cleaned_data["closed_on"],
                reason=form.cleaned_data["closing_reason"],
                note=form.cleaned_data["closing_note"],
                by=request.user,
            )
        except ValidationError as error:
            _show_errors(request, error)
        else:
            messages.success(request, _("The case was closed."))
            return redirect(case)
    return render(request, "cases/case_close.html", {"case": case, "form": form})


@roles_required(*ASD_ROLES)
def case_reassign(request, pk: int):
    case = get_case_for(request.user, pk)
    if not can_reassign_case(request.user, case):
        raise PermissionDenied
    form = ReassignForm(request.POST or None, case=case)
    if request.method == "POST" and form.is_valid():
        try:
            services.reassign_case(case=case, new_owner=form.cleaned_data["owner"], by=request.user)
        except ValidationError as error:
            _show_errors(request, error)
        else:
            messages.success(request, _("The case owner was changed."))
            return redirect(case)
    return render(request, "cases/case_reassign.html", {"case": case, "form": form})


@roles_required(*ASD_ROLES)
@require_POST
def note_add(request, pk: int):
    case = get_case_for(request.user, pk, write=True)
    form = CaseNoteForm(request.POST)
    if form.is_valid():
        services.add_note(
            case=case,
            kind=form.cleaned_data["kind"],
            text=form.cleaned_data["text"],
            entrusted=form.cleaned_data["entrusted"],
            by=request.user,
        )
        messages.success(request, _("The journal entry was saved."))
        return redirect(f"{case.get_absolute_url()}#journal")
    return render(request, "cases/note_form.html", {"case": case, "form": form}, status=400)


# --- § 35 SGB I: confidential cases and named access ------------------------------------


def _active_grants(case: Case):
    return (
        CaseAccessGrant.objects.active_on(timezone.localdate())
        .filter(case=case)
        .select_related("user", "granted_by")
        .order_by("user__last_name", "user__first_name")
    )


def _managed_case(request, pk: int) -> Case:
    case = get_case_for(request.user, pk)
    if not can_manage_access(request.user, case):
        raise PermissionDenied
    return case


def _render_access(request, case, *, grant_form=None, confidential_form=None, status=200):
    grants = (
        CaseAccessGrant.objects.filter(case=case)
        .select_related("user", "granted_by")
        .order_by("-granted_at", "-id")
    )
    return render(
        request,
        "cases/case_access.html",
        {
            "case": case,
            "grants": grants,
            "today": timezone.localdate(),
            "grant_form": grant_form
            or CaseAccessGrantForm(candidates=services.case_access_candidates(case)),
            "confidential_form": confidential_form
            or ConfidentialForm(initial={"confidential": case.confidential}),
        },
        status=status,
    )


@roles_required(*ASD_ROLES)
def case_access(request, pk: int):
    """Who may see a confidential case: the named people, with reason and time limit."""
    case = _managed_case(request, pk)
    _audit_read(request, case)
    if request.method != "POST":
        return _render_access(request, case)
    form = CaseAccessGrantForm(request.POST, candidates=services.case_access_candidates(case))
    if form.is_valid():
        try:
            grant = services.grant_case_access(
                case=case,
                user=form.cleaned_data["user"],
                reason=form.cleaned_data["reason"],
                valid_until=form.cleaned_data["valid_until"],
                by=request.user,
            )
        except ValidationError as error:
            _show_errors(request, error)
        else:
            messages.success(request, _("%(name)s was named for this case.") % {"name": grant.user})
            return redirect("cases:case_access", case.pk)
    return _render_access(request, case, grant_form=form, status=400)


@roles_required(*ASD_ROLES)
@sensitive_action
def case_confidential(request, pk: int):
    """Flag or unflag the case; after a password confirmation the GET leads back to the form."""
    case = _managed_case(request, pk)
    if request.method != "POST":
        return redirect("cases:case_access", case.pk)
    form = ConfidentialForm(request.POST)
    if not form.is_valid():
        return _render_access(request, case, confidential_form=form, status=400)
    services.set_confidential(
        case=case,
        confidential=form.cleaned_data["confidential"],
        reason=form.cleaned_data["reason"],
        by=request.user,
    )
    if case.confidential:
        messages.success(request, _("The case is now seen only by its owner and named people."))
    else:
        messages.success(request, _("The case is no longer restricted to named people."))
    if not Case.objects.visible_to(request.user).filter(pk=case.pk).exists():
        return redirect("cases:case_list")
    return redirect("cases:case_access", case.pk)


@roles_required(*ASD_ROLES)
@require_POST
def grant_revoke(request, pk: int):
    grant = get_grant_for(request.user, pk)
    services.revoke_case_access(grant=grant, by=request.user)
    messages.success(request, _("The access of %(name)s was revoked.") % {"name": grant.user})
    return redirect("cases:case_access", grant.case_id)


# --- Deputies during absence ---------------------------------------------------------------


@roles_required(Role.ASD_LEAD)
def deputy_list(request):
    """The team lead names deputies for absent caseworkers of her team, for a time."""
    candidates = services.deputy_candidates(request.user)
    form = DeputyAssignmentForm(
        request.POST or None,
        candidates=candidates,
        initial={"valid_from": timezone.localdate()},
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.assign_deputy(by=request.user, **form.cleaned_data)
            except ValidationError as error:
                _show_errors(request, error)
            else:
                messages.success(request, _("The deputy was assigned."))
                return redirect("cases:deputy_list")
    assignments = DeputyAssignment.objects.filter(absent__team_id=request.user.team_id)
    page = Paginator(
        assignments.select_related("absent", "deputy", "created_by"), CASES_PER_PAGE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "cases/deputy_list.html",
        {"form": form, "page": page, "today": timezone.localdate()},
        status=status,
    )


@roles_required(Role.ASD_LEAD)
@require_POST
def deputy_revoke(request, pk: int):
    assignment = get_deputy_assignment_for(request.user, pk)
    services.revoke_deputy(assignment=assignment, by=request.user)
    messages.success(request, _("The deputy assignment was revoked."))
    return redirect("cases:deputy_list")


# --- § 65 SGB VIII: readers of an entrusted journal entry ------------------------------------


@roles_required(*ASD_ROLES)
def note_readers(request, pk: int):
    note = get_entrusted_note_for_author(request.user, pk)
    _audit_read(request, note)
    form = NoteReaderForm(request.POST or None, candidates=services.note_reader_candidates(note))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                grant = services.grant_note_reader(
                    note=note,
                    user=form.cleaned_data["user"],
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
            except ValidationError as error:
                _show_errors(request, error)
            else:
                messages.success(
                    request, _("%(name)s may now read this entry.") % {"name": grant.user}
                )
                return redirect("cases:note_readers", note.pk)
    readers = note.grants.select_related("user", "granted_by").order_by("granted_at")
    return render(
        request,
        "cases/note_readers.html",
        {"note": note, "case": note.case, "form": form, "readers": readers},
        status=status,
    )


# --- Families and persons -------------------------------------------------------------


@roles_required(*CASE_ROLES)
def family_detail(request, pk: int):
    family = get_family_for(request.user, pk)
    cases = Case.objects.visible_to(request.user).filter(family=family).select_related("owner")
    can_write = Family.objects.writable_by(request.user).filter(pk=family.pk).exists()
    log_action(user=request.user, action=AuditAction.VIEW, obj=family, request=request)
    return render(
        request,
        "cases/family_detail.html",
        {
            "family": family,
            "members": family.members.all(),
            "cases": cases,
            "can_write": can_write,
            "can_open_case": request.user.role in ASD_ROLES
            and not any(case.is_open for case in cases),
        },
    )


@roles_required(*ASD_ROLES)
def family_edit(request, pk: int):
    family = get_family_for(request.user, pk, write=True)
    _audit_read(request, family)
    form = FamilyForm(request.POST or None, instance=family)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            log_action(
                user=request.user,
                action=AuditAction.CHANGE,
                obj=family,
                changes={"fields": changed_fields(form)},
            )
        messages.success(request, _("The family's details were saved."))
        return redirect(family)
    return render(request, "cases/family_form.html", {"family": family, "form": form})


@roles_required(*ASD_ROLES)
def person_add(request, pk: int):
    family = get_family_for(request.user, pk, write=True)
    form = PersonForm(request.POST or None, initial={"last_name": family.name})
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            person = form.save(commit=False)
            person.family = family
            person.save()
            log_action(user=request.user, action=AuditAction.CREATE, obj=person)
        messages.success(request, _("%(name)s was added to the family.") % {"name": person})
        return redirect(family)
    return render(request, "cases/person_form.html", {"family": family, "form": form})


@roles_required(*ASD_ROLES)
def person_edit(request, pk: int):
    person = get_object_or_404(
        Person.objects.filter(family__in=Family.objects.visible_to(request.user)).select_related(
            "family"
        ),
        pk=pk,
    )
    family = get_family_for(request.user, person.family_id, write=True)
    _audit_read(request, person)
    form = PersonForm(request.POST or None, instance=person)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            log_action(
                user=request.user,
                action=AuditAction.CHANGE,
                obj=person,
                changes={"fields": changed_fields(form)},
            )
        messages.success(request, _("The person's details were saved."))
        return redirect(family)
    return render(
        request, "cases/person_form.html", {"family": family, "form": form, "person": person}
    )


# --- Helps and approvals -----------------------------------------------------------


@roles_required(*ASD_ROLES)
def help_add(request, pk: int):
    case = get_case_for(request.user, pk, write=True)
    form = HelpForm(request.POST or None, case=case, initial={"start": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        help = form.save(commit=False)
        help.case = case
        try:
            services.request_help(
                help=help,
                by=request.user,
                reason=form.cleaned_data["reason"],
                resources=form.cleaned_data["resources"],
            )
        except ValidationError as error:
            _show_errors(request, error)
        else:
            messages.success(
                request, _("The help was recorded and now waits for the team lead's approval.")
            )
            return redirect(case)
    return render(request, "cases/help_form.html", {"case": case, "form": form})


@roles_required(*ASD_ROLES)
def help_end(request, pk: int):
    help = get_help_for(request.user, pk, write=True)
    form = HelpEndForm(request.POST or None, help=help, initial={"end": timezone.localdate()})
    plan = help.plans.filter(is_current=True).first()
    goals = list(plan.goals.all()) if plan else []
    ratings = EndRatingFormSet(
        request.POST or None, prefix="ratings", initial=[{"goal": g.pk} for g in goals]
    )
    if request.method == "POST" and form.is_valid() and ratings.is_valid():
        try:
            services.end_help(
                help=help,
                on=form.cleaned_data["end"],
                reason=form.cleaned_data["end_reason"],
                by=request.user,
                ratings=[
                    (
                        r.cleaned_data["goal"],
                        r.cleaned_data.get("professional"),
                        r.cleaned_data.get("own"),
                    )
                    for r in ratings
                    if r.cleaned_data
                ],
            )
        except ValidationError as error:
            _show_errors(request, error)
        else:
            messages.success(request, _("The help was ended."))
            return redirect(help.case)
    return render(
        request,
        "cases/help_end.html",
        {
            "help": help,
            "form": form,
            "ratings": list(zip(goals, ratings, strict=False)),
            "ratings_formset": ratings,
        },
    )


@roles_required(*ASD_ROLES)
def help_hours_change(request, pk: int):
    help = get_help_for(request.user, pk, write=True)
    form = HoursChangeForm(
        request.POST or None, initial={"proposed_hours_per_month": help.planned_hours_per_month}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.request_hours_change(
                help=help,
                hours=form.cleaned_data["proposed_hours_per_month"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except ValidationError as error:
            _show_errors(request, error)
        else:
            messages.success(request, _("The new hours wait for the team lead's approval."))
            return redirect(help.case)
    return render(request, "cases/help_hours.html", {"help": help, "form": form})


@roles_required(*ASD_ROLES)
def approval_decide(request, pk: int):
    approval = get_approval_for(request.user, pk)
    if not services.can_decide(approval, request.user) or not approval.is_pending:
        raise PermissionDenied
    _audit_read(request, approval.help)
    form = ApprovalDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.decide_approval(
                approval=approval,
                approve=form.cleaned_data["decision"] == ApprovalStatus.APPROVED,
                comment=form.cleaned_data["comment"],
                by=request.user,
            )
        except ValidationError as error:
            _show_errors(request, error)
        else:
            messages.success(request, _("Your decision was saved."))
            return redirect("desk")
    return render(request, "cases/approval_decide.html", {"approval": approval, "form": form})


# --- Help plans -------------------------------------------------------------------


@roles_required(*ASD_ROLES)
def plan_new(request, pk: int):
    help = get_help_for(request.user, pk, write=True)
    if not help.is_approved or help.is_ended:
        messages.error(request, _("A help plan is written for an approved, running help."))
        return redirect(help.case)
    _audit_read(request, help)
    current = help.plans.filter(is_current=True).prefetch_related("goals").first()
    initial = {
        "based_on_version": current.version if current else 0,
        "resources": list(help.resources.values_list("pk", flat=True)),
    }
    goal_initial = []
    if current:
        initial.update(participants=current.participants, agreed_steps=current.agreed_steps)
        goal_initial = [
            {"description": g.description, "status": g.status, "origin": g.pk}
            for g in current.goals.all()
        ]
    form = HelpPlanForm(request.POST or None, help=help, initial=initial)
    goals = GoalFormSet(request.POST or None, prefix="goals", initial=goal_initial)
    conflict = False
    if request.method == "POST" and form.is_valid() and goals.is_valid():
        try:
            plan = services.save_help_plan(
                help=help,
                based_on_version=form.cleaned_data["based_on_version"],
                plan=form.save(commit=False),
                goals=goals.goals(),
                by=request.user,
                resources=form.cleaned_data["resources"],
            )
        except services.PlanConflict:
            conflict = True
            messages.error(
                request,
                _(
                    "Someone else saved a newer version of this help plan while you were "
                    "writing. Your text is still in the form below; compare it with the "
                    "current version and save again."
                ),
            )
            form.data = form.data.copy()
            latest = help.plans.filter(is_current=True).first()
            form.data["based_on_version"] = latest.version if latest else 0
        else:
            messages.success(
                request, _("Version %(v)s of the help plan was saved.") % {"v": plan.version}
            )
            return redirect(help.case)
    status = 409 if conflict else 200
    return render(
        request,
        "cases/plan_form.html",
        {"help": help, "form": form, "goals": goals, "current": current, "conflict": conflict},
        status=status,
    )


@roles_required(*CASE_ROLES)
def plan_detail(request, pk: int):
    plan = get_plan_for(request.user, pk)
    log_action(user=request.user, action=AuditAction.VIEW, obj=plan, request=request)
    return render(
        request,
        "cases/plan_detail.html",
        {"plan": plan, "goals": plan.goals.all(), "help": plan.help},
    )


@roles_required(*CASE_ROLES)
@sensitive_action
def plan_pdf(request, pk: int):
    plan = get_plan_for(request.user, pk)
    pdf = render_pdf(
        "cases/plan_pdf.html",
        {
            "plan": plan,
            "goals": plan.goals.all(),
            "help": plan.help,
            "case": plan.help.case,
            "printed_at": timezone.localtime(),
        },
    )
    log_action(
        user=request.user,
        action=AuditAction.EXPORT,
        obj=plan,
        changes={"format": "pdf"},
        request=request,
    )
    return pdf_response(pdf, f"hilfeplan-{plan.help.case.reference}-v{plan.version}")


# --- § 8a risk assessments ----------------------------------------------------------


@roles_required(*ASD_ROLES)
def risk_assessment_add(request, pk: int):
    case = get_case_for(request.user, pk, write=True)
    form = RiskAssessmentForm(
        request.POST or None, case=case, initial={"report_received_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            assessment = form.save(commit=False)
            assessment.created_by = request.user
            assessment.save()
            log_action(user=request.user, action=AuditAction.CREATE, obj=assessment)
        messages.success(request, _("The § 8a assessment was saved."))
        return redirect(f"{case.get_absolute_url()}#risk")
    return render(request, "cases/risk_form.html", {"case": case, "form": form})


@roles_required(*ASD_ROLES)
def risk_assessment_edit(request, pk: int):
    assessment = get_risk_assessment_for(request.user, pk)
    case = assessment.case
    writable = can_write_case(request.user, case)
    if request.method == "POST" and not writable:
        raise PermissionDenied
    form = RiskAssessmentForm(request.POST or None, instance=assessment, case=case)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            log_action(
                user=request.user,
                action=AuditAction.CHANGE,
                obj=assessment,
                changes={"fields": changed_fields(form)},
            )
        messages.success(request, _("The § 8a assessment was saved."))
        return redirect(f"{case.get_absolute_url()}#risk")
    if request.method == "GET":
        log_action(user=request.user, action=AuditAction.VIEW, obj=assessment, request=request)
    return render(
        request,
        "cases/risk_form.html",
        {"case": case, "form": form, "assessment": assessment, "readonly": not writable},
    )


# --- The desk (start page) ---------------------------------------------------------


@login_required
def desk(request):
    user = request.user
    if not user.sees_case_data:
        return render(request, "core/home.html")
    today = timezone.localdate()
    return render(
        request,
        "cases/desk.html",
        {"desk": desk_for(user, today), "today": today, "is_lead": user.role == Role.ASD_LEAD},
    )


# --- § 36 (2) team consultations ------------------------------------------------------


@roles_required(*ASD_ROLES)
def consultation_add(request, pk: int):
    case = get_case_for(request.user, pk, write=True)
    form = TeamConsultationForm(
        request.POST or None, case=case, initial={"held_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.record_team_consultation(
                case=case,
                held_on=data["held_on"],
                participants=data["participants"],
                options_considered=data["options_considered"],
                decision=data["decision"],
                reasons=data["reasons"],
                by=request.user,
            )
        except ValidationError as error:
            _show_errors(request, error)
        else:
            messages.success(request, _("The team consultation was recorded."))
            return redirect(case)
    return render(
        request,
        "cases/consultation_form.html",
        {"case": case, "form": form},
        status=400 if form.is_bound else 200,
    )


# --- The region's resource map (Ressourcenplan) ------------------------------------

RESOURCE_EDIT_ROLES = ASD_ROLES + PROVIDER_ROLES
RESOURCE_READ_ROLES = RESOURCE_EDIT_ROLES + (Role.DEPARTMENT_HEAD, Role.CONTROLLER)
RESOURCE_COLUMNS = [
    "region",
    "organisation",
    "kind",
    "street",
    "postal_code",
    "city",
    "contact_person",
    "phone",
    "email",
    "offer",
    "opening_times",
    "notes",
]


def _filtered_resources(request):
    resources = Resource.objects.select_related("region").with_active_help_count()
    # PostgreSQL refuses a NUL in a query string literal: drop it before it reaches the filter.
    region = request.GET.get("region", "").replace("\x00", "")
    kind = request.GET.get("kind", "")
    text = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    if region:
        resources = resources.filter(region__slug=region)
    if kind in ResourceKind.values:
        resources = resources.filter(kind=kind)
    if text:
        resources = resources.filter(
            Q(organisation__icontains=text) | Q(offer__icontains=text) | Q(notes__icontains=text)
        )
    return resources.order_by("region__name", "organisation"), {
        "region": region,
        "kind": kind,
        "q": text,
    }


@roles_required(*RESOURCE_READ_ROLES)
def resource_list(request):
    resources, filters = _filtered_resources(request)
    page = Paginator(resources, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "cases/resource_list.html",
        {
            "page": page,
            "filters": filters,
            "regions": Region.objects.order_by("name"),
            "kinds": ResourceKind.choices,
            "can_edit": request.user.role in RESOURCE_EDIT_ROLES,
            # The office sees which parts of the network carry the work, not who to call.
            "details": request.user.role in RESOURCE_EDIT_ROLES,
        },
    )


@roles_required(*RESOURCE_EDIT_ROLES)
def resource_edit(request, pk: int | None = None):
    resource = get_object_or_404(Resource, pk=pk) if pk else None
    form = ResourceForm(request.POST or None, instance=resource)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save()
            log_action(
                user=request.user,
                action=AuditAction.CHANGE if resource else AuditAction.CREATE,
                obj=saved,
                changes={"fields": changed_fields(form)},
            )
        messages.success(request, _("%(name)s was saved.") % {"name": saved.organisation})
        return redirect("resources:resource_list")
    return render(
        request,
        "cases/resource_form.html",
        {"form": form, "resource": resource},
        status=400 if form.is_bound else 200,
    )


def _resource_rows(resources):
    for r in resources:
        yield [
            r.region.slug,
            r.organisation,
            r.kind,
            r.street,
            r.postal_code,
            r.city,
            r.contact_person,
            r.phone,
            r.email,
            r.offer,
            r.opening_times,
            r.notes,
        ]


@roles_required(*RESOURCE_EDIT_ROLES)
def resource_export(request):
    resources, filters = _filtered_resources(request)
    log_action(
        user=request.user,
        action=AuditAction.EXPORT,
        object_type="cases.resource",
        changes={"format": "csv", "filters": filters},
        request=request,
    )
    return csv_response("ressourcenplan", RESOURCE_COLUMNS, _resource_rows(resources))


@roles_required(*RESOURCE_EDIT_ROLES)
def resource_print(request):
    resources, filters = _filtered_resources(request)
    pdf = render_pdf(
        "cases/resource_pdf.html",
        {
            "resources": resources,
            "filters": filters,
            "printed_at": timezone.localtime(),
            "region": Region.objects.filter(slug=filters["region"]).first(),
        },
    )
    log_action(
        user=request.user,
        action=AuditAction.EXPORT,
        object_type="cases.resource",
        changes={"format": "pdf", "filters": filters},
        request=request,
    )
    return pdf_response(pdf, "ressourcenplan")


@roles_required(*RESOURCE_EDIT_ROLES)
def resource_import(request):
    form = ResourceImportForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            created = services.import_resources(file=form.cleaned_data["file"], by=request.user)
        except services.ImportErrors as failure:
            errors = failure.lines
        else:
            messages.success(request, _("%(n)s entries were imported.") % {"n": created})
            return redirect("resources:resource_list")
    return render(
        request,
        "cases/resource_import.html",
        {"form": form, "errors": errors, "columns": RESOURCE_COLUMNS},
        status=400 if form.is_bound else 200,
    )
