"""The team lead approves a staff member's month; approved entries are only ever corrected.

Approving locks the entries present at that moment; later entries stay open until
the month is approved again. A return needs a comment, which the staff member
sees on her sheet. A lead never approves her own month, nor another provider's
staff. A correction is a new entry holding the difference; the original stays.
"""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from providers import services
from providers.models import ApprovalState, HourEntry, MonthApproval
from providers.selectors import hour_sheet
from tests import factories as f

from .conftest import MONDAY, TODAY

pytestmark = pytest.mark.django_db

YESTERDAY = TODAY - datetime.timedelta(days=1)


def review_url(staff, month=TODAY) -> str:
    return reverse("providers:month_review", args=[staff.pk, month.year, month.month])


def approve(client, staff, month=TODAY):
    return client.post(review_url(staff, month), {"decision": "approve"})


def refreshed(entry: HourEntry) -> HourEntry:
    return HourEntry.objects.get(pk=entry.pk)


@pytest.fixture
def approved_entry(fachkraft, traegerleitung, help, log):
    """fachkraft's 60 minutes on `help` yesterday, in a month the lead has approved."""
    entry = log(fachkraft, help=help, date=YESTERDAY, minutes=60)
    services.approve_month(staff=fachkraft, month=TODAY, by=traegerleitung)
    return refreshed(entry)


# --- Approving locks ------------------------------------------------------------------


def test_lead_approves_a_staff_month_and_its_entries_are_locked(
    client, fachkraft, traegerleitung, help, log
):
    entries = [
        log(fachkraft, help=help, date=YESTERDAY),
        log(fachkraft, date=TODAY, minutes=30),
    ]
    client.force_login(traegerleitung)

    response = approve(client, fachkraft)

    assert response.status_code == 302
    approval = MonthApproval.objects.get(staff=fachkraft, month=TODAY.replace(day=1))
    assert (approval.state, approval.decided_by) == (ApprovalState.APPROVED, traegerleitung)
    assert all(refreshed(e).approval == approval for e in entries)


def test_approval_locks_only_that_month(fachkraft, traegerleitung, log):
    last_month = log(fachkraft, date=datetime.date(2026, 10, 31))
    this_month = log(fachkraft, date=datetime.date(2026, 11, 1))

    services.approve_month(staff=fachkraft, month=TODAY, by=traegerleitung)

    assert not refreshed(last_month).is_locked
    assert refreshed(this_month).is_locked


