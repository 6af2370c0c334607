"""Effectiveness (Wirksamkeit) against a hand-built data set; every value is worked out by hand.

The period is Q2 2025 (01.04.–30.06.2025), the period before Q1 2025. Plans, ratings and
endings are recorded through the case services, so ratings land on the root goals as in
the app. Ratings are written (professional, own); "–" is no own rating.

Helps in Nord (all approved; A = Friedenshort, B = SkF):
  H1  § 31 ambulant   A  01.01.–10.04.2025  as_planned
        g1  start (2, 1)  end (4, 4)
        g2  start (3, 3)  end (5, –)      only a professional end rating
        g3  start (2, 2)  no end rating   not counted
  H2  § 31 ambulant   B  01.02.–15.05.2025  broken_off_family
        g4  start (3, 2)  end (2, 3)
  H3  § 27(2) flexible A 01.01.–20.06.2025  as_planned, two plan versions:
        v1 (01.01.): g5 start (1, 2); g6 start (2, –)
        v2 (01.04.): g5 carried on, review (3, 3); g6 dropped (no end rating);
                     g7 new, review (2, 2), so it has no start rating
        end on v2's goals: g5 (5, 4) lands on g5 of v1; g7 (4, 5)
  H4  § 30 ambulant   A  01.03.–30.06.2025  broken_off_provider
        g8  start (3, –)  end (3, 2)
  H5  § 32 day care   B  01.01.–05.06.2025  changed (to another help)
        g9  start (2, 3)  end (2, 3)
  H6  § 31 ambulant   B  01.01.–30.06.2025  as_planned, no plan
Outside Q2:
  H7  § 31 ambulant   A  01.01.–31.03.2025  as_planned         g10 (1, 1) → (4, 5)   Q1
  H8  § 31 ambulant   B  01.01.–15.02.2025  broken_off_family  g11 (2, 2) → (1, 1)   Q1
  H9  § 31 ambulant   A  01.01.–01.03.2025  changed            g12 (3, –) → (4, –)   Q1
  H10 § 31 ambulant   A  01.03.–01.07.2025  broken_off_family  g13 (1, 1) → (5, 5)   Q3
  H11 § 31 ambulant   A  01.01.2025–open                       g14 (1, 1) only a start
  HM  § 31 ambulant   A  (region Mitte) 01.01.–30.05.2025      g15 (1, 1) → (5, 5)
"""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import services
from cases.models import GoalRating, HelpPlan, HelpPlanGoal
from cases.services import GoalInput
from controlling.kpis import Period, compute_effectiveness, compute_kpis, kpi_comparison
from tests import factories as f

pytestmark = pytest.mark.django_db

d = datetime.date
Q1, Q2 = Period.of_quarter(2025, 1), Period.of_quarter(2025, 2)


def grant(owner, region, provider, legal_basis, setting, start):
    family = f.make_family(region, "Muster")
    case = f.make_case(owner, family=family, opened_on=start)
    return f.make_help(case, provider, legal_basis=legal_basis, setting=setting, start=start)


def save_plan(help, day, goals, by, version=0) -> list[HelpPlanGoal]:
    """Save a plan version through the service; returns its goals in order."""
    plan = HelpPlan(
        meeting_date=day,
        participants="Mutter, Kind, ASD, Fachkraft",
        agreed_steps="Wöchentliche Termine",
        next_review_due=day + datetime.timedelta(days=180),
    )
    plan = services.save_help_plan(
        help=help, based_on_version=version, plan=plan, goals=goals, by=by
    )
    return list(plan.goals.order_by("position"))


def goal(text, professional=None, own=None, origin=None) -> GoalInput:
    return GoalInput(
        text, origin_id=origin.pk if origin else None, professional=professional, own=own
    )


def rated_help(owner, region, provider, basis, setting, start, end, reason, *ratings):
    """A help with one first-version goal per ((start p, start o), (end p, end o) or None)."""
    help = grant(owner, region, provider, basis, setting, start)
    goals = save_plan(
        help, start, [goal(f"Ziel {i}", *s) for i, (s, __) in enumerate(ratings)], owner
    )
    end_ratings = [(g.pk, *e) for g, (__, e) in zip(goals, ratings, strict=True) if e]
    services.end_help(help=help, on=end, reason=reason, by=owner, ratings=end_ratings)
    return help


