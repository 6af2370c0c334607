from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.models import Region
from core import charts
from core.access import roles_required
from core.audit import log_action
from core.exports import csv_response, xlsx_response
from core.figures import generation as figures_generation
from core.forms import add_service_errors
from core.models import AuditAction, Role
from core.reauth import sensitive_action

from . import services
from .dashboard import charts_for, dashboard_or_last, labelled, region_years
from .forms import (
    CloseMonthForm,
    DecisionForm,
    PostingForm,
    ReallocationForm,
    ReverseReallocationForm,
)
from .models import (
    BUDGET_ROLES,
    PlanLine,
    Posting,
    Reallocation,
    ReallocationStatus,
    ServiceContract,
    SubBudgetKind,
)

VIEW_ROLES = (*BUDGET_ROLES, Role.PROVIDER_LEAD)


FIRST_YEAR, LAST_YEAR = 2000, 2100


def _year_param(request) -> int:
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year", today.year))
    except ValueError:
        messages.warning(request, _("The year was not understood; showing this year."))
        return today.year
    if not FIRST_YEAR <= year <= LAST_YEAR:
        messages.warning(request, _("The year was not understood; showing this year."))
        return today.year
    return year


def _visible_regions(user, year: int | None = None):
    """All regions for the office; for a provider lead those where her provider has a
    contract (in `year`, if given), so she sees her own contracts only."""
    if user.role in BUDGET_ROLES:
        return Region.objects.order_by("name")
    contracts = ServiceContract.objects.visible_to(user)
    if year is not None:
        contracts = contracts.filter(year=year)
    return Region.objects.filter(contracts__in=contracts).distinct().order_by("name")


@roles_required(*VIEW_ROLES)
def dashboard(request):
    user, today = request.user, timezone.localdate()
    year = _year_param(request)
    visible = list(_visible_regions(user, year))
    region_filter = request.GET.get("region")
    regions = visible
    if region_filter:
        regions = [r for r in visible if r.slug == region_filter] or visible
    office_wide = user.role in BUDGET_ROLES and regions is visible
    # After a change the last figures are shown while a task computes the current ones.
    computed = dashboard_or_last(year, regions, today, known_generation=figures_generation())
    figures, generation = computed.value, computed.generation
    current, previous = figures.current, figures.previous
    if user.role not in BUDGET_ROLES:
        scope = {r.pk for r in _visible_regions(user, year - 1)}
        previous = {pk: ry for pk, ry in previous.items() if pk in scope}
    rows = [
        {
            "now": ry,
            "before": previous.get(ry.region_id),
            "before_shown": ry.region_id in previous,
        }
        for ry in current
    ]
    pending = Reallocation.objects.filter(
        contract__in=ServiceContract.objects.visible_to(user), status=ReallocationStatus.PROPOSED
    ).select_related("contract", "proposed_by")
    # A provider lead sees last year's figures only of regions she had a contract in then;
    # a comparison over fewer regions would mislead, so then it is left out.
    previous_too = user.role in BUDGET_ROLES or len(previous) == len(current)
    context = {
        "year": year,
        "rows": rows,
        # The office sees every region in every year: no second query for the filter.
        "regions": visible if user.role in BUDGET_ROLES else _visible_regions(user),
        "region_filter": region_filter or "",
        "drill": labelled(figures.drill),
        # The effectiveness figures belong to controlling, which provides them to this
        # page through a template tag (budgets does not import controlling). None: the
        # office sees every region (computed without a region condition).
        "effect_regions": None if office_wide else regions,
        "effect_previous_too": previous_too,
        "pending": pending,
        "can_decide": user.role == Role.DEPARTMENT_HEAD,
        "previous_year": year - 1,
        "next_year": year + 1,
        "refreshing": computed.refreshing,
        "placeholder": computed.placeholder,
        "computed_at": computed.computed_at,
        # The page's sections are cached under the computation of the figures they show
        # (none: no cache); one computation is of one day and one generation.
        "fragment_key": generation
        and (
            f"{generation}:{computed.computed_at.timestamp()}:{year}"
            f":{settings.KIJUFAZ_SUPPRESSION_THRESHOLD}"
        ),
        "effect_key": ",".join(str(r.pk) for r in regions),
        "month_labels": charts.MONTH_LABELS,
    }
    return render(request, "budgets/dashboard.html", context)


