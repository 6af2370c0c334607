"""Controlling workshops: recorded by the office, reviewed against the contract goals.

A workshop holds goal reviews (each contract goal once), decisions and action items.
Action items still open carry over to the later workshops of the same region until
someone marks them done. Every create and change is written to the audit log.
"""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils.translation import gettext

from controlling.models import ActionItem, ContractGoal, GoalReview, GoalStatus, Workshop
from core.models import AuditAction, AuditEntry

pytestmark = pytest.mark.django_db

WORKSHOP_FORM = {
    "date": "2026-03-10",
    "title": "Controllingworkshop Q1 2026",
    "participants_office": "Amtsleitung, Jugendhilfeplanung",
    "participants_providers": "Teamleitung, Geschäftsführungen der Träger",
    "notes": "Budget im Plan.",
}


def make_workshop(region, by, date, title=None) -> Workshop:
    return Workshop.objects.create(
        region=region,
        date=date,
        title=title or f"Workshop {date:%d.%m.%Y}",
        participants_office="Amtsleitung",
        participants_providers="Teamleitung",
        created_by=by,
    )


def make_item(workshop, text, done_on=None) -> ActionItem:
    return ActionItem.objects.create(
        workshop=workshop,
        text=text,
        owner="Teamleitung",
        due_on=workshop.date + datetime.timedelta(days=60),
        done_on=done_on,
    )


def add(client, workshop, form: str, **fields):
    data = {"form": form, **{f"{form}-{name}": value for name, value in fields.items()}}
    return client.post(workshop.get_absolute_url(), data)


def audit_of(obj, action):
    return AuditEntry.objects.filter(
        action=action, object_type=obj._meta.label_lower, object_id=str(obj.pk)
    )


@pytest.fixture
def workshop(region, leitung):
    return make_workshop(region, leitung, datetime.date(2026, 3, 10))


# --- Recording ----------------------------------------------------------------------


def test_department_head_records_a_workshop(client, leitung, region):
    client.force_login(leitung)

    response = client.post(
        reverse("controlling:workshop_new"), {**WORKSHOP_FORM, "region": region.pk}
    )

    workshop = Workshop.objects.get()
    assert response.status_code == 302
    assert response["Location"] == workshop.get_absolute_url()
    assert (workshop.region, workshop.date, workshop.created_by) == (
        region,
        datetime.date(2026, 3, 10),
        leitung,
    )
    assert audit_of(workshop, AuditAction.CREATE).get().user == leitung


def test_workshop_accepts_the_german_date(client, controlling, region):
    client.force_login(controlling)

    client.post(
        reverse("controlling:workshop_new"),
        {**WORKSHOP_FORM, "region": region.pk, "date": "10.03.2026"},
    )

    assert Workshop.objects.get().date == datetime.date(2026, 3, 10)


def test_workshop_without_region_is_refused_and_nothing_is_saved(client, leitung):
    client.force_login(leitung)

    response = client.post(reverse("controlling:workshop_new"), WORKSHOP_FORM)

    assert response.status_code == 400
    assert response.context["form"].errors["region"]
    assert not Workshop.objects.exists()
    assert not AuditEntry.objects.filter(object_type="controlling.workshop").exists()


# --- Goal reviews, decisions, action items -------------------------------------------


def test_goal_review_is_added_with_its_evidence(client, leitung, workshop):
    client.force_login(leitung)

    response = add(
        client, workshop, "goal", goal="ambulant", status="partly", evidence="Anteil 71,4 %"
    )

    review = workshop.goal_reviews.get()
    assert response.status_code == 302
    assert (review.goal, review.status, review.evidence) == (
        ContractGoal.AMBULANT,
        GoalStatus.PARTLY,
        "Anteil 71,4 %",
    )
    assert audit_of(review, AuditAction.CREATE).get().user == leitung
    assert "Anteil 71,4 %" in client.get(workshop.get_absolute_url()).text


def test_a_goal_reviewed_twice_in_one_workshop_is_refused_with_a_message(client, leitung, workshop):
    client.force_login(leitung)
    add(client, workshop, "goal", goal="ambulant", status="partly")

    response = add(client, workshop, "goal", goal="ambulant", status="achieved")

    assert response.status_code == 400
    message = gettext("This goal has already been reviewed in this workshop.")
    assert response.context["forms"]["goal"].errors["goal"] == [message]
    assert message in response.text
    assert workshop.goal_reviews.get().status == GoalStatus.PARTLY
    assert AuditEntry.objects.filter(object_type="controlling.goalreview").count() == 1


def test_the_same_goal_may_be_reviewed_again_in_the_next_workshop(
    client, leitung, region, workshop
):
    later = make_workshop(region, leitung, datetime.date(2026, 6, 10))
    client.force_login(leitung)
    add(client, workshop, "goal", goal="budget", status="not_achieved")

    response = add(client, later, "goal", goal="budget", status="achieved")

    assert response.status_code == 302
    assert GoalReview.objects.filter(goal="budget").count() == 2