@pytest.fixture
def world(region, other_region, asd, asd_other_team, provider, other_provider):
    a, b, nord = provider, other_provider, region
    w = SimpleNamespace(nord=nord, mitte=other_region, a=a, b=b)
    w.h1 = rated_help(
        asd, nord, a, "31", "ambulant", d(2025, 1, 1), d(2025, 4, 10), "as_planned",
        ((2, 1), (4, 4)), ((3, 3), (5, None)), ((2, 2), None),
    )  # fmt: skip
    w.h2 = rated_help(
        asd, nord, b, "31", "ambulant", d(2025, 2, 1), d(2025, 5, 15), "broken_off_family",
        ((3, 2), (2, 3)),
    )  # fmt: skip

    # H3: two plan versions; the ratings of the carried-on goal belong to its first version.
    w.h3 = grant(asd, nord, a, "27_2", "flexible", d(2025, 1, 1))
    g5, g6 = save_plan(w.h3, d(2025, 1, 1), [goal("Ziel 5", 1, 2), goal("Ziel 6", 2)], asd)
    g5_v2, g7 = save_plan(
        w.h3,
        d(2025, 4, 1),
        [goal("Ziel 5 (neu gefasst)", 3, 3, origin=g5), goal("Ziel 7", 2, 2)],
        asd,
        version=1,
    )
    services.end_help(
        help=w.h3,
        on=d(2025, 6, 20),
        reason="as_planned",
        by=asd,
        ratings=[(g5_v2.pk, 5, 4), (g7.pk, 4, 5)],
    )
    w.g5, w.g5_v2, w.g6, w.g7 = g5, g5_v2, g6, g7

    w.h4 = rated_help(
        asd, nord, a, "30", "ambulant", d(2025, 3, 1), d(2025, 6, 30), "broken_off_provider",
        ((3, None), (3, 2)),
    )  # fmt: skip
    w.h5 = rated_help(
        asd, nord, b, "32", "day_care", d(2025, 1, 1), d(2025, 6, 5), "changed",
        ((2, 3), (2, 3)),
    )  # fmt: skip
    w.h6 = grant(asd, nord, b, "31", "ambulant", d(2025, 1, 1))
    services.end_help(help=w.h6, on=d(2025, 6, 30), reason="as_planned", by=asd)

    # Outside Q2 (and H11 still running, HM in another region).
    rated_help(
        asd, nord, a, "31", "ambulant", d(2025, 1, 1), d(2025, 3, 31), "as_planned",
        ((1, 1), (4, 5)),
    )  # fmt: skip
    rated_help(
        asd, nord, b, "31", "ambulant", d(2025, 1, 1), d(2025, 2, 15), "broken_off_family",
        ((2, 2), (1, 1)),
    )  # fmt: skip
    rated_help(
        asd, nord, a, "31", "ambulant", d(2025, 1, 1), d(2025, 3, 1), "changed",
        ((3, None), (4, None)),
    )  # fmt: skip
    rated_help(
        asd, nord, a, "31", "ambulant", d(2025, 3, 1), d(2025, 7, 1), "broken_off_family",
        ((1, 1), (5, 5)),
    )  # fmt: skip
    h11 = grant(asd, nord, a, "31", "ambulant", d(2025, 1, 1))
    save_plan(h11, d(2025, 1, 1), [goal("Ziel 14", 1, 1)], asd)
    rated_help(
        asd_other_team, other_region, a, "31", "ambulant", d(2025, 1, 1), d(2025, 5, 30),
        "as_planned", ((1, 1), (5, 5)),
    )  # fmt: skip
    return w


@pytest.fixture
def q2(world):
    return compute_effectiveness(regions=[world.nord], period=Q2)


# --- The data set is what the docstring says ---------------------------------------------


def test_ratings_of_later_plan_versions_land_on_the_first_version(world):
    assert world.g5_v2.origin == world.g5
    assert world.g7.origin is None  # a goal new in version 2 is its own root
    assert {(r.occasion, r.professional, r.own) for r in world.g5.ratings.all()} == {
        ("start", 1, 2),
        ("review", 3, 3),
        ("end", 5, 4),
    }
    assert not GoalRating.objects.filter(goal=world.g5_v2).exists()
    assert list(world.g7.ratings.values_list("occasion", flat=True).order_by("rated_on")) == [
        "review",
        "end",
    ]
    assert not world.g6.ratings.filter(occasion="end").exists()


# --- Totals ---------------------------------------------------------------------------------


def test_ended_helps_by_reason_and_ended_as_planned(q2):
    # Ended in Q2: H1 H2 H3 H4 H5 H6 (H7–H9 ended in Q1, H10 on 01.07., H11 runs on).
    assert q2.ended_helps == 6
    assert q2.ended_by_reason == {
        "as_planned": 3,  # H1 H3 H6
        "broken_off_family": 1,  # H2
        "broken_off_provider": 1,  # H4
        "changed": 1,  # H5
        "return": 0,
    }
    assert q2.ended_as_planned_share == Decimal("50.0")  # 3 of 6


