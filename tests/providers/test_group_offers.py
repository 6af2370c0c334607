"""Preventive group offers, group sessions split across helps, and copying recurring entries.

A session is recorded for a past or present day inside the offer's period, with a
duration of 5 to 600 minutes; registered participants come only from families the
provider serves. A session with several families is logged once and split evenly
across their helps. Last week's recurring entries can be copied into this week.
"""

import datetime
import re
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape
from pytest_django.asserts import assertFormError

from providers import services
from providers.models import GroupOffer, GroupSession, HourEntry, HourKind
from tests import factories as f

from .conftest import MONDAY, TODAY

pytestmark = pytest.mark.django_db

ONE_DAY = datetime.timedelta(days=1)


def assert_refused_next_to_field(response, field: str, message: str) -> None:
    assert response.status_code == 400
    assertFormError(response.context["form"], field, message)
    box = re.search(
        rf'<div id="id_{field}_error" class="invalid-feedback">(.*?)</div>',
        response.content.decode(),
        re.S,
    )
    assert box is not None, f"no error box under {field}"
    assert escape(message) in box.group(1)


@pytest.fixture
def offer(provider, region, fachkraft):
    offer = GroupOffer.objects.create(
        provider=provider,
        region=region,
        topic="Elterncafé",
        target_group="Eltern mit Kindern unter 6",
        starts_on=datetime.date(2026, 10, 1),
        ends_on=datetime.date(2026, 12, 31),
    )
    offer.staff.add(fachkraft)
    return offer


def session_data(**overrides) -> dict:
    data = {
        "date": TODAY.isoformat(),
        "duration_minutes": "90",
        "anonymous_participants": "6",
    }
    return {**data, **overrides}


def session_url(offer) -> str:
    return reverse("providers:group_offer_detail", args=[offer.pk])


# --- Offers ----------------------------------------------------------------------------


def test_staff_creates_an_offer_for_her_provider(staff_client, fachkraft, provider, region):
    response = staff_client.post(
        reverse("providers:group_offer_new"),
        {
            "topic": "Väterfrühstück",
            "target_group": "Väter im Sozialraum",
            "region": region.pk,
            "staff": [fachkraft.pk],
            "starts_on": "2026-11-01",
            "ends_on": "2027-03-31",
        },
    )

    offer = GroupOffer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == session_url(offer)
    assert (offer.provider, offer.region, list(offer.staff.all())) == (
        provider,
        region,
        [fachkraft],
    )


def test_offer_staff_come_only_from_the_own_provider(
    staff_client, fachkraft_other_provider, region
):
    response = staff_client.post(
        reverse("providers:group_offer_new"),
        {
            "topic": "Väterfrühstück",
            "target_group": "Väter",
            "region": region.pk,
            "staff": [fachkraft_other_provider.pk],
            "starts_on": "2026-11-01",
        },
    )

    assert_refused_next_to_field(
        response,
        "staff",
        f"Bitte eine gültige Auswahl treffen. {fachkraft_other_provider.pk} "
        "ist keine gültige Auswahl.",
    )
    assert not GroupOffer.objects.exists()


def test_offer_ending_before_it_starts_is_refused(staff_client, region):
    response = staff_client.post(
        reverse("providers:group_offer_new"),
        {
            "topic": "Väterfrühstück",
            "target_group": "Väter",
            "region": region.pk,
            "starts_on": "2026-11-01",
            "ends_on": "2026-10-31",
        },
    )

    assert_refused_next_to_field(response, "ends_on", "Das Ende darf nicht vor dem Beginn liegen.")
    assert not GroupOffer.objects.exists()


# --- Sessions --------------------------------------------------------------------------


def test_session_is_recorded(staff_client, offer, case):
    child = case.family.members.get()

    response = staff_client.post(
        session_url(offer), session_data(registered_participants=[child.pk])
    )

    assert response.status_code == 302
    session = GroupSession.objects.get()
    assert (session.offer, session.date, session.duration_minutes) == (offer, TODAY, 90)
    assert session.anonymous_participants == 6
    assert list(session.registered_participants.all()) == [child]


