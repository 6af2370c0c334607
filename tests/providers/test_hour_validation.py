"""Every rule of an hour entry, with its German message next to the field, and nothing saved.

The rules (providers/services.py `_check_entry`): no future day; 5 to 600 minutes;
a case-specific entry names a help of the own provider that was active that day;
at most 14 hours a day; no two entries of one person at the same time; the end
after the start. A double submit of the same form saves once.
"""

import datetime
import re
import uuid

import pytest
from django.contrib.messages import INFO, SUCCESS
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext
from pytest_django.asserts import assertFormError

from providers import services
from providers.models import HourEntry
from tests import factories as f

from .conftest import TODAY

pytestmark = pytest.mark.django_db

URL = reverse("providers:hour_sheet")
ONE_DAY = datetime.timedelta(days=1)


def entry_data(**overrides) -> dict:
    data = {
        "idempotency_key": str(uuid.uuid4()),
        "date": TODAY.isoformat(),
        "start_time": "",
        "end_time": "",
        "minutes": "60",
        "kind": "case_unspecific",
        "help": "",
        "activity": "networking",
        "note": "",
    }
    return {**data, **overrides}


def assert_refused_next_to_field(response, field: str, message: str) -> None:
    """The sheet came back with 400 and `message` in the error box under `field`."""
    assert response.status_code == 400
    assertFormError(response.context["form"], field, message)
    box = re.search(
        rf'<div id="id_{field}_error" class="invalid-feedback">(.*?)</div>',
        response.content.decode(),
        re.S,
    )
    assert box is not None, f"no error box under {field}"
    assert escape(message) in box.group(1)


def test_valid_entry_is_saved_and_shown_on_the_sheet(staff_client, fachkraft, help):
    """The counterpart of the refusals below: the same data with nothing wrong is saved."""
    response = staff_client.post(
        URL, entry_data(kind="case_specific", help=help.pk, activity="direct_work"), follow=True
    )

    entry = HourEntry.objects.get()
    assert (entry.staff, entry.help, entry.minutes, entry.date) == (fachkraft, help, 60, TODAY)
    assert [m.level for m in response.context["messages"]] == [SUCCESS]


def test_day_in_the_future_is_refused(staff_client):
    response = staff_client.post(URL, entry_data(date=(TODAY + ONE_DAY).isoformat()))

    assert_refused_next_to_field(
        response, "date", "Für einen Tag in der Zukunft können keine Stunden erfasst werden."
    )
    assert not HourEntry.objects.exists()


@pytest.mark.parametrize("minutes", ["4", "601", "0", "-30"])
def test_duration_outside_5_to_600_minutes_is_refused(staff_client, minutes):
    response = staff_client.post(URL, entry_data(minutes=minutes))

    assert_refused_next_to_field(
        response, "minutes", "Die Dauer muss zwischen 5 und 600 Minuten liegen."
    )
    assert not HourEntry.objects.exists()


@pytest.mark.parametrize("minutes", ["5", "600"])
def test_duration_of_exactly_5_or_600_minutes_is_accepted(staff_client, minutes):
    response = staff_client.post(URL, entry_data(minutes=minutes))

    assert response.status_code == 302
    assert HourEntry.objects.get().minutes == int(minutes)


def test_case_specific_entry_without_help_is_refused(staff_client):
    response = staff_client.post(URL, entry_data(kind="case_specific", activity="direct_work"))

    assert_refused_next_to_field(
        response,
        "help",
        "Ein fallspezifischer Eintrag muss der Hilfe zugeordnet werden, für die er erbracht wurde.",
    )
    assert not HourEntry.objects.exists()


def test_help_of_another_provider_is_not_offered_in_the_form(staff_client, help, other_help):
    page = staff_client.get(URL)
    assert list(page.context["form"].fields["help"].queryset) == [help]

    response = staff_client.post(URL, entry_data(kind="case_specific", help=other_help.pk))

    assert_refused_next_to_field(
        response, "help", "Bitte eine gültige Auswahl treffen. Dies ist keine gültige Auswahl."
    )
    assert not HourEntry.objects.exists()


def test_service_refuses_help_of_another_provider(fachkraft, other_help):
    with pytest.raises(ValidationError) as refused:
        services.log_hours(
            staff=fachkraft,
            idempotency_key=uuid.uuid4(),
            date=TODAY,
            minutes=60,
            kind="case_specific",
            activity="direct_work",
            help=other_help,
        )

    assert refused.value.message_dict == {
        "help": ["Diese Hilfe wird von einem anderen Träger erbracht."]
    }
    assert not HourEntry.objects.exists()


