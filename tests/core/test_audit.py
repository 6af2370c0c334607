"""Every read of case data, every change, export and login lands in an append-only audit log.

DOMAIN.md: "who, when, what, which object" — and never the personal data itself.
"""

import json

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from core.audit import log_action
from core.models import AuditAction, AuditEntry
from tests import factories as f

pytestmark = pytest.mark.django_db

PASSWORD = "demo"  # tests/factories.make_user


def only_entry(**filters) -> AuditEntry:
    return AuditEntry.objects.get(**filters)


# --- Reading ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url_name", "target", "object_type"),
    [
        ("cases:case_detail", lambda case: case, "cases.case"),
        ("cases:family_detail", lambda case: case.family, "cases.family"),
        ("cases:plan_detail", lambda case: case.helps.get().plans.get(), "cases.helpplan"),
        ("cases:risk_edit", lambda case: case.risk_assessments.get(), "cases.riskassessment"),
    ],
    ids=["case", "family", "plan", "risk_assessment"],
)
def test_reading_personal_data_writes_a_view_entry(
    client, asd, case, url_name, target, object_type
):
    obj = target(case)
    url = reverse(url_name, args=[obj.pk])
    client.force_login(asd)

    assert client.get(url).status_code == 200

    entry = only_entry(action=AuditAction.VIEW)
    assert (entry.user, entry.username) == (asd, "asd")
    assert (entry.object_type, entry.object_id) == (object_type, str(obj.pk))
    assert entry.path == url
    assert entry.at is not None


def test_case_list_logs_which_cases_were_shown(client, asd, case):
    client.force_login(asd)

    client.get(reverse("cases:case_list"), {"q": "Yilmaz"})

    entry = only_entry(action=AuditAction.LIST)
    assert entry.object_type == "cases.case"
    assert entry.changes["shown"] == [case.pk]


def test_refused_read_writes_no_view_entry(client, asd_other_team, case):
    client.force_login(asd_other_team)

    assert client.get(reverse("cases:case_detail", args=[case.pk])).status_code == 404

    assert not AuditEntry.objects.filter(action=AuditAction.VIEW).exists()


# --- Changing ----------------------------------------------------------------------------


def test_changing_a_family_logs_the_field_names_not_the_values(client, asd, case):
    family = case.family
    client.force_login(asd)

    client.post(
        reverse("cases:family_edit", args=[family.pk]),
        {
            "name": family.name,
            "street": "Sandstraße 12",
            "postal_code": family.postal_code,
            "city": family.city,
            "region": family.region_id,
            "phone": "0271 404040",
        },
    )

    entry = only_entry(action=AuditAction.CHANGE)
    assert (entry.user, entry.object_type, entry.object_id) == (asd, "cases.family", str(family.pk))
    assert entry.changes == {"fields": ["phone", "street"]}
    assert "Sandstraße" not in json.dumps(entry.changes, ensure_ascii=False)
    assert "404040" not in json.dumps(entry.changes)


def test_adding_a_person_writes_a_create_entry(client, asd, case):
    client.force_login(asd)

    client.post(
        reverse("cases:person_add", args=[case.family_id]),
        {"first_name": "Elif", "last_name": "Yilmaz", "birth_date": "2019-02-01", "role": "child"},
    )

    person = case.family.members.get(first_name="Elif")
    entry = only_entry(action=AuditAction.CREATE)
    assert (entry.user, entry.object_type, entry.object_id) == (asd, "cases.person", str(person.pk))
    assert "Elif" not in json.dumps(entry.changes)


def test_closing_a_case_logs_the_changed_fields(client, asd):
    case = f.make_case(asd)
    client.force_login(asd)

    client.post(
        reverse("cases:case_close", args=[case.pk]),
        {"closed_on": f.today().isoformat(), "closing_reason": "moved", "closing_note": "Umzug"},
    )

    entry = only_entry(action=AuditAction.CHANGE, object_type="cases.case")
    assert entry.object_id == str(case.pk)
    assert entry.changes == {"fields": ["status", "closed_on", "closing_reason", "closing_note"]}


# --- Exporting ---------------------------------------------------------------------------


@pytest.mark.parametrize("url_name", ["cases:case_export_csv", "cases:case_export_xlsx"])
def test_case_export_writes_an_export_entry(client, asd, case, url_name):
    client.force_login(asd)

    response = client.get(reverse(url_name), {"status": "open"})

    assert response.status_code == 200
    entry = only_entry(action=AuditAction.EXPORT)
    assert (entry.user, entry.object_type) == (asd, "cases.case")
    assert entry.changes["filters"] == {"status": "open"}


def test_plan_pdf_writes_an_export_entry(client, asd, case):
    plan = case.helps.get().plans.get()
    client.force_login(asd)

    client.get(reverse("cases:plan_pdf", args=[plan.pk]))

    entry = only_entry(action=AuditAction.EXPORT)
    assert (entry.object_type, entry.object_id) == ("cases.helpplan", str(plan.pk))
    assert entry.changes == {"format": "pdf"}


# --- Logging in and out ------------------------------------------------------------------


def test_login_is_logged(client, asd):
    response = client.post("/accounts/login/", {"username": "asd", "password": PASSWORD})

    assert response.status_code == 302
    entry = only_entry(action=AuditAction.LOGIN)
    assert (entry.user, entry.username) == (asd, "asd")


def test_logout_is_logged(client, asd):
    client.force_login(asd)

    client.post("/accounts/logout/")

    entry = only_entry(action=AuditAction.LOGOUT)
    assert entry.user == asd


def test_failed_login_is_logged_without_the_password(client, asd):
    wrong = "Geheim-Falsch-4711"

    response = client.post("/accounts/login/", {"username": "asd", "password": wrong})

    assert response.status_code == 200
    entry = only_entry(action=AuditAction.LOGIN_FAILED)
    assert entry.user is None
    assert entry.changes == {"username": "asd"}
    stored = json.dumps(
        [entry.username, entry.object_type, entry.object_id, entry.changes, entry.path]
    )
    assert wrong not in stored


# --- Append-only ---------------------------------------------------------------------------


@pytest.fixture
def entry(asd):
    return log_action(user=asd, action=AuditAction.VIEW, object_type="cases.case", object_id=1)


def test_saved_entry_cannot_be_saved_again(entry):
    entry.action = AuditAction.DELETE
    with pytest.raises(PermissionError):
        entry.save()


def test_entry_cannot_be_deleted(entry):
    with pytest.raises(PermissionError):
        entry.delete()


def test_entries_cannot_be_updated_in_bulk(entry):
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(action=AuditAction.DELETE)


def test_entries_cannot_be_deleted_in_bulk(entry):
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE core_auditentry SET action = 'delete' WHERE id = %s",
        "DELETE FROM core_auditentry WHERE id = %s",
    ],
    ids=["update", "delete"],
)
def test_database_refuses_to_change_history(entry, sql):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [entry.pk])

    entry_now = AuditEntry.objects.get(pk=entry.pk)
    assert entry_now.action == AuditAction.VIEW