def test_session_on_a_future_day_is_refused(staff_client, offer):
    response = staff_client.post(session_url(offer), session_data(date="2026-11-19"))

    assert_refused_next_to_field(
        response, "date", "Ein Termin kann nicht für einen Tag in der Zukunft erfasst werden."
    )
    assert not GroupSession.objects.exists()


def test_session_before_the_offer_starts_is_refused(staff_client, offer):
    response = staff_client.post(session_url(offer), session_data(date="2026-09-30"))

    assert_refused_next_to_field(
        response, "date", "Der Termin liegt außerhalb des Zeitraums des Angebots."
    )
    assert not GroupSession.objects.exists()


def test_session_after_the_offer_ended_is_refused(staff_client, offer):
    offer.ends_on = datetime.date(2026, 11, 10)
    offer.save(update_fields=["ends_on"])

    response = staff_client.post(session_url(offer), session_data(date="2026-11-11"))

    assert_refused_next_to_field(
        response, "date", "Der Termin liegt außerhalb des Zeitraums des Angebots."
    )
    assert not GroupSession.objects.exists()


@pytest.mark.parametrize("day", ["2026-10-01", "2026-11-18"])
def test_session_on_the_first_day_or_today_is_accepted(staff_client, offer, day):
    assert staff_client.post(session_url(offer), session_data(date=day)).status_code == 302


@pytest.mark.parametrize("minutes", ["4", "601"])
def test_session_duration_outside_5_to_600_minutes_is_refused(staff_client, offer, minutes):
    response = staff_client.post(session_url(offer), session_data(duration_minutes=minutes))

    assert_refused_next_to_field(
        response, "duration_minutes", "Die Dauer muss zwischen 5 und 600 Minuten liegen."
    )
    assert not GroupSession.objects.exists()


def test_participants_come_only_from_families_the_provider_serves(
    staff_client, offer, case, other_case, other_help
):
    outsider = other_case.family.members.get()

    page = staff_client.get(session_url(offer))
    response = staff_client.post(
        session_url(offer), session_data(registered_participants=[outsider.pk])
    )

    choices = page.context["form"].fields["registered_participants"].queryset
    assert list(choices) == list(case.family.members.all())
    assert_refused_next_to_field(
        response,
        "registered_participants",
        f"Bitte eine gültige Auswahl treffen. {outsider.pk} ist keine gültige Auswahl.",
    )
    assert not GroupSession.objects.exists()


# --- A session with several families, split across their helps ------------------------


@pytest.fixture
def three_helps(help, asd, provider):
    others = [
        f.make_help(f.make_case(asd, family_name=name), provider) for name in ("Wagner", "Öztürk")
    ]
    return [help, *others]


def split_data(helps, key, **overrides) -> dict:
    data = {
        "idempotency_key": str(key),
        "date": TODAY.isoformat(),
        "minutes": "90",
        "helps": [h.pk for h in helps],
        "note": "Elterncafé",
    }
    return {**data, **overrides}


def test_90_minutes_over_three_helps_give_three_linked_30_minute_entries(
    staff_client, fachkraft, three_helps
):
    key = uuid.uuid4()

    response = staff_client.post(reverse("providers:group_split"), split_data(three_helps, key))

    assert response.status_code == 302
    entries = HourEntry.objects.order_by("help_id")
    assert [(e.help, e.minutes) for e in entries] == [(h, 30) for h in three_helps]
    assert {e.split_group for e in entries} == {key}
    assert {(e.staff, e.kind, e.date) for e in entries} == {
        (fachkraft, HourKind.CASE_SPECIFIC, TODAY)
    }


def test_resubmitting_the_same_split_creates_nothing_new(staff_client, three_helps):
    data = split_data(three_helps, uuid.uuid4())
    staff_client.post(reverse("providers:group_split"), data)
    first = set(HourEntry.objects.values_list("pk", flat=True))

    response = staff_client.post(reverse("providers:group_split"), data)

    assert response.status_code == 302
    assert set(HourEntry.objects.values_list("pk", flat=True)) == first


