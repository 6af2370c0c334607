"""Wirksamkeitskontrolle: every goal of the help plan is rated 1–5 by the professional
and – participation – by the young person or the parents: at the start (first plan
version), at each review (later versions) and at the end of the help.

A goal carried over into a new plan version keeps its lineage: all its ratings
belong to the goal's first version (the root), so start and end can be compared.
"""

import datetime
import re

import pytest
from django.db import IntegrityError
from django.urls import reverse
from django.utils.html import escape

from cases import services
from cases.models import GoalRating, HelpPlan, HelpPlanGoal, LegalBasis, RatingOccasion
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

ONE_DAY = datetime.timedelta(days=1)
START, REVIEW, END = RatingOccasion.START, RatingOccasion.REVIEW, RatingOccasion.END


@pytest.fixture
def owner_client(client, asd):
    client.force_login(asd)
    return client


@pytest.fixture
def new_help(case, provider):
    """An approved, running help of `case` that has no help plan yet."""
    return f.make_help(case, provider, legal_basis=LegalBasis.EDUCATIONAL_ASSISTANT)


def goal(description, professional="", own="", origin="", status="in_progress") -> dict:
    return {
        "description": description,
        "status": status,
        "origin": origin,
        "professional": professional,
        "own": own,
    }


def plan_data(*goals: dict, based_on_version=0, meeting_date=None) -> dict:
    """The plan form as the page sends it, with one goal form per goal."""
    data = {
        "based_on_version": based_on_version,
        "meeting_date": (meeting_date or f.today()).isoformat(),
        "participants": "Mutter, Mehmet, ASD, Fachkraft",
        "young_person_present": "on",
        "parents_present": "on",
        "agreed_steps": "Wöchentliche Termine mit der Familie",
        "next_review_due": "",
        "goals-TOTAL_FORMS": len(goals),
        "goals-INITIAL_FORMS": len([g for g in goals if g["origin"]]),
        "goals-MIN_NUM_FORMS": 0,
        "goals-MAX_NUM_FORMS": 20,
    }
    for i, fields in enumerate(goals):
        data.update({f"goals-{i}-{key}": value for key, value in fields.items()})
    return data


