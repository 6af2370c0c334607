"""The data protection officer reads the audit log (issue #6): filter by user, person,
case, action and date; sort; page; export to CSV/Excel; check the hash chain."""

import datetime
import io

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from openpyxl import load_workbook

from core.audit import anchor_chain, log_action
from core.models import AuditAction, AuditEntry
from tests import factories as f

pytestmark = pytest.mark.django_db

LOG = reverse("privacy:audit_log")


@pytest.fixture
def officer_client(client, datenschutz):
    client.force_login(datenschutz)
    return client


@pytest.fixture
def other_case(asd_colleague, provider):
    case = f.make_case(asd_colleague, family_name="Schmidt")
    f.make_person(case.family, "Jonas")
    return case


def shown_ids(response) -> list[int]:
    return [entry.pk for entry in response.context["page"]]


def csv_lines(response) -> list[str]:
    return b"".join(response.streaming_content).decode("utf-8-sig").splitlines()


def test_the_log_lists_the_newest_entries_first(officer_client, asd):
    first = log_action(user=asd, action=AuditAction.VIEW, object_type="cases.case", object_id=1)
    second = log_action(user=asd, action=AuditAction.LIST, object_type="cases.case")

    response = officer_client.get(LOG)

    assert response.status_code == 200
    assert shown_ids(response)[:2] == [second.pk, first.pk]
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    )


def test_reading_the_log_is_itself_audited(officer_client, datenschutz):
    officer_client.get(LOG, {"action": "export"})

    entry = AuditEntry.objects.get(user=datenschutz, action=AuditAction.LIST)
    assert entry.object_type == "core.auditentry"
    assert entry.changes["filters"] == {"action": "export"}


def test_filter_by_user(officer_client, asd, asd_colleague):
    mine = log_action(user=asd, action=AuditAction.VIEW, object_type="cases.case", object_id=1)
    log_action(user=asd_colleague, action=AuditAction.VIEW, object_type="cases.case", object_id=1)

    response = officer_client.get(LOG, {"user": asd.pk})

    assert shown_ids(response) == [mine.pk]


def test_filter_by_case_file_number_finds_everything_on_the_case(
    officer_client, asd, case, other_case
):
    help = case.helps.get()
    about_case = [
        log_action(user=asd, action=AuditAction.VIEW, obj=case),
        log_action(user=asd, action=AuditAction.CHANGE, obj=help),
        log_action(user=asd, action=AuditAction.VIEW, obj=help.plans.get()),
    ]
    log_action(user=asd, action=AuditAction.VIEW, obj=other_case)

    response = officer_client.get(LOG, {"case": case.reference.lower()})

    assert sorted(shown_ids(response)) == [entry.pk for entry in about_case]
    assert case.reference in response.content.decode()


def test_filter_by_person_finds_the_person_their_family_and_its_cases(
    officer_client, asd, case, other_case
):
    person = case.family.members.get()
    about_person = [
        log_action(user=asd, action=AuditAction.VIEW, obj=person),
        log_action(user=asd, action=AuditAction.VIEW, obj=case.family),
        log_action(user=asd, action=AuditAction.VIEW, obj=case),
        log_action(user=asd, action=AuditAction.VIEW, obj=case.notes.get()),
    ]
    log_action(user=asd, action=AuditAction.VIEW, obj=other_case.family.members.get())
    log_action(user=asd, action=AuditAction.VIEW, obj=other_case)
    expected = sorted(entry.pk for entry in about_person)

    by_number = officer_client.get(LOG, {"person": str(person.pk)})
    by_name = officer_client.get(LOG, {"person": "mehmet yilmaz"})

    assert sorted(shown_ids(by_number)) == expected
    assert sorted(shown_ids(by_name)) == expected
    assert "Mehmet" not in by_name.content.decode().split("<table", 1)[1]


def test_filter_by_action_and_date_range(officer_client, asd):
    with time_machine.travel(datetime.datetime(2026, 3, 1, 10, tzinfo=datetime.UTC)):
        log_action(user=asd, action=AuditAction.EXPORT, object_type="cases.case")
    with time_machine.travel(datetime.datetime(2026, 3, 15, 10, tzinfo=datetime.UTC)):
        in_range = log_action(user=asd, action=AuditAction.EXPORT, object_type="cases.case")
        log_action(user=asd, action=AuditAction.VIEW, object_type="cases.case")
    with time_machine.travel(datetime.datetime(2026, 4, 2, 10, tzinfo=datetime.UTC)):
        log_action(user=asd, action=AuditAction.EXPORT, object_type="cases.case")

    response = officer_client.get(
        LOG, {"action": "export", "date_from": "2026-03-10", "date_to": "2026-03-31"}
    )

    assert shown_ids(response) == [in_range.pk]


def test_sorting_by_user(officer_client, asd, asd_colleague, datenschutz):
    log_action(user=asd_colleague, action=AuditAction.VIEW, object_type="cases.case")
    log_action(user=asd, action=AuditAction.VIEW, object_type="cases.case")

    response = officer_client.get(LOG, {"ordering": "user", "action": "view"})

    names = [entry.username for entry in response.context["page"]]
    assert names == sorted(names)
    assert 'aria-sort="ascending"' in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "31.02.2026"},
        {"user": "abc"},
        {"user": "99999999999999999999999"},
        {"action": "explode"},
        {"person": "x" * 500},
        {"person": "9" * 30},
        {"case": "\x00"},
        {"ordering": "password"},
        {"page": "-1"},
    ],
    ids=lambda params: next(iter(params)),
)
def test_bad_filter_input_gives_a_message_not_an_error(officer_client, asd, params):
    log_action(user=asd, action=AuditAction.VIEW, object_type="cases.case")

    response = officer_client.get(LOG, params)

    assert response.status_code == 200