def test_service_refuses_a_day_the_help_was_not_running(fachkraft, help):
    before_start = help.start - ONE_DAY

    with pytest.raises(ValidationError) as refused:
        services.log_hours(
            staff=fachkraft,
            idempotency_key=uuid.uuid4(),
            date=before_start,
            minutes=60,
            kind="case_specific",
            activity="direct_work",
            help=help,
        )

    assert refused.value.message_dict == {"help": ["Diese Hilfe lief an diesem Tag nicht."]}
    assert not HourEntry.objects.exists()


def test_service_refuses_a_day_after_the_help_ended(fachkraft, provider, asd, log):
    ended = f.make_help(
        f.make_case(asd, family_name="Wagner"),
        provider,
        start=TODAY - datetime.timedelta(days=60),
        end=TODAY - datetime.timedelta(days=10),
        end_reason="as_planned",
    )

    with pytest.raises(ValidationError) as refused:
        log(fachkraft, help=ended, date=TODAY - datetime.timedelta(days=9))

    assert refused.value.message_dict == {"help": ["Diese Hilfe lief an diesem Tag nicht."]}
    log(fachkraft, help=ended, date=TODAY - datetime.timedelta(days=10))  # the last day counts


def test_more_than_14_hours_on_one_day_is_refused(staff_client, fachkraft, log):
    log(fachkraft, minutes=600)
    log(fachkraft, minutes=200)

    response = staff_client.post(URL, entry_data(minutes="60"))

    assert_refused_next_to_field(
        response,
        "minutes",
        "Höchstens 14 Stunden pro Tag: An diesem Tag sind bereits 800 Minuten erfasst.",
    )
    assert HourEntry.objects.count() == 2


def test_exactly_14_hours_on_one_day_are_accepted(staff_client, fachkraft, log):
    log(fachkraft, minutes=600)

    response = staff_client.post(URL, entry_data(minutes="240"))

    assert response.status_code == 302
    assert HourEntry.objects.count() == 2


def test_overlapping_times_are_refused(staff_client, fachkraft, log):
    log(fachkraft, start_time=datetime.time(9), end_time=datetime.time(10), minutes=60)

    response = staff_client.post(URL, entry_data(start_time="09:30", end_time="11:00", minutes=""))

    assert_refused_next_to_field(
        response, "start_time", "Sie haben zu dieser Uhrzeit bereits einen anderen Eintrag erfasst."
    )
    assert HourEntry.objects.count() == 1


def test_back_to_back_entries_do_not_overlap(staff_client, fachkraft, log):
    log(fachkraft, start_time=datetime.time(9), end_time=datetime.time(10), minutes=60)

    response = staff_client.post(URL, entry_data(start_time="10:00", end_time="11:00", minutes=""))

    assert response.status_code == 302
    assert HourEntry.objects.get(start_time=datetime.time(10)).minutes == 60
    sheet = staff_client.get(response["Location"]).content.decode()
    assert "09:00–10:00" in sheet
    assert "10:00–11:00" in sheet


def test_another_persons_entry_at_the_same_time_is_no_overlap(staff_client, traegerleitung, log):
    log(traegerleitung, start_time=datetime.time(9), end_time=datetime.time(10), minutes=60)

    response = staff_client.post(URL, entry_data(start_time="09:00", end_time="10:00"))

    assert response.status_code == 302
    assert HourEntry.objects.count() == 2


def test_end_before_start_is_refused(staff_client):
    response = staff_client.post(URL, entry_data(start_time="14:00", end_time="13:00"))

    assert_refused_next_to_field(response, "end_time", "Das Ende muss nach dem Beginn liegen.")
    assert not HourEntry.objects.exists()


def test_double_submit_with_the_same_key_saves_one_entry(staff_client):
    data = entry_data()

    first = staff_client.post(URL, data, follow=True)
    second = staff_client.post(URL, data, follow=True)

    assert first.redirect_chain[0][1] == 302
    assert second.redirect_chain[0][1] == 302
    assert HourEntry.objects.count() == 1
    [message] = list(second.context["messages"])
    assert message.level == INFO
    assert str(message) == gettext("This entry had already been saved.")


def test_already_saved_message_is_german(staff_client):
    data = entry_data()
    staff_client.post(URL, data, follow=True)

    second = staff_client.post(URL, data, follow=True)

    [message] = list(second.context["messages"])
    assert str(message) != "This entry had already been saved."