def save_plan(client, help, *goals, **kwargs):
    return client.post(reverse("cases:plan_new", args=[help.pk]), plan_data(*goals, **kwargs))


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of a page: what the browser sends back unchanged."""
    fields = {}
    for tag in re.findall(r'<input[^>]*type="hidden"[^>]*>', html):
        name, value = re.search(r'name="([^"]*)"', tag), re.search(r'value="([^"]*)"', tag)
        fields[name.group(1)] = value.group(1) if value else ""
    return fields


def end_help_from_page(client, help, ratings: dict | None = None, **overrides):
    """Open the end page and submit it like a browser: its hidden fields plus what was typed."""
    url = reverse("cases:help_end", args=[help.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = {
        **hidden_fields(page.content.decode()),
        "end": f.today().isoformat(),
        "end_reason": "as_planned",
        **(ratings or {}),
        **overrides,
    }
    return client.post(url, data)


def ratings_of(goal: HelpPlanGoal) -> list[tuple]:
    return list(goal.ratings.values_list("occasion", "rated_on", "professional", "own"))


def assert_error_next_to_field(response, field_id: str, message: str):
    assert response.status_code == 200
    box = re.search(
        rf'<div id="id_{field_id}_error" class="invalid-feedback">(.*?)</div>',
        response.content.decode(),
        re.S,
    )
    assert box is not None, f"no error box under id_{field_id}"
    assert escape(message) in box.group(1)


# --- Start and review ----------------------------------------------------------------


def test_first_plan_stores_start_ratings_on_its_goals(owner_client, new_help):
    meeting = f.today() - 30 * ONE_DAY

    response = save_plan(
        owner_client,
        new_help,
        goal("Mehmet geht jeden Tag zur Schule", professional="2", own="3"),
        goal("Die Mutter setzt abends Grenzen", professional="1"),
        goal("Die Familie nutzt den Jugendtreff"),
        meeting_date=meeting,
    )

    assert response.status_code == 302
    school, limits, youth_club = new_help.plans.get().goals.all()
    assert ratings_of(school) == [(START, meeting, 2, 3)]
    assert ratings_of(limits) == [(START, meeting, 1, None)]
    assert ratings_of(youth_club) == []  # not rated yet


@pytest.fixture
def first_plan(owner_client, new_help):
    """Version 1, written 100 days ago with a start rating of 2 (own: 1)."""
    response = save_plan(
        owner_client,
        new_help,
        goal("Mehmet geht jeden Tag zur Schule", professional="2", own="1"),
        meeting_date=f.today() - 100 * ONE_DAY,
    )
    assert response.status_code == 302
    return new_help.plans.get()


def test_updated_plan_stores_review_ratings_on_the_root_goal(owner_client, new_help, first_plan):
    root = first_plan.goals.get()
    # The page carries the goal over: its form points back at the goal it continues.
    page = owner_client.get(reverse("cases:plan_new", args=[new_help.pk]))
    assert page.context["goals"].initial[0]["origin"] == root.pk
    review_day = f.today() - 10 * ONE_DAY

    response = save_plan(
        owner_client,
        new_help,
        goal("Mehmet geht jeden Tag zur Schule", professional="3", own="3", origin=root.pk),
        goal("Mehmet macht seine Hausaufgaben", professional="2"),  # new in this version
        based_on_version=1,
        meeting_date=review_day,
    )

    assert response.status_code == 302
    carried_over, added = new_help.plans.get(version=2).goals.all()
    assert carried_over.origin == root
    assert carried_over.lineage_root == root
    assert ratings_of(root) == [(START, first_plan.meeting_date, 2, 1), (REVIEW, review_day, 3, 3)]
    assert ratings_of(carried_over) == []
    assert added.origin is None  # a new lineage
    assert ratings_of(added) == [(REVIEW, review_day, 2, None)]


def test_lineage_stays_with_the_first_version_over_several_reviews(
    owner_client, new_help, first_plan
):
    root = first_plan.goals.get()
    save_plan(
        owner_client,
        new_help,
        goal("Mehmet geht jeden Tag zur Schule", professional="3", origin=root.pk),
        based_on_version=1,
        meeting_date=f.today() - 50 * ONE_DAY,
    )
    second = new_help.plans.get(version=2).goals.get()

    # Version 3 continues version 2's goal, as the page offers it.
    save_plan(
        owner_client,
        new_help,
        goal("Mehmet geht jeden Tag zur Schule", professional="4", own="4", origin=second.pk),
        based_on_version=2,
        meeting_date=f.today(),
    )

    third = new_help.plans.get(version=3).goals.get()
    assert third.origin == root
    assert third.lineage_root == root
    assert [(o, p) for o, __, p, __ in ratings_of(root)] == [(START, 2), (REVIEW, 3), (REVIEW, 4)]
    assert not GoalRating.objects.filter(goal__in=[second, third]).exists()


# --- End ------------------------------------------------------------------------------


@pytest.fixture
def reviewed_plan(owner_client, new_help, first_plan):
    """Version 2 carries version 1's goal over and adds one of its own."""
    save_plan(
        owner_client,
        new_help,
        goal(
            "Mehmet geht jeden Tag zur Schule", professional="3", origin=first_plan.goals.get().pk
        ),
        goal("Mehmet macht seine Hausaufgaben"),
        based_on_version=1,
        meeting_date=f.today() - 10 * ONE_DAY,
    )
    return new_help.plans.get(version=2)


def test_ending_the_help_stores_end_ratings_on_the_root_goals(
    owner_client, new_help, first_plan, reviewed_plan
):
    root = first_plan.goals.get()
    carried_over, added = reviewed_plan.goals.all()

    response = end_help_from_page(
        owner_client,
        new_help,
        {
            "ratings-0-professional": "5",
            "ratings-0-own": "4",
            "ratings-1-professional": "3",
        },
    )

    assert response.status_code == 302
    new_help.refresh_from_db()
    assert new_help.end == f.today()
    assert ratings_of(root)[-1] == (END, f.today(), 5, 4)
    assert ratings_of(added) == [(END, f.today(), 3, None)]
    assert not carried_over.ratings.exists()


def test_end_page_offers_a_rating_for_each_goal_of_the_current_plan(
    owner_client, new_help, reviewed_plan
):
    page = owner_client.get(reverse("cases:help_end", args=[new_help.pk]))

    offered = [g.pk for g, __ in page.context["ratings"]]
    assert offered == [g.pk for g in reviewed_plan.goals.all()]