def test_a_filter_that_cannot_be_read_is_named_and_the_log_shown_unfiltered(officer_client, asd):
    entry = log_action(user=asd, action=AuditAction.VIEW, object_type="cases.case")

    response = officer_client.get(LOG, {"date_from": "2026-02-31"})

    assert len(list(response.context["messages"])) == 1
    assert response.context["filter"].form.errors["date_from"]
    assert entry.pk in shown_ids(response)


def test_the_log_is_paged(officer_client, asd):
    for n in range(55):
        log_action(user=asd, action=AuditAction.VIEW, object_type="cases.case", object_id=n)

    first = officer_client.get(LOG, {"action": "view"})
    second = officer_client.get(LOG, {"action": "view", "page": 2})

    assert len(first.context["page"]) == 50
    assert len(second.context["page"]) == 5


@pytest.mark.parametrize("entries", [10, 500])
def test_the_page_needs_the_same_number_of_queries_for_few_and_many_entries(
    officer_client, asd, case, django_assert_max_num_queries, entries
):
    for n in range(entries):
        log_action(user=asd, action=AuditAction.VIEW, obj=case if n % 2 else case.family)

    with django_assert_max_num_queries(14):
        response = officer_client.get(LOG, {"person": "Yilmaz", "ordering": "-user"})

    assert response.status_code == 200
    assert len(response.context["page"]) == min(entries, 50)


# --- Export ---------------------------------------------------------------------------


def test_csv_export_holds_the_filtered_entries_and_is_audited(
    officer_client, datenschutz, asd, asd_colleague, case
):
    log_action(user=asd, action=AuditAction.VIEW, obj=case)
    log_action(user=asd_colleague, action=AuditAction.VIEW, object_type="cases.case")

    response = officer_client.get(reverse("privacy:audit_export_csv"), {"user": asd.pk})

    lines = csv_lines(response)
    assert response["Content-Type"].startswith("text/csv")
    assert len(lines) == 2
    assert ";asd;" in lines[1]
    assert case.reference in lines[1]
    export = AuditEntry.objects.get(user=datenschutz, action=AuditAction.EXPORT)
    assert export.changes == {"filters": {"user": str(asd.pk)}, "format": "csv", "count": 1}


def test_excel_export(officer_client, asd):
    log_action(user=asd, action=AuditAction.LOGIN)

    response = officer_client.get(
        reverse("privacy:audit_export_xlsx"), {"action": "login", "user": asd.pk}
    )

    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2
    assert rows[1][2] == "asd"


def test_export_asks_for_the_password_again_when_the_last_confirmation_is_stale(
    officer_client, settings
):
    settings.KIJUFAZ_REAUTH_MAX_AGE = -1

    response = officer_client.get(reverse("privacy:audit_export_csv"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("confirm_password"))


# --- The chain check ------------------------------------------------------------------


def test_the_chain_check_reports_an_intact_log(officer_client, asd):
    log_action(user=asd, action=AuditAction.VIEW, object_type="cases.case")

    response = officer_client.post(reverse("privacy:audit_verify"), follow=True)

    assert response.redirect_chain[-1][0] == LOG
    messages = [str(m) for m in response.context["messages"]]
    assert any("intact" in m or "unversehrt" in m for m in messages)


def tamper(sql: str, params) -> None:
    """As the table owner, past the append-only trigger."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = origin")


def officers_check(officer_client, datenschutz) -> tuple[list[str], dict]:
    """The check's messages on the page, and what the audit log recorded of it."""
    response = officer_client.post(reverse("privacy:audit_verify"), follow=True)
    check = AuditEntry.objects.filter(user=datenschutz, action=AuditAction.VIEW).get()
    return [str(m) for m in response.context["messages"]], check.changes


@pytest.mark.postgres
def test_the_chain_check_names_the_changed_entry(officer_client, asd, datenschutz):
    entries = [
        log_action(user=asd, action=AuditAction.VIEW, object_type="cases.case", object_id=n)
        for n in range(3)
    ]
    tamper("UPDATE core_auditentry SET object_id = '99' WHERE id = %s", [entries[1].pk])

    messages, recorded = officers_check(officer_client, datenschutz)

    assert len(messages) == 1
    assert f"#{entries[1].pk}" in messages[0]
    assert recorded["chain_check"] == "broken"
    assert recorded["first_break"] == entries[1].pk


@pytest.mark.postgres
def test_the_chain_check_finds_removed_newest_entries_by_their_anchor(
    officer_client, asd, datenschutz
):
    entries = [log_action(user=asd, action=AuditAction.VIEW, object_id=n) for n in range(3)]
    anchor_chain()
    tamper("DELETE FROM core_auditentry WHERE id = %s", [entries[2].pk])

    messages, recorded = officers_check(officer_client, datenschutz)

    assert len(messages) == 1
    assert f"#{entries[2].pk}" in messages[0]
    assert (recorded["chain_check"], recorded["anchors"]) == ("ok", "broken")


def test_the_officer_finds_the_log_from_the_start_page_and_the_menu(officer_client):
    html = officer_client.get(reverse("desk")).content.decode()

    assert html.count(f'href="{LOG}"') == 2


def test_export_and_sort_links_keep_the_filters(officer_client, asd):
    log_action(user=asd, action=AuditAction.VIEW, object_type="cases.case")

    html = officer_client.get(LOG, {"action": "view", "page": "1"}).content.decode()

    assert f'href="{reverse("privacy:audit_export_csv")}?action=view"' in html
    assert 'href="?action=view&amp;ordering=user"' in html