# The dashboard's two charts per region, by the name in their URL.
CHART_KINDS = {"burn": "burn_chart", "share": "share_chart"}


@roles_required(*VIEW_ROLES)
def dashboard_chart(request, region_id: int, year: int, kind: str):
    """One chart of a region's dashboard section, as an SVG image.

    The page links its charts (loaded when scrolled into view) instead of carrying all
    fifty inline: 2.8 MB of HTML at city scale. A region the user does not see, or
    one without a contract in the year, answers 404 like a missing one.
    """
    if kind not in CHART_KINDS or not FIRST_YEAR <= year <= LAST_YEAR:
        raise Http404
    # The figures of all her regions: the same cached figures the page read.
    regions = list(_visible_regions(request.user, year))
    if region_id not in {r.pk for r in regions}:
        raise Http404
    # The figures the page showed (perhaps the last ones, while the current are computed).
    # Computed here if there are none yet (the page that linked it had them: the cache
    # was emptied since).
    figures = dashboard_or_last(year, regions, timezone.localdate(), placeholder=False).value
    ry = next((ry for ry in figures.current if ry.region_id == region_id), None)
    if ry is None or ry.contract is None:
        raise Http404
    svg = charts.svg_of(charts_for(ry)[CHART_KINDS[kind]])
    return HttpResponse(svg, content_type="image/svg+xml")


@roles_required(*VIEW_ROLES)
def dashboard_export(request, fmt: str):
    today = timezone.localdate()
    year = _year_param(request)
    regions = list(_visible_regions(request.user, year))
    header = [
        _("Year"),
        _("Region"),
        _("Sub-budget"),
        _("Planned (€)"),
        _("Booked (€)"),
        _("Committed (€)"),
        _("Forecast (€)"),
        _("Utilisation (%)"),
    ]
    rows = []
    for ry in region_years(year, regions, today, detailed=False):
        for figures in (ry.flexible, ry.stationary):
            rows.append(
                [
                    year,
                    ry.region_name,
                    str(figures.label),
                    figures.planned,
                    figures.booked,
                    figures.committed,
                    figures.forecast,
                    figures.utilisation,
                ]
            )
    log_action(
        user=request.user,
        action=AuditAction.EXPORT,
        object_type="budgets.dashboard",
        changes={"format": fmt, "year": year},
        request=request,
    )
    filename = f"budgets-{year}"
    if fmt == "xlsx":
        return xlsx_response(filename, header, rows)
    return csv_response(filename, header, rows)


def _get_contract(request, pk: int) -> ServiceContract:
    return get_object_or_404(
        ServiceContract.objects.visible_to(request.user).select_related("region"), pk=pk
    )


@roles_required(*VIEW_ROLES)
def contract_detail(request, pk: int):
    contract = _get_contract(request, pk)
    (figures,) = region_years(
        contract.year,
        [contract.region],
        timezone.localdate(),
        detailed=False,
        contracts=[contract],
        reach=False,
    )
    postings = (
        Posting.objects.filter(sub_budget__contract=contract)
        .select_related("created_by", "corrects")
        .order_by("-booked_on", "-id")
    )
    page = Paginator(postings, 25).get_page(request.GET.get("page"))
    # countered_by is a reverse one-to-one: joined, not prefetched (one query fewer).
    reallocations = contract.reallocations.select_related(
        "proposed_by", "decided_by", "counter_of", "countered_by"
    )
    can_book = request.user.role in BUDGET_ROLES
    return render(
        request,
        "budgets/contract_detail.html",
        {
            "contract": contract,
            "figures": figures,
            "page": page,
            "reallocations": reallocations,
            "plan_lines": PlanLine.objects.filter(sub_budget__contract=contract)
            .select_related("sub_budget")
            .order_by("sub_budget__kind", "category"),
            "closed_months": contract.closed_months.all(),
            "can_book": can_book,
            "can_decide": request.user.role == Role.DEPARTMENT_HEAD,
            "posting_form": PostingForm(postings=postings) if can_book else None,
            "reallocation_form": ReallocationForm() if can_book else None,
            "close_form": CloseMonthForm() if request.user.role == Role.DEPARTMENT_HEAD else None,
        },
    )