def test_minutes_that_do_not_divide_evenly_go_to_the_first_helps(fachkraft, three_helps):
    entries = services.log_group_session(
        staff=fachkraft, idempotency_key=uuid.uuid4(), date=TODAY, minutes=100, helps=three_helps
    )

    assert [e.minutes for e in entries] == [34, 33, 33]


def test_split_needs_at_least_two_helps(staff_client, help):
    response = staff_client.post(reverse("providers:group_split"), split_data([help], uuid.uuid4()))

    assert_refused_next_to_field(
        response, "helps", "Wählen Sie mindestens zwei Hilfen, auf die der Termin aufgeteilt wird."
    )
    assert not HourEntry.objects.exists()


def test_split_refuses_shares_under_5_minutes(staff_client, three_helps):
    response = staff_client.post(
        reverse("providers:group_split"), split_data(three_helps, uuid.uuid4(), minutes="14")
    )

    assert_refused_next_to_field(
        response, "minutes", "Jeder Anteil muss mindestens 5 Minuten betragen."
    )
    assert not HourEntry.objects.exists()


def test_split_saves_nothing_when_one_help_was_not_running_that_day(fachkraft, three_helps):
    late = three_helps[2]
    late.start = TODAY
    late.save(update_fields=["start"])

    with pytest.raises(ValidationError):
        services.log_group_session(
            staff=fachkraft,
            idempotency_key=uuid.uuid4(),
            date=TODAY - ONE_DAY,
            minutes=90,
            helps=three_helps,
        )

    assert not HourEntry.objects.exists()


# --- Copying last week's recurring entries ------------------------------------------


def copy(client, week="2026-W47"):
    return client.post(reverse("providers:copy_last_week"), {"week": week}, follow=True)


def test_only_recurring_entries_are_copied_into_this_week(staff_client, fachkraft, help, log):
    last_monday = MONDAY - datetime.timedelta(days=7)
    recurring = log(
        fachkraft,
        help=help,
        date=last_monday,
        start_time=datetime.time(9),
        end_time=datetime.time(10),
        recurring=True,
        note="Wochentermin",
    )
    log(fachkraft, help=help, date=last_monday + ONE_DAY, note="einmalig")

    response = copy(staff_client)

    assert response.status_code == 200
    copied = HourEntry.objects.get(date=MONDAY)
    assert (copied.help, copied.minutes, copied.note, copied.recurring) == (
        help,
        60,
        "Wochentermin",
        True,
    )
    assert (copied.start_time, copied.end_time) == (recurring.start_time, recurring.end_time)
    assert HourEntry.objects.count() == 3
    assert len(list(response.context["messages"])) == 1


def test_copying_twice_creates_nothing_new(staff_client, fachkraft, log):
    log(fachkraft, date=MONDAY - datetime.timedelta(days=7), recurring=True)

    copy(staff_client)
    copy(staff_client)

    assert HourEntry.objects.filter(date=MONDAY).count() == 1


def test_invalid_copies_are_skipped_with_a_message(staff_client, fachkraft, help, asd, log):
    last_monday = MONDAY - datetime.timedelta(days=7)
    ended = f.make_help(
        f.make_case(asd, family_name="Wagner"),
        help.provider,
        start=TODAY - datetime.timedelta(days=60),
        end=MONDAY - ONE_DAY,
        end_reason="as_planned",
    )
    log(fachkraft, help=ended, date=last_monday, recurring=True)
    log(fachkraft, date=last_monday + datetime.timedelta(days=4), recurring=True)  # Friday
    log(fachkraft, date=last_monday + ONE_DAY, recurring=True)  # Tuesday: fine

    response = copy(staff_client)

    assert list(HourEntry.objects.filter(date__gte=MONDAY).values_list("date", flat=True)) == [
        MONDAY + ONE_DAY
    ]
    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 3
    assert any("16.11.2026: Diese Hilfe lief an diesem Tag nicht." in m for m in messages)
    assert any(
        "20.11.2026: Für einen Tag in der Zukunft können keine Stunden erfasst werden." in m
        for m in messages
    )