def test_edit_page_of_an_approved_entry_leads_to_the_correction(staff_client, approved_entry):
    response = staff_client.get(reverse("providers:entry_edit", args=[approved_entry.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("providers:entry_correct", args=[approved_entry.pk])


def test_approved_entry_cannot_be_changed(fachkraft, approved_entry):
    with pytest.raises(ValidationError) as refused:
        services.update_entry(entry=approved_entry, by=fachkraft, fields={"minutes": 45})

    assert refused.value.messages == [
        "Genehmigte Einträge können nicht geändert werden; erfassen Sie stattdessen eine Korrektur."
    ]
    assert refreshed(approved_entry).minutes == 60


def test_approved_entry_cannot_be_deleted(fachkraft, approved_entry):
    with pytest.raises(ValidationError) as refused:
        services.delete_entry(entry=approved_entry, by=fachkraft)

    assert refused.value.messages == [
        "Genehmigte Einträge können nicht gelöscht werden; erfassen Sie stattdessen eine Korrektur."
    ]
    assert HourEntry.objects.filter(pk=approved_entry.pk).exists()


def test_delete_button_on_an_approved_entry_keeps_it(staff_client, approved_entry):
    response = staff_client.post(
        reverse("providers:entry_delete", args=[approved_entry.pk]), follow=True
    )

    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        "Genehmigte Einträge können nicht gelöscht werden; erfassen Sie stattdessen eine Korrektur."
    ]
    assert HourEntry.objects.filter(pk=approved_entry.pk).exists()


def test_open_entry_can_still_be_changed_and_deleted(fachkraft, log):
    entry = log(fachkraft, minutes=60)

    services.update_entry(entry=entry, by=fachkraft, fields={"minutes": 45})
    assert refreshed(entry).minutes == 45

    services.delete_entry(entry=entry, by=fachkraft)
    assert not HourEntry.objects.exists()


def test_entries_logged_after_approval_stay_open_until_approved_again(
    fachkraft, traegerleitung, approved_entry, log
):
    later = log(fachkraft, date=TODAY, minutes=30)

    assert not refreshed(later).is_locked
    services.update_entry(entry=later, by=fachkraft, fields={"minutes": 40})

    services.approve_month(staff=fachkraft, month=TODAY, by=traegerleitung)

    assert refreshed(later).is_locked
    assert refreshed(approved_entry).is_locked


def test_future_month_cannot_be_approved(fachkraft, traegerleitung):
    next_month = datetime.date(2026, 12, 1)

    with pytest.raises(ValidationError) as refused:
        services.approve_month(staff=fachkraft, month=next_month, by=traegerleitung)

    assert refused.value.messages == ["Ein zukünftiger Monat kann nicht genehmigt werden."]
    assert not MonthApproval.objects.exists()


# --- Returning with a comment --------------------------------------------------------


def test_return_needs_a_comment(lead_client, fachkraft, log):
    log(fachkraft)

    response = lead_client.post(review_url(fachkraft), {"decision": "return", "comment": "  "})

    assert response.status_code == 400
    assert "Dieses Feld ist zwingend erforderlich." in response.content.decode()
    assert not MonthApproval.objects.exists()


def test_return_service_refuses_a_blank_comment(fachkraft, traegerleitung, log):
    log(fachkraft)

    with pytest.raises(ValidationError) as refused:
        services.return_month(staff=fachkraft, month=TODAY, comment=" ", by=traegerleitung)

    assert refused.value.message_dict == {
        "comment": ["Bitte geben Sie an, was korrigiert werden muss."]
    }


def test_returned_month_shows_the_comment_on_the_staff_sheet(
    client, fachkraft, traegerleitung, log
):
    entry = log(fachkraft)
    client.force_login(traegerleitung)
    comment = "Bitte den Termin am Mittwoch der Hilfe Yilmaz zuordnen."

    response = client.post(review_url(fachkraft), {"decision": "return", "comment": comment})

    assert response.status_code == 302
    approval = MonthApproval.objects.get()
    assert (approval.state, approval.comment) == (ApprovalState.RETURNED, comment)
    assert not refreshed(entry).is_locked
    client.force_login(fachkraft)
    sheet = client.get(reverse("providers:hour_sheet")).content.decode()
    assert comment in sheet


def test_nothing_to_return_when_every_entry_is_approved(fachkraft, traegerleitung, approved_entry):
    with pytest.raises(ValidationError) as refused:
        services.return_month(
            staff=fachkraft, month=TODAY, comment="Bitte prüfen", by=traegerleitung
        )

    assert refused.value.messages == [
        "In diesem Monat gibt es keine offenen Einträge, die zurückgegeben werden könnten."
    ]


# --- Who decides ---------------------------------------------------------------------


def test_lead_cannot_approve_her_own_month(lead_client, traegerleitung, log):
    own = log(traegerleitung)

    page = lead_client.get(review_url(traegerleitung))
    assert page.status_code == 200
    assert page.context["can_decide"] is False

    response = approve(lead_client, traegerleitung)

    assert response.status_code == 400
    assert [str(m) for m in response.context["messages"]] == [
        "Ihre eigenen Stunden werden von einer anderen Teamleitung genehmigt."
    ]
    assert not MonthApproval.objects.exists()
    assert not refreshed(own).is_locked


def test_a_second_lead_of_the_provider_approves_the_first_leads_month(
    client, traegerleitung, provider, log
):
    second_lead = f.make_user("traegerleitung2", traegerleitung.role, provider=provider)
    own = log(traegerleitung)
    client.force_login(second_lead)

    assert approve(client, traegerleitung).status_code == 302

    assert refreshed(own).is_locked


def test_lead_cannot_review_or_approve_another_providers_staff(
    lead_client, fachkraft_other_provider, log
):
    theirs = log(fachkraft_other_provider)

    assert lead_client.get(review_url(fachkraft_other_provider)).status_code == 404
    assert approve(lead_client, fachkraft_other_provider).status_code == 404
    assert not refreshed(theirs).is_locked


def test_approve_service_refuses_another_providers_staff(traegerleitung, fachkraft_other_provider):
    with pytest.raises(PermissionDenied):
        services.approve_month(staff=fachkraft_other_provider, month=TODAY, by=traegerleitung)


def test_staff_cannot_approve_at_all(fachkraft, traegerleitung, staff_client):
    assert approve(staff_client, traegerleitung).status_code == 403
    with pytest.raises(PermissionDenied):
        services.approve_month(staff=traegerleitung, month=TODAY, by=fachkraft)


# --- Corrections -----------------------------------------------------------------------


def test_correction_is_a_new_linked_entry_with_the_difference(
    staff_client, fachkraft, approved_entry
):
    response = staff_client.post(
        reverse("providers:entry_correct", args=[approved_entry.pk]),
        {"corrected_minutes": "45", "reason": "Termin endete früher"},
    )

    assert response.status_code == 302
    correction = HourEntry.objects.get(corrects=approved_entry)
    assert correction.minutes == -15
    assert (correction.date, correction.kind, correction.help_id) == (
        approved_entry.date,
        approved_entry.kind,
        approved_entry.help_id,
    )
    assert correction.note == "Termin endete früher"
    assert not correction.is_locked
    original = refreshed(approved_entry)
    assert (original.minutes, original.approval_id) == (60, approved_entry.approval_id)


def test_month_total_counts_the_corrected_duration(staff_client, fachkraft, approved_entry):
    services.correct_entry(
        original=approved_entry, corrected_minutes=45, reason="früher beendet", by=fachkraft
    )

    assert hour_sheet(fachkraft, MONDAY, TODAY)["month_total"] == 45
    page = staff_client.get(reverse("providers:hour_sheet"))
    assert '<strong id="month-total">45</strong>' in page.content.decode()


def test_second_correction_holds_the_difference_to_the_corrected_value(fachkraft, approved_entry):
    services.correct_entry(original=approved_entry, corrected_minutes=45, reason="a", by=fachkraft)

    second = services.correct_entry(
        original=approved_entry, corrected_minutes=50, reason="b", by=fachkraft
    )

    assert second.minutes == 5
    assert hour_sheet(fachkraft, MONDAY, TODAY)["month_total"] == 50


def test_correction_needs_a_reason(fachkraft, approved_entry):
    with pytest.raises(ValidationError) as refused:
        services.correct_entry(
            original=approved_entry, corrected_minutes=45, reason=" ", by=fachkraft
        )

    assert refused.value.message_dict == {"reason": ["Bitte begründen Sie die Korrektur."]}
    assert not HourEntry.objects.filter(corrects=approved_entry).exists()


def test_correction_to_the_same_duration_is_refused(fachkraft, approved_entry):
    with pytest.raises(ValidationError) as refused:
        services.correct_entry(
            original=approved_entry, corrected_minutes=60, reason="keine", by=fachkraft
        )

    assert "corrected_minutes" in refused.value.message_dict
    assert not HourEntry.objects.filter(corrects=approved_entry).exists()


def test_open_entry_is_edited_not_corrected(fachkraft, log):
    entry = log(fachkraft)

    with pytest.raises(ValidationError) as refused:
        services.correct_entry(original=entry, corrected_minutes=45, reason="x", by=fachkraft)

    assert refused.value.messages == ["Noch nicht genehmigte Einträge werden einfach bearbeitet."]


def test_correction_cannot_be_changed_through_the_edit_page(
    staff_client, fachkraft, approved_entry
):
    correction = services.correct_entry(
        original=approved_entry, corrected_minutes=45, reason="früher", by=fachkraft
    )
    url = reverse("providers:entry_edit", args=[correction.pk])
    correct_url = reverse("providers:entry_correct", args=[approved_entry.pk])

    page = staff_client.get(url)
    posted = staff_client.post(url, {"minutes": "-400", "date": TODAY.isoformat()})

    assert (page.status_code, page["Location"]) == (302, correct_url)
    assert (posted.status_code, posted["Location"]) == (302, correct_url)
    assert refreshed(correction).minutes == -15


def test_update_service_refuses_to_change_a_correction(fachkraft, approved_entry):
    correction = services.correct_entry(
        original=approved_entry, corrected_minutes=45, reason="früher", by=fachkraft
    )

    with pytest.raises(ValidationError):
        services.update_entry(entry=correction, by=fachkraft, fields={"minutes": -400})


def test_correction_is_locked_when_the_month_is_approved_again(
    fachkraft, traegerleitung, approved_entry
):
    correction = services.correct_entry(
        original=approved_entry, corrected_minutes=45, reason="früher", by=fachkraft
    )

    services.approve_month(staff=fachkraft, month=TODAY, by=traegerleitung)

    assert refreshed(correction).is_locked
    with pytest.raises(ValidationError):
        services.delete_entry(entry=approved_entry, by=fachkraft)
