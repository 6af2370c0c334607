"""Access request pages for the data protection officer (Art. 15 GDPR, § 83 SGB X)."""

from django import forms
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from cases.models import Person
from core.access import roles_required
from core.audit import log_action
from core.exports import pdf_response
from core.forms import DateInput
from core.models import AuditAction, Role
from core.pdf import render_pdf
from core.reauth import sensitive_action

from .access_request import (
    SECTION_LABELS,
    as_json,
    collect_person_data,
    find_persons,
    for_print,
    section_counts,
)

PERSONS_PER_PAGE = 25


class PersonSearchForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    birth_date = forms.DateField(label=_("Date of birth"), required=False, widget=DateInput())

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("name") and not cleaned.get("birth_date"):
            raise forms.ValidationError(_("Enter a name or a date of birth."))
        return cleaned


def _person_for_request(pk: int) -> Person:
    return get_object_or_404(Person.objects.select_related("family"), pk=pk)


def _audit_export(request, person: Person, fmt: str) -> None:
    log_action(
        user=request.user,
        action=AuditAction.EXPORT,
        obj=person,
        changes={"format": fmt, "purpose": "access_request"},
        request=request,
    )


def _filename(person: Person) -> str:
    """Without the extension."""
    return f"auskunft-person-{person.pk}-{timezone.localdate():%Y-%m-%d}"


@never_cache
@roles_required(Role.DATA_PROTECTION)
def access_request(request):
    searched = "name" in request.GET or "birth_date" in request.GET
    form = PersonSearchForm(request.GET if searched else None)
    page = None
    if form.is_bound and form.is_valid():
        persons = find_persons(
            name=form.cleaned_data["name"], birth_date=form.cleaned_data["birth_date"]
        )
        page = Paginator(persons, PERSONS_PER_PAGE).get_page(request.GET.get("page"))
        log_action(
            user=request.user,
            action=AuditAction.LIST,
            object_type="cases.person",
            changes={"purpose": "access_request", "shown": [p.pk for p in page]},
            request=request,
        )
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(
        request, "privacy/access_request.html", {"form": form, "page": page}, status=status
    )


@never_cache
@roles_required(Role.DATA_PROTECTION)
def access_request_preview(request, pk: int):
    person = _person_for_request(pk)
    counts = section_counts(collect_person_data(person))
    log_action(
        user=request.user,
        action=AuditAction.VIEW,
        obj=person,
        changes={"purpose": "access_request"},
        request=request,
    )
    sections = [(SECTION_LABELS[name], count) for name, count in counts.items()]
    return render(
        request, "privacy/access_request_preview.html", {"person": person, "sections": sections}
    )


@never_cache
@roles_required(Role.DATA_PROTECTION)
@sensitive_action
def access_request_json(request, pk: int):
    person = _person_for_request(pk)
    body = as_json(collect_person_data(person))
    _audit_export(request, person, "json")
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{_filename(person)}.json"'
    return response


@never_cache
@roles_required(Role.DATA_PROTECTION)
@sensitive_action
def access_request_pdf(request, pk: int):
    person = _person_for_request(pk)
    data = collect_person_data(person)
    pdf = render_pdf(
        "privacy/access_request_pdf.html",
        {"data": for_print(data), "printed_at": timezone.localtime()},
    )
    _audit_export(request, person, "pdf")
    return pdf_response(pdf, _filename(person), download=True)
