"""§ 65 SGB VIII: a journal entry entrusted to a caseworker in confidence is read only by
its author and the colleagues she names (with a reason, audited). It never appears for
colleagues, the team lead or providers, nor in any export or report.
"""

import io
import zipfile

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from pypdf import PdfReader

from cases import services
from cases.models import CaseNote, EntrustedNoteGrant
from controlling.kpis import parse_period
from controlling.reports import build_context, render_report_pdf, snapshot
from core.models import AuditAction, AuditEntry
from tests import factories as f

pytestmark = pytest.mark.django_db

SECRET = "Mutter berichtet vertraulich von Schulden beim Vermieter"


@pytest.fixture
def entrusted(case, asd):
    return services.add_note(case=case, kind="note", text=SECRET, by=asd, entrusted=True)


def case_page(client, user, case) -> str:
    client.force_login(user)
    response = client.get(reverse("cases:case_detail", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    if response["Content-Type"].startswith("application/pdf"):
        return pdf_text(response.content)
    if "spreadsheet" in response["Content-Type"]:
        with zipfile.ZipFile(io.BytesIO(response.content)) as workbook:
            return "".join(workbook.read(n).decode() for n in workbook.namelist())
    return response.content.decode()


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


# --- Who reads an entrusted entry ---------------------------------------------------------


def test_author_sees_her_entrusted_entry_marked(client, asd, case, entrusted):
    html = case_page(client, asd, case)

    assert SECRET in html
    assert "journal-entrusted" in html
    assert reverse("cases:note_readers", args=[entrusted.pk]) in html


@pytest.mark.parametrize("persona", ["asd_colleague", "asdlead", "fachkraft", "traegerleitung"])
def test_entrusted_entry_is_hidden_from_everyone_else(client, request, case, entrusted, persona):
    html = case_page(client, request.getfixturevalue(persona), case)

    assert SECRET not in html
    assert reverse("cases:note_readers", args=[entrusted.pk]) not in html


def test_ordinary_entries_stay_visible_to_the_team(client, asd_colleague, case, entrusted):
    html = case_page(client, asd_colleague, case)

    assert case.notes.get(entrusted=False).text in html


def test_named_reader_sees_the_entry_marked_but_cannot_name_others(
    client, asd, asd_colleague, case, entrusted
):
    services.grant_note_reader(note=entrusted, user=asd_colleague, reason="Vertretung", by=asd)

    html = case_page(client, asd_colleague, case)
    readers = client.get(reverse("cases:note_readers", args=[entrusted.pk]))

    assert SECRET in html
    assert "journal-entrusted" in html
    assert readers.status_code == 403


def test_queryset_hides_entrusted_entries(asd, asd_colleague, asdlead, fachkraft, entrusted):
    assert entrusted in CaseNote.objects.visible_to(asd)
    for user in (asd_colleague, asdlead, fachkraft):
        assert entrusted not in CaseNote.objects.visible_to(user)
    assert entrusted not in CaseNote.objects.not_entrusted()
    assert CaseNote.objects.not_entrusted().count() == 1  # the fixture's ordinary entry


def test_named_reader_loses_the_entry_with_the_case(asd, asd_colleague, case, entrusted):
    services.grant_note_reader(note=entrusted, user=asd_colleague, reason="Vertretung", by=asd)
    case.confidential = True
    case.save(update_fields=["confidential"])

    assert entrusted not in CaseNote.objects.visible_to(asd_colleague)


# --- Writing and naming readers -------------------------------------------------------------


def test_author_marks_an_entry_entrusted_when_writing(client, asd, case):
    client.force_login(asd)

    response = client.post(
        reverse("cases:note_add", args=[case.pk]),
        {"kind": "phone", "text": SECRET, "entrusted": "on"},
    )

    assert response.status_code == 302
    note = CaseNote.objects.get(text=SECRET)
    assert note.entrusted is True
    entry = AuditEntry.objects.get(object_type="cases.casenote", object_id=str(note.pk))
    assert entry.changes["entrusted"] is True


def test_journal_form_offers_the_entrusted_checkbox(client, asd, case):
    html = case_page(client, asd, case)

    assert 'name="entrusted"' in html
    assert 'for="id_entrusted"' in html


def test_author_names_a_reader_with_a_reason_and_it_is_audited(
    client, asd, asd_colleague, entrusted
):
    client.force_login(asd)

    response = client.post(
        reverse("cases:note_readers", args=[entrusted.pk]),
        {"user": asd_colleague.pk, "reason": "Übernahme während Krankheit"},
    )

    assert response.status_code == 302
    grant = EntrustedNoteGrant.objects.get()
    assert (grant.user, grant.granted_by) == (asd_colleague, asd)
    entry = AuditEntry.objects.get(object_type="cases.entrustednotegrant", object_id=str(grant.pk))
    assert entry.action == AuditAction.CREATE
    assert entry.changes == {"note": entrusted.pk, "user": asd_colleague.pk}
    page = client.get(reverse("cases:note_readers", args=[entrusted.pk])).content.decode()
    assert str(asd_colleague) in page and "Übernahme während Krankheit" in page


@pytest.mark.parametrize("missing", ["user", "reason"])
def test_naming_a_reader_needs_person_and_reason(client, asd, asd_colleague, entrusted, missing):
    client.force_login(asd)
    data = {"user": asd_colleague.pk, "reason": "Vertretung", missing: ""}

    response = client.post(reverse("cases:note_readers", args=[entrusted.pk]), data)

    assert response.status_code == 400
    assert not EntrustedNoteGrant.objects.exists()


def test_providers_and_other_teams_cannot_be_named_readers(
    client, asd, asd_other_team, fachkraft, entrusted
):
    client.force_login(asd)
    url = reverse("cases:note_readers", args=[entrusted.pk])

    statuses = [
        client.post(url, {"user": user.pk, "reason": "x"}).status_code
        for user in (asd_other_team, fachkraft)
    ]

    assert statuses == [400, 400]
    assert not EntrustedNoteGrant.objects.exists()


def test_an_ordinary_entry_has_no_readers_page(client, asd, case):
    client.force_login(asd)
    ordinary = case.notes.get()

    response = client.get(reverse("cases:note_readers", args=[ordinary.pk]))

    assert response.status_code == 404


# --- Never in exports or reports --------------------------------------------------------------


EXPORTS = [
    ("asd", "cases:case_export_csv", None),
    ("asd", "cases:case_export_xlsx", None),
    ("asd", "cases:plan_pdf", "plan"),
    ("asdlead", "cases:case_export_csv", None),
    ("traegerleitung", "providers:export_csv", None),
    ("traegerleitung", "providers:export_xlsx", None),
    ("leitung", "budgets:export_csv", None),
    ("leitung", "budgets:export_xlsx", None),
]


@pytest.mark.parametrize(("persona", "url_name", "target"), EXPORTS)
def test_entrusted_entry_is_in_no_export(
    client, request, case, entrusted, persona, url_name, target
):
    client.force_login(request.getfixturevalue(persona))
    args = [case.helps.get().plans.get().pk] if target == "plan" else []

    response = client.get(reverse(url_name, args=args))

    assert response.status_code == 200
    assert SECRET not in body(response)


def test_entrusted_entry_is_in_no_search_result(client, asd_colleague, asd, case, entrusted):
    client.force_login(asd_colleague)

    response = client.get(reverse("cases:case_list"), {"q": "Vermieter"})

    assert list(response.context["page"]) == []


def test_controlling_report_carries_no_entrusted_entry(region, case, entrusted):
    period = parse_period(f"{f.today():%Y}-Q{(f.today().month - 1) // 3 + 1}")

    with snapshot():
        html = render_to_string(
            "controlling/report_pdf.html", build_context(region=region, period=period)
        )
    pdf = pdf_text(render_report_pdf(region=region, period=period))

    assert SECRET not in html
    assert SECRET not in pdf
    assert "Vermieter" not in pdf