def test_goals_reached_counts_root_goals_with_an_end_rating(q2):
    # Goals with an end rating: g1 g2 g4 g5 g7 g8 g9 (not g3 and g6: no end rating;
    # g5 once, although it is in two plan versions).
    assert q2.goals_rated == 7
    # Professional end ratings 4 5 2 5 4 3 2: four are 4 or 5 (g1 g2 g5 g7).
    assert q2.goals_reached_share == Decimal("57.1")  # 4 / 7 = 57.14 %
    # Own end ratings: g1 4, g4 3, g5 4, g7 5, g8 2, g9 3 (g2 has none): three of six.
    assert q2.goals_rated_own == 6
    assert q2.goals_reached_share_own == Decimal("50.0")


def test_rating_change_professional_and_own_apart(q2):
    # Professional, goals with a start and an end rating (g7 has no start rating, only a
    # review): g1 +2, g2 +2, g4 −1, g5 +4 (end 5 − start 1; the review 3 is not used),
    # g8 0, g9 0 → 7 / 6 = 1.17.
    assert q2.goals_compared_professional == 6
    assert q2.rating_change_professional == Decimal("1.2")
    # Own, goals with an own rating at start and end: g1 +3, g4 +1, g5 +2, g9 0 → 6 / 4
    # (g2 has no own end rating, g8 no own start rating, g7 no start rating).
    assert q2.goals_compared_own == 4
    assert q2.rating_change_own == Decimal("1.5")


def test_totals_as_shown_are_not_suppressed_at_or_over_the_threshold(q2):
    assert q2.overall == {
        "ended": 6,
        "ended_as_planned_share": Decimal("50.0"),
        "goals": 7,
        "reached_share": Decimal("57.1"),
        "reached_share_own": Decimal("50.0"),
        "change_professional": Decimal("1.2"),
        "change_own": Decimal("1.5"),
    }
    assert q2.ended_by_reason_shown == {
        "as_planned": 3,
        "broken_off_family": None,  # 1 help: under 3
        "broken_off_provider": None,
        "changed": None,
        "return": 0,  # nobody to hide
    }


# --- Breakdowns and suppression (threshold 3) ---------------------------------------------


def hidden(ended=None):
    """A group under the threshold: every value None (a count of 0 would stay 0)."""
    return {
        "ended": ended,
        "ended_as_planned_share": None,
        "goals": None,
        "reached_share": None,
        "reached_share_own": None,
        "change_professional": None,
        "change_own": None,
    }


def test_breakdown_by_legal_basis_hides_groups_under_the_threshold(q2):
    assert q2.by_legal_basis == {
        "27_2": hidden(),  # H3: 1 help, 2 goals (g5 g7)
        "30": hidden(),  # H4: 1 help, 1 goal
        "31": {
            "ended": 3,  # H1 H2 H6
            "ended_as_planned_share": Decimal("66.7"),  # H1 H6: 2 of 3
            "goals": 3,  # g1 g2 g4
            "reached_share": Decimal("66.7"),  # g1 (4) g2 (5): 2 of 3
            "reached_share_own": None,  # only 2 own end ratings (g1 g4)
            "change_professional": Decimal("1.0"),  # (+2 + 2 − 1) / 3
            "change_own": None,  # only 2 goals with both own ratings
        },
        "32": hidden(),  # H5
    }


def test_breakdown_by_setting(q2):
    assert q2.by_setting == {
        "flexible": hidden(),  # H3
        "ambulant": {
            "ended": 4,  # H1 H2 H4 H6
            "ended_as_planned_share": Decimal("50.0"),  # H1 H6
            "goals": 4,  # g1 g2 g4 g8
            "reached_share": Decimal("50.0"),  # g1 g2
            "reached_share_own": Decimal("33.3"),  # g1 of g1 (4), g4 (3), g8 (2)
            "change_professional": Decimal("0.8"),  # (+2 + 2 − 1 + 0) / 4 = 0.75, half up
            "change_own": None,  # g1 g4 only
        },
        "day_care": hidden(),  # H5
    }


