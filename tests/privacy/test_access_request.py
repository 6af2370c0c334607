"""Access request (Art. 15 GDPR, § 83 SGB X): the export is complete for the person,
holds no entrusted entry and no third party's data, renders as a German PDF and is
audited."""

import datetime
import json
import subprocess
import uuid

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cases.models import (
    CaseNote,
    GoalRating,
    LegalBasis,
    PersonRole,
    RatingOccasion,
    RiskAssessment,
)
from core.audit import log_action
from core.models import AuditAction, AuditEntry
from core.reauth import SESSION_KEY
from privacy.access_request import as_json, collect_person_data, section_counts
from providers import services as provider_services
from providers.models import Activity, GroupOffer, GroupSession, HourKind
from tests import factories as f

pytestmark = pytest.mark.django_db

CHILD_BIRTH = datetime.date(2017, 3, 1)
SIBLING_BIRTH = datetime.date(2015, 7, 9)
ENTRUSTED_TEXT = "Die Mutter vertraut an: Schulden beim Nachbarn"
REPORTER = "Nachbarin Frau Schulze"
REPORT_CONTENT = "Kind weint nachts auf dem Balkon"


@pytest.fixture
def family_world(asd, fachkraft, provider, region):
    """Mehmet's family: his help with plan, rating and hours; his sister Ayşe's own help;
    a normal and an entrusted journal entry; a § 8a assessment with its reporter."""
    case = f.make_case(asd, family_name="Yilmaz")
    family = case.family
    family.phone = "0271 123456"
    family.save(update_fields=["phone"])
    child = f.make_person(family, "Mehmet", birth_date=CHILD_BIRTH)
    sister = f.make_person(family, "Ayşe", birth_date=SIBLING_BIRTH)

    help = f.make_help(case, provider, legal_basis=LegalBasis.EDUCATIONAL_ASSISTANT)
    help.recipient = child
    help.save(update_fields=["recipient"])
    plan = f.make_plan(help, goals=("Mehmet geht regelmäßig zur Schule",))
    GoalRating.objects.create(
        goal=plan.goals.get(),
        occasion=RatingOccasion.START,
        rated_on=help.start,
        professional=2,
        own=3,
    )
    sister_help = f.make_help(case, provider, legal_basis=LegalBasis.COUNSELLING)
    sister_help.recipient = sister
    sister_help.save(update_fields=["recipient"])
    f.make_plan(sister_help, goals=("Ayşe findet eine Ausbildungsstelle",))

    f.make_note(case, text="Hausbesuch, Mehmet hat sein Zeugnis gezeigt.")
    CaseNote.objects.create(case=case, author=asd, text=ENTRUSTED_TEXT, entrusted=True)
    RiskAssessment.objects.create(
        case=case,
        report_received_on=f.today() - datetime.timedelta(days=20),
        report_source=REPORTER,
        report_summary=REPORT_CONTENT,
        assessment="Versorgung gesichert, Unterstützung nötig",
        created_by=asd,
    )
    provider_services.log_hours(
        staff=fachkraft,
        idempotency_key=uuid.uuid4(),
        help=help,
        date=f.today() - datetime.timedelta(days=2),
        minutes=90,
        kind=HourKind.CASE_SPECIFIC,
        activity=Activity.DIRECT_WORK,
    )
    offer = GroupOffer.objects.create(
        provider=provider,
        region=region,
        topic="Hausaufgabentreff",
        target_group="Grundschulkinder",
        starts_on=f.today() - datetime.timedelta(days=30),
    )
    session = GroupSession.objects.create(
        offer=offer, date=f.today() - datetime.timedelta(days=7), duration_minutes=90
    )
    session.registered_participants.add(child)
    log_action(user=asd, action=AuditAction.VIEW, obj=case)
    return {"case": case, "child": child, "sister": sister, "help": help}