def test_decision_is_added_and_audited(client, controlling, workshop):
    client.force_login(controlling)

    response = add(client, workshop, "decision", text="Zweites Gruppenangebot ab Mai")

    decision = workshop.decisions.get()
    assert response.status_code == 302
    assert decision.text == "Zweites Gruppenangebot ab Mai"
    assert audit_of(decision, AuditAction.CREATE).get().user == controlling


def test_action_item_is_added_open_and_audited(client, leitung, workshop):
    client.force_login(leitung)

    response = add(
        client, workshop, "action", text="Elterncafé planen", owner="SkF", due_on="2026-04-30"
    )

    item = workshop.action_items.get()
    assert response.status_code == 302
    assert (item.owner, item.due_on, item.done_on) == ("SkF", datetime.date(2026, 4, 30), None)
    assert audit_of(item, AuditAction.CREATE).get().user == leitung


def test_empty_decision_is_refused_and_nothing_is_saved(client, leitung, workshop):
    client.force_login(leitung)

    response = add(client, workshop, "decision", text="")

    assert response.status_code == 400
    assert response.context["forms"]["decision"].errors["text"]
    assert not workshop.decisions.exists()


# --- Carrying open action items over --------------------------------------------------


@pytest.fixture
def history(region, other_region, leitung):
    """Two workshops in the region (March, June) and one in another region (March)."""
    march = make_workshop(region, leitung, datetime.date(2026, 3, 10), "März")
    june = make_workshop(region, leitung, datetime.date(2026, 6, 10), "Juni")
    elsewhere = make_workshop(other_region, leitung, datetime.date(2026, 3, 12), "Mitte")
    return {
        "march": march,
        "june": june,
        "open": make_item(march, "Sozialraumkarte aktualisieren"),
        "done": make_item(march, "Flyer drucken", done_on=datetime.date(2026, 4, 1)),
        "elsewhere": make_item(elsewhere, "Kita-Kooperation Mitte"),
        "june_own": make_item(june, "Ferienprogramm auswerten"),
    }


def test_open_items_of_an_earlier_workshop_of_the_region_carry_over(client, leitung, history):
    client.force_login(leitung)

    response = client.get(history["june"].get_absolute_url())

    assert list(response.context["carried"]) == [history["open"]]
    assert list(response.context["action_items"]) == [history["june_own"]]
    assert "Sozialraumkarte aktualisieren" in response.text
    assert "10.03.2026" in response.text  # "carried over from" the March workshop
    assert "Flyer drucken" not in response.text
    assert "Kita-Kooperation Mitte" not in response.text


def test_items_of_a_later_workshop_do_not_carry_back(client, leitung, history):
    client.force_login(leitung)

    response = client.get(history["march"].get_absolute_url())

    assert list(response.context["carried"]) == []
    assert "Ferienprogramm auswerten" not in response.text


@time_machine.travel(datetime.datetime(2026, 6, 12, 9, 0), tick=False)
def test_marking_an_item_done_removes_it_from_the_carried_list(client, controlling, history):
    item = history["open"]
    client.force_login(controlling)

    response = client.post(reverse("controlling:action_item_done", args=[item.pk]))

    item.refresh_from_db()
    assert response.status_code == 302
    assert item.done_on == datetime.date(2026, 6, 12)
    assert list(client.get(history["june"].get_absolute_url()).context["carried"]) == []
    entry = audit_of(item, AuditAction.CHANGE).get()
    assert (entry.user, entry.changes) == (controlling, {"fields": ["done_on"]})


def test_marking_a_done_item_again_changes_nothing(client, leitung, history):
    item = history["done"]
    client.force_login(leitung)

    client.post(reverse("controlling:action_item_done", args=[item.pk]))

    item.refresh_from_db()
    assert item.done_on == datetime.date(2026, 4, 1)
    assert not audit_of(item, AuditAction.CHANGE).exists()


def test_marking_a_carried_item_done_returns_to_the_workshop_the_user_was_on(
    client, leitung, history
):
    client.force_login(leitung)
    june_url = history["june"].get_absolute_url()

    response = client.post(
        reverse("controlling:action_item_done", args=[history["open"].pk]),
        {"next": june_url},
        HTTP_REFERER=f"http://testserver{june_url}",
    )

    assert response["Location"] == june_url


def test_workshop_list_shows_every_open_item_once(client, traegerleitung, history):
    client.force_login(traegerleitung)

    response = client.get(reverse("controlling:workshop_list"))

    assert set(response.context["open_items"]) == {
        history["open"],
        history["elsewhere"],
        history["june_own"],
    }