def test_breakdown_by_provider(world, q2):
    assert q2.by_provider == {
        world.a.name: {
            "ended": 3,  # H1 H3 H4
            "ended_as_planned_share": Decimal("66.7"),  # H1 H3
            "goals": 5,  # g1 g2 g5 g7 g8
            "reached_share": Decimal("80.0"),  # g1 g2 g5 g7
            "reached_share_own": Decimal("75.0"),  # g1 g5 g7 of g1 g5 g7 g8
            "change_professional": Decimal("2.0"),  # (+2 + 2 + 4 + 0) / 4
            "change_own": None,  # g1 g5 only
        },
        world.b.name: {
            "ended": 3,  # H2 H5 H6
            "ended_as_planned_share": Decimal("33.3"),  # H6
            "goals": None,  # g4 g9: 2
            "reached_share": None,
            "reached_share_own": None,
            "change_professional": None,
            "change_own": None,
        },
    }


def test_a_lower_threshold_shows_smaller_groups(world, settings):
    settings.KIJUFAZ_SUPPRESSION_THRESHOLD = 2
    flexible = compute_effectiveness(regions=[world.nord], period=Q2).by_setting["flexible"]
    assert flexible == {
        "ended": None,  # H3 alone
        "ended_as_planned_share": None,
        "goals": 2,  # g5 g7
        "reached_share": Decimal("100.0"),  # 5 and 4
        "reached_share_own": Decimal("100.0"),  # 4 and 5
        "change_professional": None,  # only g5 has a start rating
        "change_own": None,
    }


# --- Periods, regions and the KPI service -----------------------------------------------------


def test_the_period_before(world):
    q1 = compute_effectiveness(regions=[world.nord], period=Q1)
    # Ended in Q1: H7 (as planned), H8 (broken off by the family), H9 (changed).
    assert q1.ended_helps == 3
    assert q1.ended_as_planned_share == Decimal("33.3")
    # g10 (1,1)→(4,5), g11 (2,2)→(1,1), g12 (3,–)→(4,–)
    assert q1.goals_rated == 3
    assert q1.goals_reached_share == Decimal("66.7")  # g10 g12
    assert q1.goals_reached_share_own == Decimal("50.0")  # g10 of g10 g11
    assert q1.rating_change_professional == Decimal("1.0")  # (+3 − 1 + 1) / 3
    assert q1.rating_change_own == Decimal("1.5")  # (+4 − 1) / 2
    # As shown: the own-rating figures rest on 2 goals only.
    assert q1.overall["reached_share"] == Decimal("66.7")
    assert q1.overall["reached_share_own"] is None
    assert q1.overall["change_own"] is None


def test_other_regions_and_all_regions(world, q2):
    mitte = compute_effectiveness(regions=[world.mitte], period=Q2)
    assert (mitte.ended_helps, mitte.goals_rated, mitte.goals_reached_share) == (
        1,
        1,
        Decimal("100.0"),
    )
    both = compute_effectiveness(regions=None, period=Q2)
    assert both.ended_helps == 6 + 1
    assert both.goals_rated == 7 + 1
    assert both.goals_reached_share == Decimal("62.5")  # (4 + 1) / 8


def test_the_kpi_service_gives_the_same_figures(world, q2):
    comparison = kpi_comparison(regions=[world.nord], period=Q2)
    kpis = comparison["current"]
    assert kpis.effectiveness == q2
    assert kpis.goals_reached_share == Decimal("57.1")
    assert kpis.goals_reached_share_own == Decimal("50.0")
    assert kpis.rating_change_professional == Decimal("1.2")
    assert kpis.rating_change_own == Decimal("1.5")
    assert kpis.ended_as_planned_share == q2.ended_as_planned_share
    assert kpis.ended_by_reason == q2.ended_by_reason
    assert comparison["previous"].effectiveness == compute_effectiveness(
        regions=[world.nord], period=Q1
    )
    assert comparison["same_last_year"].goals_reached_share is None  # nothing in Q2 2024


def test_one_query_whatever_the_number_of_regions(world):
    ost = f.make_region("Sozialraum Siegen-Ost", "siegen-ost")
    with CaptureQueriesContext(connection) as one:
        compute_effectiveness(regions=[world.nord], period=Q2)
    with CaptureQueriesContext(connection) as three:
        compute_effectiveness(regions=[world.nord, world.mitte, ost], period=Q2)
    assert len(one) == len(three) == 1


def test_compute_kpis_has_the_effectiveness_of_the_whole_period(world):
    year = compute_kpis(regions=[world.nord], period=Period.of_year(2025))
    # 2025: Q1 and Q2 and H10 (01.07.): 10 helps ended; goals 7 + 3 + g13.
    assert year.effectiveness.ended_helps == 6 + 3 + 1
    assert year.effectiveness.goals_rated == 7 + 3 + 1
