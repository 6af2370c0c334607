"""The retention pages: reading a restricted case only with a logged reason, legal holds,
editing rules, approving and rejecting runs (issue #6, § 84 SGB X)."""

import datetime
import time

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, CaseNote, CaseStatus
from core.models import AuditAction, AuditEntry
from core.reauth import SESSION_KEY
from privacy import services
from privacy.models import RestrictedCaseAccess, RetentionRule, RetentionRun, RunStatus
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def restricted(asd):
    case = f.make_case(
        asd,
        family_name="Sperrmann",
        opened_on=datetime.date(2015, 1, 5),
        status=CaseStatus.CLOSED,
        closed_on=datetime.date(2018, 6, 30),
        restricted_at=timezone.now(),
    )
    f.make_person(case.family, "Sina")
    f.make_note(case, text="Gespräch mit Frau Sperrmann")
    entrusted = f.make_note(case, text="Anvertraut: nur für die Autorin")
    CaseNote.objects.filter(pk=entrusted.pk).update(entrusted=True)
    return case


def confirmed_at(client, user, at: float):
    client.force_login(user)
    session = client.session
    session[SESSION_KEY] = int(at)
    session.save()
    return client


def test_a_restricted_case_is_read_only_after_giving_a_reason(client, asd, restricted):
    client.force_login(asd)
    summary = reverse("privacy:restricted_case", args=[restricted.pk])

    response = client.get(summary)
    assert response.status_code == 302
    assert response["Location"] == reverse("privacy:restricted_access", args=[restricted.pk])

    reason = "Anfrage der Careleaverin auf Akteneinsicht"
    response = client.post(response["Location"], {"reason": reason})
    assert response["Location"] == summary

    response = client.get(summary)
    assert response.status_code == 200
    assert "Sperrmann" in response.text
    assert "Gespräch mit Frau Sperrmann" in response.text
    assert "Anvertraut" not in response.text


def test_the_reason_for_reading_a_restricted_case_is_audited(client, asd, restricted):
    client.force_login(asd)
    reason = "Gerichtliche Anfrage vom Familiengericht"

    client.post(reverse("privacy:restricted_access", args=[restricted.pk]), {"reason": reason})
    client.get(reverse("privacy:restricted_case", args=[restricted.pk]))

    entries = AuditEntry.objects.filter(
        object_type="cases.case", object_id=str(restricted.pk), action=AuditAction.VIEW
    )
    assert [e.changes.get("reason") for e in entries if "reason" in e.changes] == [reason]
    assert entries.count() == 2


def test_a_restricted_case_cannot_be_opened_without_a_real_reason(client, asd, restricted):
    client.force_login(asd)

    response = client.post(
        reverse("privacy:restricted_access", args=[restricted.pk]), {"reason": ""}
    )

    assert response.status_code == 400
    assert not RestrictedCaseAccess.objects.exists()


def test_access_to_a_restricted_case_ends_after_its_time(client, asd, restricted):
    client.force_login(asd)
    client.post(
        reverse("privacy:restricted_access", args=[restricted.pk]),
        {"reason": "Nachfrage der Familie zum Verlauf"},
    )
    RestrictedCaseAccess.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))

    response = client.get(reverse("privacy:restricted_case", args=[restricted.pk]))

    assert response.status_code == 302


def test_another_team_cannot_find_a_restricted_case(client, asd_other_team, restricted):
    client.force_login(asd_other_team)

    assert client.get(reverse("privacy:restricted_access", args=[restricted.pk])).status_code == 404
    with pytest.raises(PermissionDenied):
        services.open_restricted_case(
            case=restricted, by=asd_other_team, reason="Neugier, einfach so"
        )


def test_the_team_lead_sets_a_legal_hold_with_a_reason_and_it_is_audited(client, asdlead, case):
    client.force_login(asdlead)

    response = client.post(
        reverse("privacy:retention_holds"),
        {"reference": case.reference, "reason": "Verfahren beim Verwaltungsgericht"},
    )

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.legal_hold
    assert case.legal_hold_reason == "Verfahren beim Verwaltungsgericht"
    assert AuditEntry.objects.filter(
        object_type="cases.case", object_id=str(case.pk), changes__legal_hold="set"
    ).exists()


def test_a_caseworker_cannot_set_a_legal_hold(asd, case):
    with pytest.raises(PermissionDenied):
        services.set_legal_hold(case=case, by=asd, reason="Ich möchte die Akte behalten")


def test_a_team_lead_cannot_hold_another_teams_case(client, asdlead, asd_other_team):
    other = f.make_case(asd_other_team, family_name="Mitte")
    client.force_login(asdlead)

    response = client.post(
        reverse("privacy:retention_holds"), {"reference": other.reference, "reason": "Versuch"}
    )

    assert response.status_code == 400
    assert not Case.objects.get(pk=other.pk).legal_hold


def test_lifting_a_legal_hold_needs_a_reason_and_is_audited(client, datenschutz, case):
    services.set_legal_hold(case=case, by=datenschutz, reason="Klage anhängig")
    client.force_login(datenschutz)
    url = reverse("privacy:retention_hold_lift", args=[case.pk])

    client.post(url, {"reason": ""})
    assert Case.objects.get(pk=case.pk).legal_hold

    client.post(url, {"reason": "Verfahren abgeschlossen"})
    assert not Case.objects.get(pk=case.pk).legal_hold
    assert AuditEntry.objects.filter(object_id=str(case.pk), changes__legal_hold="lifted").exists()