def test_export_holds_the_persons_own_data_in_every_section(family_world):
    data = collect_person_data(family_world["child"])
    case, help = family_world["case"], family_world["help"]

    assert data["person"]["first_name"] == "Mehmet"
    assert data["person"]["last_name"] == "Yilmaz"
    assert data["person"]["birth_date"] == "2017-03-01"
    assert data["family"]["street"] == "Hauptstraße 1"
    assert data["family"]["phone"] == "0271 123456"
    assert [c["reference"] for c in data["cases"]] == [case.reference]
    assert data["cases"][0]["owner"] == "Anna Schmidt"
    (own_help,) = data["helps"]
    assert own_help["legal_basis"] == "30"
    assert own_help["provider"] == "Evangelische Jugendhilfe Friedenshort"
    assert own_help["start"] == help.start.isoformat()
    assert own_help["approved_hours_per_month"] == "20.00"
    (plan,) = data["help_plans"]
    assert plan["goals"][0]["description"] == "Mehmet geht regelmäßig zur Schule"
    (rating,) = data["goal_ratings"]
    assert (rating["professional"], rating["own"]) == (2, 3)
    assert [n["text"] for n in data["journal"]] == ["Hausbesuch, Mehmet hat sein Zeugnis gezeigt."]
    (assessment,) = data["risk_assessments"]
    assert assessment["assessment"] == "Versorgung gesichert, Unterstützung nötig"
    (hours,) = data["hours"]
    assert hours["minutes"] == 90
    assert hours["activity"] == gettext("work with the family")
    assert [s["offer"] for s in data["group_sessions"]] == ["Hausaufgabentreff"]
    assert {
        "user": "Anna Schmidt",
        "action": gettext("viewed"),
        "object_type": "cases.case",
        "object_id": str(case.pk),
    }.items() <= data["audit"][-1].items()
    assert all(count > 0 for count in section_counts(data).values())


def test_export_has_no_entrusted_entry_no_sibling_and_no_reporter(family_world):
    text = as_json(collect_person_data(family_world["child"])).decode()

    assert ENTRUSTED_TEXT not in text
    assert "Ayşe" not in text
    assert SIBLING_BIRTH.isoformat() not in text
    assert "Ausbildungsstelle" not in text
    assert REPORTER not in text
    assert REPORT_CONTENT not in text
    assert "report_source" not in text


def test_provider_professionals_are_named_by_their_organisation_only(family_world, fachkraft):
    log_action(user=fachkraft, action=AuditAction.VIEW, obj=family_world["case"])

    text = as_json(collect_person_data(family_world["child"])).decode()

    assert "Fuchs" not in text
    assert f"{gettext('Provider staff')} (Evangelische Jugendhilfe Friedenshort)" in text


def test_the_export_says_what_it_leaves_out(family_world):
    notes = collect_person_data(family_world["child"])["notes"]

    assert any("§ 65 SGB VIII" in note for note in notes)
    assert any("§ 83" in note and "SGB X" in note for note in notes)


def test_audit_entries_about_an_entrusted_entry_are_not_exported(family_world, asd):
    entrusted = CaseNote.objects.get(entrusted=True)
    log_action(user=asd, action=AuditAction.VIEW, obj=entrusted)

    data = collect_person_data(family_world["child"])

    assert str(entrusted.pk) not in [
        a["object_id"] for a in data["audit"] if a["object_type"] == "cases.casenote"
    ]


# --- Pages ---------------------------------------------------------------------------


def test_officer_finds_the_person_by_name_and_birth_date(client, datenschutz, family_world):
    client.force_login(datenschutz)

    page = client.get(
        reverse("privacy:access_request"), {"name": "mehmet", "birth_date": "2017-03-01"}
    )

    assert page.status_code == 200
    assert b"Yilmaz, Mehmet" in page.content
    assert "Yilmaz, Ayşe" not in page.content.decode()


def test_a_search_without_criteria_or_with_a_bad_date_is_refused_with_a_message(
    client, datenschutz
):
    client.force_login(datenschutz)

    empty = client.get(reverse("privacy:access_request"), {"name": "", "birth_date": ""})
    bad = client.get(reverse("privacy:access_request"), {"birth_date": "31.02.2026"})

    assert empty.status_code == 400
    assert gettext("Enter a name or a date of birth.") in empty.content.decode()
    assert bad.status_code == 400
    assert gettext("Enter a valid date.") in bad.content.decode()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(name="a\x00b", birth_date="2017-03-01")
