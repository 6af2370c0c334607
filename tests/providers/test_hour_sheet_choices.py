"""The help dropdowns of a big provider list the professional's own helps, not all of them.

A provider with more than SHOW_ALL_HELPS_UP_TO loggable helps shows a professional the
helps she is responsible for and those she logged hours on in the last eight weeks; a
team lead finds any other loggable help through the search box. Any loggable help of the
provider is still accepted when submitted, and nothing of another provider ever is.
"""

import datetime
import uuid

import pytest
from django.urls import reverse

from providers.models import HourEntry, HourKind
from providers.selectors import HELP_SEARCH_LIMIT, SHOW_ALL_HELPS_UP_TO
from tests import factories as f

from .conftest import TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_helps(asd, provider):
    """More running helps of `provider` than the dropdown shows at once."""
    return [
        f.make_help(f.make_case(asd, family_name=f"Menge {i:02d}"), provider)
        for i in range(SHOW_ALL_HELPS_UP_TO + 2)
    ]


@pytest.fixture
def own_help(asd, provider, fachkraft):
    help = f.make_help(f.make_case(asd, family_name="Eigene"), provider)
    help.responsible_staff = fachkraft
    help.save(update_fields=["responsible_staff"])
    return help


@pytest.fixture
def logged_help(asd, provider, fachkraft, log):
    """A help fachkraft is not responsible for but logged hours on three weeks ago."""
    help = f.make_help(f.make_case(asd, family_name="Bekannt"), provider)
    log(fachkraft, help=help, date=TODAY - datetime.timedelta(weeks=3))
    return help


def choice_ids(response, field="help") -> set[int]:
    form = response.context["form"]
    return {int(str(value)) for value, __ in form.fields[field].choices if value != ""}


def entry_data(help, **extra):
    return {
        "idempotency_key": str(uuid.uuid4()),
        "date": TODAY.isoformat(),
        "minutes": "60",
        "kind": HourKind.CASE_SPECIFIC,
        "help": str(help.pk),
        "activity": "direct_work",
        **extra,
    }


def test_a_small_provider_shows_all_its_loggable_helps(staff_client, help):
    response = staff_client.get(reverse("providers:hour_sheet"))

    assert choice_ids(response) == {help.pk}


def test_a_big_provider_shows_own_and_recently_logged_helps_only(
    staff_client, many_helps, own_help, logged_help
):
    response = staff_client.get(reverse("providers:hour_sheet"))

    assert choice_ids(response) == {own_help.pk, logged_help.pk}
    content = response.content.decode()
    assert "Menge 05" not in content
    # The delivered-hours lines cover the shown helps only.
    assert {line.help.pk for line in response.context["help_lines"]} == {
        own_help.pk,
        logged_help.pk,
    }


def test_hours_logged_more_than_eight_weeks_ago_do_not_keep_a_help_shown(
    staff_client, many_helps, fachkraft, log
):
    old = many_helps[0]
    log(fachkraft, help=old, date=TODAY - datetime.timedelta(weeks=9))

    response = staff_client.get(reverse("providers:hour_sheet"))

    assert old.pk not in choice_ids(response)


def test_a_help_not_shown_is_still_accepted_when_posted(staff_client, many_helps, fachkraft):
    hidden = many_helps[3]

    response = staff_client.post(reverse("providers:hour_sheet"), entry_data(hidden))

    assert response.status_code == 302
    assert HourEntry.objects.get(staff=fachkraft).help == hidden


def test_a_refused_entry_keeps_showing_the_posted_help(staff_client, many_helps):
    hidden = many_helps[3]

    response = staff_client.post(reverse("providers:hour_sheet"), entry_data(hidden, minutes="700"))

    assert response.status_code == 400
    assert hidden.pk in choice_ids(response)


def test_a_help_of_another_provider_is_neither_shown_nor_accepted(
    staff_client, many_helps, other_help, fachkraft
):
    # Not even when she is named as its responsible staff member (say, from a former job).
    other_help.responsible_staff = fachkraft
    other_help.save(update_fields=["responsible_staff"])
    response = staff_client.get(reverse("providers:hour_sheet"), {"help_q": "Becker"})
    assert other_help.pk not in choice_ids(response)

    response = staff_client.post(reverse("providers:hour_sheet"), entry_data(other_help))

    assert response.status_code == 400
    assert "help" in response.context["form"].errors
    assert not HourEntry.objects.exists()


def test_the_lead_finds_another_help_by_family_name_or_file_number(lead_client, many_helps):
    wanted = many_helps[7]

    by_name = lead_client.get(reverse("providers:hour_sheet"), {"help_q": "menge 07"})
    by_reference = lead_client.get(
        reverse("providers:hour_sheet"), {"help_q": wanted.case.reference}
    )

    for response in (by_name, by_reference):
        assert response.status_code == 200
        assert wanted.pk in choice_ids(response)
        assert [h.pk for h in response.context["help_hits"]] == [wanted.pk]
    assert 'id="help-q-result"' in by_name.content.decode()


def test_the_lead_search_is_capped(lead_client, many_helps):
    response = lead_client.get(reverse("providers:hour_sheet"), {"help_q": "Menge"})

    assert len(response.context["help_hits"]) == HELP_SEARCH_LIMIT


def test_the_lead_search_never_finds_another_providers_help(lead_client, many_helps, other_help):
    response = lead_client.get(reverse("providers:hour_sheet"), {"help_q": "Becker"})

    assert response.context["help_hits"] == []
    assert other_help.pk not in choice_ids(response)


def test_a_professional_has_no_search(staff_client, many_helps):
    response = staff_client.get(reverse("providers:hour_sheet"), {"help_q": "Menge"})

    assert response.context["help_hits"] is None
    assert 'name="help_q"' not in response.content.decode()
    assert choice_ids(response) == set()


@pytest.mark.parametrize(
    "term", ["", "x", " ", "%", "_%_", "' OR 1=1 --", "ä" * 500, "\x00", "Men\x00ge", "Menge\\"]
)
def test_bad_search_input_never_fails(lead_client, many_helps, term):
    response = lead_client.get(reverse("providers:hour_sheet"), {"help_q": term})

    assert response.status_code == 200


def test_group_split_shows_own_helps_and_accepts_any_loggable_help(
    staff_client, many_helps, own_help, fachkraft
):
    response = staff_client.get(reverse("providers:group_split"))
    assert choice_ids(response, "helps") == {own_help.pk}

    response = staff_client.post(
        reverse("providers:group_split"),
        {
            "idempotency_key": str(uuid.uuid4()),
            "date": TODAY.isoformat(),
            "minutes": "90",
            "helps": [str(own_help.pk), str(many_helps[2].pk)],
        },
    )

    assert response.status_code == 302
    assert set(HourEntry.objects.filter(staff=fachkraft).values_list("help_id", flat=True)) == {
        own_help.pk,
        many_helps[2].pk,
    }


def test_editing_an_entry_shows_its_help_even_when_no_longer_recent(
    staff_client, many_helps, fachkraft, log
):
    hidden = many_helps[4]
    entry = log(fachkraft, help=hidden, date=TODAY - datetime.timedelta(weeks=8, days=3))

    response = staff_client.get(reverse("providers:entry_edit", args=[entry.pk]))

    assert response.status_code == 200
    assert hidden.pk in choice_ids(response)