@roles_required(*BUDGET_ROLES)
def posting_new(request, pk: int):
    contract = _get_contract(request, pk)
    postings = Posting.objects.filter(
        sub_budget__contract=contract, sub_budget__kind=SubBudgetKind.FLEXIBLE
    )
    form = PostingForm(request.POST or None, postings=postings)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.book_posting(
                contract=contract,
                booked_on=data["booked_on"],
                amount=data["amount"],
                category=data["category"],
                text=data["text"],
                corrects=data["corrects"],
                override_reason=data["override_reason"],
                by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The posting was booked."))
            return redirect(contract)
    return render(
        request,
        "budgets/posting_form.html",
        {"contract": contract, "form": form},
        status=400 if form.is_bound else 200,
    )


@roles_required(*BUDGET_ROLES)
def reallocation_new(request, pk: int):
    contract = _get_contract(request, pk)
    form = ReallocationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.propose_reallocation(
                contract=contract,
                direction=form.cleaned_data["direction"],
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("The reallocation was proposed; the department head decides on it.")
            )
            return redirect(contract)
    return render(
        request,
        "budgets/reallocation_form.html",
        {"contract": contract, "form": form},
        status=400 if form.is_bound else 200,
    )


def _get_reallocation(request, pk: int) -> Reallocation:
    return get_object_or_404(
        Reallocation.objects.filter(
            contract__in=ServiceContract.objects.visible_to(request.user)
        ).select_related("contract__region", "proposed_by"),
        pk=pk,
    )


@roles_required(Role.DEPARTMENT_HEAD)
@sensitive_action
def reallocation_decide(request, pk: int):
    reallocation = _get_reallocation(request, pk)
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.decide_reallocation(
                reallocation=reallocation,
                approve=form.cleaned_data["decision"] == "approve",
                comment=form.cleaned_data["comment"],
                override_reason=form.cleaned_data["override_reason"],
                by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your decision was saved."))
            return redirect("budgets:dashboard")
    return render(
        request,
        "budgets/reallocation_decide.html",
        {"reallocation": reallocation, "form": form},
        status=400 if form.is_bound else 200,
    )


@roles_required(*BUDGET_ROLES)
def reallocation_reverse(request, pk: int):
    original = _get_reallocation(request, pk)
    form = ReverseReallocationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.propose_reallocation(
                contract=original.contract,
                direction=original.direction,
                amount=original.amount,
                reason=form.cleaned_data["reason"],
                by=request.user,
                counter_of=original,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The counter-reallocation was proposed."))
            return redirect(original.contract)
    return render(
        request,
        "budgets/reallocation_reverse.html",
        {"reallocation": original, "form": form},
        status=400 if form.is_bound else 200,
    )


@roles_required(Role.DEPARTMENT_HEAD)
@require_POST
def close_month(request, pk: int):
    contract = _get_contract(request, pk)
    form = CloseMonthForm(request.POST)
    if form.is_valid():
        try:
            services.close_month(
                contract=contract, month=form.cleaned_data["month"], by=request.user
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("The month was closed; it now takes only corrections."))
    else:
        messages.error(request, _("Please give a valid date of the month to close."))
    return redirect(contract)
