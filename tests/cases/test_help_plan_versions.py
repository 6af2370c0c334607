"""The help plan (§ 36) is versioned: saving never overwrites, and a stale save is refused."""

import datetime
import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from cases.models import HelpPlan
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

CONFLICT_MESSAGE = (
    "Someone else saved a newer version of this help plan while you were writing. "
    "Your text is still in the form below; compare it with the current version and save again."
)


def plan_data(*, based_on_version: int, meeting_date: datetime.date, **overrides) -> dict:
    """The form as the page sends it; every plan here has one goal, so a form that starts
    from an existing version carries one initial goal form."""
    data = {
        "based_on_version": based_on_version,
        "meeting_date": meeting_date.isoformat(),
        "participants": "Mutter, Mehmet, ASD, Fachkraft",
        "young_person_present": "on",
        "parents_present": "on",
        "agreed_steps": "Zweimal pro Woche Hausbesuch",
        "next_review_due": "",
        "goals-TOTAL_FORMS": "1",
        "goals-INITIAL_FORMS": "1" if based_on_version else "0",
        "goals-MIN_NUM_FORMS": "0",
        "goals-MAX_NUM_FORMS": "20",
        "goals-0-description": "Mehmet geht jeden Tag zur Schule",
        "goals-0-status": "in_progress",
    }
    return {**data, **overrides}


def save_plan(client, help, **kwargs):
    kwargs.setdefault("meeting_date", f.today())
    return client.post(reverse("cases:plan_new", args=[help.pk]), plan_data(**kwargs))


def test_plan_update_makes_a_new_version_and_the_old_stays_readable(client, asd, running_help):
    first = running_help.plans.get()
    client.force_login(asd)

    response = save_plan(client, running_help, based_on_version=1)

    assert response.status_code == 302
    first.refresh_from_db()
    second = running_help.plans.get(is_current=True)
    assert (first.version, first.is_current) == (1, False)
    assert second.version == 2
    assert first.agreed_steps == "Wöchentliche Termine"  # untouched
    old_page = client.get(reverse("cases:plan_detail", args=[first.pk]))
    assert old_page.status_code == 200
    assert "Wöchentliche Termine" in old_page.content.decode()
    assert "earlier version" in old_page.content.decode()


# --- Two people editing the same plan ----------------------------------------------


@pytest.fixture
def stale_save(client, asd, asdlead, running_help):
    """Lead and owner both opened version 1; the lead saved first, then the owner saves."""
    client.force_login(asdlead)
    assert save_plan(client, running_help, based_on_version=1, agreed_steps="Text der Leitung")
    client.force_login(asd)
    return save_plan(client, running_help, based_on_version=1, agreed_steps="Text der Fallführung")


def test_second_save_on_a_stale_version_is_told_of_the_conflict(stale_save):
    assert stale_save.status_code == 409
    assert CONFLICT_MESSAGE in [str(m) for m in stale_save.context["messages"]]
    assert stale_save.context["conflict"] is True


def test_second_save_on_a_stale_version_keeps_the_typed_text_in_the_form(stale_save):
    form = stale_save.context["form"]
    assert form["agreed_steps"].value() == "Text der Fallführung"
    assert "Text der Fallführung" in stale_save.content.decode()
    # Saving again now builds on the version that won.
    assert int(form["based_on_version"].value()) == 2


def test_second_save_on_a_stale_version_overwrites_nothing(stale_save, running_help):
    versions = list(running_help.plans.order_by("version").values_list("version", "agreed_steps"))
    assert versions == [(1, "Wöchentliche Termine"), (2, "Text der Leitung")]
    assert running_help.plans.get(is_current=True).version == 2


# --- Review date and PDF -----------------------------------------------------------


@pytest.mark.parametrize(
    ("meeting", "review"),
    [
        (datetime.date(2025, 3, 15), datetime.date(2025, 9, 15)),
        # No 31 February: the review falls on the last day of the month.
        (datetime.date(2025, 8, 31), datetime.date(2026, 2, 28)),
    ],
)
def test_next_review_defaults_to_six_months_after_the_meeting(
    client, asd, provider, meeting, review
):
    case = f.make_case(asd, opened_on=datetime.date(2025, 1, 2))
    help = f.make_help(case, provider)
    client.force_login(asd)

    response = save_plan(client, help, based_on_version=0, meeting_date=meeting)

    assert response.status_code == 302
    assert HelpPlan.objects.get(help=help).next_review_due == review


def test_plan_pdf_is_a_real_pdf_with_the_goals(client, asd, running_help):
    plan = running_help.plans.get()
    client.force_login(asd)

    response = client.get(reverse("cases:plan_pdf", args=[plan.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Schulbesuch regelmäßig" in text


def test_a_plan_version_names_the_resources_and_the_help_counts_for_them(client, asd, case):
    from cases.models import Resource

    help = case.helps.get()
    kita = Resource.objects.create(
        region=case.family.region, organisation="Kita Sonnenschein", kind="kindergarten"
    )
    client.force_login(asd)
    current = help.plans.get(is_current=True)

    response = client.post(
        reverse("cases:plan_new", args=[help.pk]),
        {
            "based_on_version": current.version,
            "meeting_date": f.today().isoformat(),
            "participants": "Mutter, Kind",
            "agreed_steps": "Kita-Besuch",
            "next_review_due": "",
            "resources": [kita.pk],
            "goals-TOTAL_FORMS": "1",
            "goals-INITIAL_FORMS": "0",
            "goals-MIN_NUM_FORMS": "0",
            "goals-MAX_NUM_FORMS": "20",
            "goals-0-description": "Regelmäßiger Kita-Besuch",
            "goals-0-status": "open",
        },
    )

    assert response.status_code == 302
    new = help.plans.get(is_current=True)
    assert list(new.resources.all()) == [kita]
    assert list(help.resources.all()) == [kita]
    assert Resource.objects.with_active_help_count().get(pk=kita.pk).active_helps == 1
