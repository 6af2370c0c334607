"""The department head sees goal attainment on the budget dashboard, and no names.

"Today" is 30.06.2026, so the dashboard of 2026 shows the helps ended 01.01.–30.06.2026
beside the whole of 2025. Ratings are written (professional, own) → (professional, own).

  Z1 § 31  01.01.–31.03.2026 as planned          (2, 2) → (4, 4) and (3, 1) → (5, 2)
  Z2 § 31  01.01.–30.04.2026 broken off (family) (2, 2) → (2, 3)
  Z3 § 30  01.02.–31.05.2026 as planned          (1, –) → (4, –)
  Z4 § 31  01.01.–15.07.2026 as planned          (1, 1) → (5, 5)   ends after today
  P1 § 31  01.01.–30.06.2025 as planned          (1, 1) → (5, 5), (2, 2) → (4, 4), (3, 3) → (3, 3)
"""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils.translation import gettext

from cases.models import HelpEndReason, LegalBasis
from controlling.templatetags.controlling_panels import effectiveness_figures
from core.models import Role
from tests import factories as f

from .conftest import make_ambulant_help

pytestmark = pytest.mark.django_db

d = datetime.date
NAMES = ("Zwiebelmeyer", "Kunigunde", "Balthasar", "Hildegard", "Quastenflosser")
GOAL = "Kunigunde geht wieder regelmäßig zur Schule"


def shown_effect(response) -> dict:
    """The figures the dashboard's effectiveness panel (a controlling tag) rendered."""
    context = response.context
    return effectiveness_figures(
        context["year"], context["effect_regions"], context["effect_previous_too"]
    )


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 6, 30, 12, 0), tick=False):
        yield


def ended_help(owner, region, provider, legal_basis, start, end, reason, *ratings):
    """An ended help of the Zwiebelmeyer family, one rated first-version goal per rating pair."""
    help = make_ambulant_help(
        owner, region, provider, start=start, family_name="Zwiebelmeyer", legal_basis=legal_basis
    )
    f.make_person(help.case.family, "Kunigunde")
    f.make_person(help.case.family, "Balthasar")
    help.end, help.end_reason = end, reason
    help.save(update_fields=["end", "end_reason"])
    plan = f.make_plan(help, goals=[GOAL] * len(ratings))
    for goal, (before, after) in zip(plan.goals.order_by("position"), ratings, strict=True):
        goal.ratings.create(occasion="start", rated_on=start, professional=before[0], own=before[1])
        goal.ratings.create(occasion="end", rated_on=end, professional=after[0], own=after[1])
    return help


@pytest.fixture
def helps(region, team, provider):
    owner = f.make_user(
        "asd_q", Role.ASD, team=team, first_name="Hildegard", last_name="Quastenflosser"
    )
    planned, family = HelpEndReason.AS_PLANNED, HelpEndReason.BROKEN_OFF_FAMILY
    basis, other = LegalBasis.FAMILY_SUPPORT, LegalBasis.EDUCATIONAL_ASSISTANT
    ended_help(
        owner, region, provider, basis, d(2026, 1, 1), d(2026, 3, 31), planned,
        ((2, 2), (4, 4)), ((3, 1), (5, 2)),
    )  # fmt: skip
    ended_help(
        owner, region, provider, basis, d(2026, 1, 1), d(2026, 4, 30), family, ((2, 2), (2, 3))
    )
    ended_help(
        owner, region, provider, other, d(2026, 2, 1), d(2026, 5, 31), planned,
        ((1, None), (4, None)),
    )  # fmt: skip
    ended_help(
        owner, region, provider, basis, d(2026, 1, 1), d(2026, 7, 15), planned, ((1, 1), (5, 5))
    )
    ended_help(
        owner, region, provider, basis, d(2025, 1, 1), d(2025, 6, 30), planned,
        ((1, 1), (5, 5)), ((2, 2), (4, 4)), ((3, 3), (3, 3)),
    )  # fmt: skip


def by_label(rows) -> dict:
    """Rows by label; look a label up with gettext(msgid), so a translation keeps this working."""
    return {str(row["label"]): row for row in rows}


def effectiveness_html(response) -> str:
    html = response.content.decode()
    return html.split('aria-labelledby="h-effect"', 1)[1].split("</section>", 1)[0]


def test_department_head_sees_goal_attainment_with_the_previous_year(client, leitung, helps):
    client.force_login(leitung)

    response = client.get(reverse("budgets:dashboard"), {"year": 2026})

    assert response.status_code == 200
    effect = shown_effect(response)
    assert (effect["period"].label, effect["previous"].label) == ("01.01.2026–30.06.2026", "2025")
    figures = {label: row["values"] for label, row in by_label(effect["figures"]).items()}
    # 2026 so far: Z1–Z3 (Z4 ends after today). Professional end ratings 4 5 2 4: 3 of 4.
    assert figures[gettext("Goals reached (professional rating 4 or 5)")] == [
        Decimal("75.0"),
        Decimal("66.7"),
    ]
    # Own end ratings 4 2 3: 1 of 3; 2025: 5 4 3: 2 of 3.
    assert figures[gettext("Goals reached (own rating 4 or 5)")] == [
        Decimal("33.3"),
        Decimal("66.7"),
    ]
    # (+2 + 2 + 0 + 3) / 4 = 1.75; 2025: (+4 + 2 + 0) / 3 = 2.
    assert figures[gettext("Rating change, professional (mean of end − start)")] == [
        Decimal("1.8"),
        Decimal("2.0"),
    ]
    # (+2 + 1 + 1) / 3 = 1.33; 2025: (+4 + 2 + 0) / 3.
    assert figures[gettext("Rating change, own rating (mean of end − start)")] == [
        Decimal("1.3"),
        Decimal("2.0"),
    ]
    # 3 helps ended, 2 as planned; 2025: one help only, so its share is not shown.
    assert figures[gettext("Helps ended")] == [3, None]
    assert figures[gettext("Ended as planned")] == [Decimal("66.7"), None]
    reasons = by_label(effect["by_reason"])
    assert reasons[str(HelpEndReason.AS_PLANNED.label)]["values"] == [None, None]  # 2, 1: < 3
    assert reasons[str(HelpEndReason.RETURN.label)]["values"] == [0, 0]

    html = effectiveness_html(response)
    assert "75,0 %" in html and "66,7 %" in html and "1,8" in html and "2025" in html


def test_breakdown_by_legal_basis_hides_small_groups(client, leitung, helps):
    client.force_login(leitung)

    effect = shown_effect(client.get(reverse("budgets:dashboard"), {"year": 2026}))

    by_basis = by_label(effect["tables"][0]["rows"])
    spfh = by_basis[str(LegalBasis.FAMILY_SUPPORT.label)]
    # § 31: Z1 and Z2 ended (2: hidden), their 3 goals are shown: 4 and 5 of 4, 5, 2.
    assert (spfh["ended"], spfh["ended_as_planned_share"]) == (None, None)
    assert (spfh["goals"], spfh["reached_share"]) == (3, Decimal("66.7"))
    assert spfh["change_professional"] == Decimal("1.3")  # (+2 + 2 + 0) / 3
    assert by_basis[str(LegalBasis.EDUCATIONAL_ASSISTANT.label)]["goals"] is None  # Z3: 1 goal


def test_the_dashboard_shows_no_family_person_or_caseworker_name(client, leitung, helps):
    client.force_login(leitung)

    html = client.get(reverse("budgets:dashboard"), {"year": 2026}).content.decode()

    assert 'id="h-effect"' in html
    for name in NAMES:
        assert name not in html
    assert GOAL not in html