@example(name="x" * 10_000, birth_date="9" * 40)
@given(name=st.text(max_size=200), birth_date=st.text(max_size=30))
def test_garbage_search_never_answers_500(client, datenschutz, name, birth_date):
    client.force_login(datenschutz)

    response = client.get(
        reverse("privacy:access_request"), {"name": name, "birth_date": birth_date}
    )

    assert response.status_code in (200, 400)


def test_preview_counts_the_records_per_section(client, datenschutz, family_world):
    client.force_login(datenschutz)

    page = client.get(reverse("privacy:access_request_preview", args=[family_world["child"].pk]))

    assert page.status_code == 200
    counts = dict(page.context["sections"])
    assert counts[gettext("Journal entries")] == 1
    assert counts[gettext("Helps")] == 1


def test_json_download_is_the_export_and_is_audited(client, datenschutz, family_world):
    child = family_world["child"]
    client.force_login(datenschutz)

    response = client.get(reverse("privacy:access_request_json", args=[child.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["person"]["first_name"] == "Mehmet"
    assert ENTRUSTED_TEXT not in response.content.decode()
    assert AuditEntry.objects.filter(
        user=datenschutz,
        action=AuditAction.EXPORT,
        object_type="cases.person",
        object_id=str(child.pk),
        changes__format="json",
    ).exists()


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "export.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_pdf_download_is_a_rendered_german_document_and_is_audited(
    client, datenschutz, family_world, tmp_path
):
    child = family_world["child"]
    client.force_login(datenschutz)

    response = client.get(reverse("privacy:access_request_pdf", args=[child.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(pdf_text(response.content, tmp_path).split())
    with translation.override("de"):
        for heading in (
            "Information about stored data (Art. 15 GDPR, § 83 SGB X)",
            "Journal entries",
            "Help plans",
            "Who accessed the data (audit log)",
        ):
            assert gettext(heading) in text
    assert "Mehmet Yilmaz" in text
    assert "01.03.2017" in text
    assert "20,00" in text  # approved hours per month, the German way
    assert ENTRUSTED_TEXT not in text
    assert "Ayşe" not in text
    assert AuditEntry.objects.filter(
        action=AuditAction.EXPORT, object_id=str(child.pk), changes__format="pdf"
    ).exists()


def test_download_asks_for_the_password_again_when_the_confirmation_is_stale(
    client, datenschutz, family_world
):
    client.force_login(datenschutz)
    session = client.session
    session.pop(SESSION_KEY, None)
    session.save()

    response = client.get(reverse("privacy:access_request_json", args=[family_world["child"].pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("confirm_password"))
    assert not AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()


def test_a_parent_gets_the_household_help_but_not_the_childrens_own_helps(family_world, provider):
    parent = f.make_person(
        family_world["case"].family,
        "Fatma",
        role=PersonRole.PARENT,
        birth_date=datetime.date(1988, 1, 2),
    )
    household_help = f.make_help(family_world["case"], provider)

    data = collect_person_data(parent)

    assert [h["id"] for h in data["helps"]] == [household_help.pk]
    assert data["helps"][0]["for"] == "household"


@pytest.mark.parametrize("families", [1, 30])
def test_search_and_preview_need_the_same_number_of_queries_for_few_and_many(
    client, datenschutz, asd, provider, django_assert_max_num_queries, families
):
    for i in range(families):
        case = f.make_case(asd, family_name="Yilmaz")
        child = f.make_person(case.family, f"Kind{i}", birth_date=CHILD_BIRTH)
        help = f.make_help(case, provider)
        help.recipient = child
        help.save(update_fields=["recipient"])
        f.make_plan(help)
        f.make_note(case)
    client.force_login(datenschutz)

    with django_assert_max_num_queries(12):
        search = client.get(reverse("privacy:access_request"), {"name": "Yilmaz"})
    with django_assert_max_num_queries(25):
        preview = client.get(reverse("privacy:access_request_preview", args=[child.pk]))

    assert search.status_code == preview.status_code == 200


def test_the_data_protection_officer_finds_access_requests_in_the_navigation(client, datenschutz):
    client.force_login(datenschutz)

    page = client.get(reverse("privacy:access_request"))

    assert f'href="{reverse("privacy:access_request")}"' in page.content.decode()