def test_help_without_a_plan_can_be_ended(owner_client, new_help):
    response = end_help_from_page(owner_client, new_help)

    assert response.status_code == 302
    new_help.refresh_from_db()
    assert new_help.end == f.today()


# --- Refused ratings ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("professional", "6"), ("professional", "0"), ("own", "6")],
    ids=["professional-6", "professional-0", "own-6"],
)
def test_plan_rating_outside_one_to_five_is_refused(owner_client, new_help, field, value):
    ratings = {"professional": "3", field: value}

    response = save_plan(owner_client, new_help, goal("Mehmet geht zur Schule", **ratings))

    assert_error_next_to_field(
        response,
        f"goals-0-{field}",
        f"Select a valid choice. {value} is not one of the available choices.",
    )
    assert not HelpPlan.objects.filter(help=new_help).exists()
    assert not GoalRating.objects.exists()


def test_database_refuses_a_rating_outside_one_to_five_even_without_the_form(asd, new_help):
    plan = HelpPlan(
        meeting_date=f.today(),
        participants="Mutter, ASD",
        agreed_steps="Termine",
        next_review_due=f.today() + 180 * ONE_DAY,
    )

    with pytest.raises(IntegrityError):
        services.save_help_plan(
            help=new_help,
            based_on_version=0,
            plan=plan,
            goals=[services.GoalInput("Mehmet geht zur Schule", professional=6)],
            by=asd,
        )

    assert not HelpPlan.objects.filter(help=new_help).exists()  # the whole version rolled back


def test_end_rating_outside_one_to_five_is_refused(owner_client, new_help, first_plan):
    response = end_help_from_page(owner_client, new_help, {"ratings-0-professional": "7"})

    assert_error_next_to_field(
        response,
        "ratings-0-professional",
        "Select a valid choice. 7 is not one of the available choices.",
    )
    new_help.refresh_from_db()
    assert new_help.end is None
    assert not GoalRating.objects.filter(occasion=END).exists()


def test_own_rating_without_the_professional_one_is_refused_in_the_plan(owner_client, new_help):
    response = save_plan(owner_client, new_help, goal("Mehmet geht zur Schule", own="4"))

    assert_error_next_to_field(
        response, "goals-0-professional", "Please rate the goal yourself as well."
    )
    assert not HelpPlan.objects.filter(help=new_help).exists()


def test_own_rating_without_the_professional_one_is_refused_at_the_end(
    owner_client, new_help, first_plan
):
    response = end_help_from_page(owner_client, new_help, {"ratings-0-own": "4"})

    assert_error_next_to_field(
        response, "ratings-0-professional", "Please rate the goal yourself as well."
    )
    new_help.refresh_from_db()
    assert new_help.end is None
    assert not GoalRating.objects.filter(occasion=END).exists()


# --- Goals of another help ----------------------------------------------------------------


@pytest.fixture
def other_helps_goal(case, new_help):
    """A goal of the case's other help, the one running with its plan since the case opened."""
    return HelpPlanGoal.objects.exclude(plan__help=new_help).get(plan__help__case=case)


def test_end_ratings_for_a_goal_of_another_help_are_ignored(
    owner_client, new_help, first_plan, other_helps_goal
):
    response = end_help_from_page(
        owner_client,
        new_help,
        {"ratings-0-goal": other_helps_goal.pk, "ratings-0-professional": "5"},
    )

    assert response.status_code == 302
    assert not other_helps_goal.ratings.exists()
    assert not GoalRating.objects.filter(occasion=END).exists()


def test_plan_cannot_continue_a_goal_of_another_help(owner_client, new_help, other_helps_goal):
    response = save_plan(
        owner_client,
        new_help,
        goal("Schulbesuch regelmäßig", professional="2", origin=other_helps_goal.pk),
    )

    assert response.status_code == 302
    own_goal = new_help.plans.get().goals.get()
    assert own_goal.origin is None
    assert ratings_of(own_goal) == [(START, f.today(), 2, None)]
    assert not other_helps_goal.ratings.exists()


def test_end_form_naming_one_goal_twice_is_not_a_server_error(
    owner_client, new_help, first_plan, reviewed_plan
):
    root = first_plan.goals.get()

    response = end_help_from_page(
        owner_client,
        new_help,
        {"ratings-0-professional": "5", "ratings-1-goal": root.pk, "ratings-1-professional": "3"},
    )

    assert response.status_code in (200, 302)
    assert root.ratings.filter(occasion=END).count() <= 1