def test_the_data_protection_officer_edits_a_rule_and_the_change_is_audited(client, datenschutz):
    rule = RetentionRule.objects.get(record_type="case_help")
    client.force_login(datenschutz)

    response = client.post(
        reverse("privacy:retention_rule_edit", args=[rule.pk]),
        {
            "start_event": "help_ended",
            "restrict_after_months": "24",
            "remove_after_months": "120",
            "action": "anonymise",
            "legal_reasoning": "Vom Amt am 01.12.2026 bestätigt.",
            "confirmed_by_office": "on",
        },
    )

    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.remove_after_months, rule.confirmed_by_office) == (120, True)
    assert rule.updated_by == datenschutz
    entry = AuditEntry.objects.get(object_type="privacy.retentionrule", object_id=str(rule.pk))
    assert "remove_after_months" in entry.changes["fields"]


def test_a_rule_cannot_restrict_after_it_anonymises(client, datenschutz):
    rule = RetentionRule.objects.get(record_type="case_help")
    client.force_login(datenschutz)

    response = client.post(
        reverse("privacy:retention_rule_edit", args=[rule.pk]),
        {
            "start_event": "help_ended",
            "restrict_after_months": "200",
            "remove_after_months": "120",
            "action": "anonymise",
            "legal_reasoning": "x",
        },
    )

    assert response.status_code == 400
    assert RetentionRule.objects.get(pk=rule.pk).remove_after_months == 360


def test_approving_a_run_asks_for_the_password_again(
    client, datenschutz, django_capture_on_commit_callbacks
):
    run = RetentionRun.objects.create(due_on=datetime.date(2026, 1, 1), due={"rules": []})
    url = reverse("privacy:retention_run_approve", args=[run.pk])

    response = confirmed_at(client, datenschutz, time.time() - 24 * 3600).post(url)
    assert response["Location"].startswith(reverse("confirm_password"))
    assert RetentionRun.objects.get(pk=run.pk).status == RunStatus.PROPOSED

    with django_capture_on_commit_callbacks(execute=True):
        confirmed_at(client, datenschutz, time.time()).post(url)
    assert RetentionRun.objects.get(pk=run.pk).status == RunStatus.EXECUTED


def test_rejecting_a_run_needs_a_reason(client, datenschutz):
    run = RetentionRun.objects.create(due_on=datetime.date(2026, 1, 1), due={"rules": []})
    client.force_login(datenschutz)
    url = reverse("privacy:retention_run_reject", args=[run.pk])

    assert client.post(url, {"comment": ""}).status_code == 400
    client.post(url, {"comment": "Fristen noch nicht bestätigt"})

    assert RetentionRun.objects.get(pk=run.pk).status == RunStatus.REJECTED


def test_the_due_page_shows_counts_and_legal_holds_apart(client, datenschutz, asd):
    held = f.make_case(
        asd,
        family_name="Quastenflosser",
        opened_on=datetime.date(2000, 1, 1),
        status=CaseStatus.CLOSED,
        closed_on=datetime.date(2001, 1, 1),
        legal_hold=True,
        legal_hold_reason="Strafverfahren",
    )
    client.force_login(datenschutz)

    response = client.get(reverse("privacy:retention_due"))

    assert response.status_code == 200
    assert held.reference in response.text
    assert "Strafverfahren" in response.text
    assert "Quastenflosser" not in response.text


def test_the_run_page_polls_while_the_run_is_carried_out(client, datenschutz):
    run = RetentionRun.objects.create(
        due_on=datetime.date(2026, 1, 1),
        due={"rules": []},
        status=RunStatus.RUNNING,
        decided_by=datenschutz,
        progress_total=10,
        progress_done=4,
    )
    client.force_login(datenschutz)

    page = client.get(reverse("privacy:retention_run", args=[run.pk]))
    status = client.get(reverse("privacy:retention_run_status", args=[run.pk]))

    assert 'hx-trigger="every 2s"' in page.text
    assert 'value="4"' in status.text


def test_list_pages_use_a_constant_number_of_queries(
    client, datenschutz, django_assert_max_num_queries
):
    client.force_login(datenschutz)
    for __ in range(30):
        RetentionRun.objects.create(
            due_on=datetime.date(2026, 1, 1),
            due={"rules": []},
            status=RunStatus.REJECTED,
            decided_by=datenschutz,
        )
    with django_assert_max_num_queries(12):
        assert client.get(reverse("privacy:retention_runs")).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("privacy:retention_rules")).status_code == 200


@pytest.mark.parametrize("many", [1, 40])
def test_due_holds_and_restricted_pages_need_the_same_queries_for_few_and_many_cases(
    client, datenschutz, asd, many, django_assert_max_num_queries
):
    for i in range(many):
        f.make_case(
            asd,
            family_name=f"Familie{i}",
            opened_on=datetime.date(2000, 1, 1),
            status=CaseStatus.CLOSED,
            closed_on=datetime.date(2001, 1, 1),
            restricted_at=timezone.now(),
            legal_hold=i % 2 == 0,
            legal_hold_reason="Klage" if i % 2 == 0 else "",
        )
    client.force_login(datenschutz)
    for name in ("retention_due", "retention_holds", "restricted_cases"):
        with django_assert_max_num_queries(30):
            assert client.get(reverse(f"privacy:{name}")).status_code == 200


def test_a_restricted_case_is_hidden_from_its_own_caseworker(client, asd, restricted):
    client.force_login(asd)

    assert client.get(reverse("cases:case_detail", args=[restricted.pk])).status_code == 404
    assert restricted.reference not in client.get(reverse("cases:case_list")).text
