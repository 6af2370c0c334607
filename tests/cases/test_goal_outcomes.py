"""The goal outcome of every help always equals the sums over its rated goals.

HelpGoalOutcome is kept by PostgreSQL triggers on the ratings and the goals (migration
cases 0008), in the same transaction as the change, whatever wrote it: the plan and
ending services, plain ORM updates and deletes, or SQL. The effectiveness figures read
it instead of joining every goal to its two ratings.
"""

import datetime
import threading
import time
from collections import defaultdict

import psycopg2
import pytest
from django.db import connection

from cases import services
from cases.models import GoalRating, HelpGoalOutcome, HelpPlanGoal
from tests import factories as f
from tests.controlling.test_effectiveness import goal, save_plan

pytestmark = pytest.mark.postgres

START = datetime.date(2025, 1, 6)
END = datetime.date(2025, 6, 30)


def kept() -> dict[int, tuple]:
    """The outcome rows, without the rows of helps that have no rated goal (left as zeros)."""
    columns = [field.attname for field in HelpGoalOutcome._meta.fields]
    return {
        row[0]: row[1:] for row in HelpGoalOutcome.objects.values_list(*columns) if any(row[1:])
    }


def recounted() -> dict[int, tuple]:
    """The same sums, counted goal by goal in Python (the definition of DOMAIN.md)."""
    sums = defaultdict(lambda: [0] * 8)
    goals = HelpPlanGoal.objects.filter(origin=None).select_related("plan")
    for g in goals.prefetch_related("ratings"):
        ratings = {r.occasion: r for r in g.ratings.all()}
        end, start = ratings.get("end"), ratings.get("start")
        if end is None:
            continue
        s = sums[g.plan.help_id]
        s[0] += 1
        s[1] += end.professional >= 4
        s[2] += end.own is not None
        s[3] += end.own is not None and end.own >= 4
        if start is not None:
            s[4] += 1
            s[5] += end.professional - start.professional
            if start.own is not None and end.own is not None:
                s[6] += 1
                s[7] += end.own - start.own
    return {help_id: tuple(s) for help_id, s in sums.items()}


def planned_help(owner, provider, *start_ratings):
    """A running help with one goal per (professional, own) start rating."""
    case = f.make_case(owner, opened_on=START)
    help = f.make_help(case, provider, start=START)
    goals = save_plan(
        help, START, [goal(f"Ziel {i}", *r) for i, r in enumerate(start_ratings)], owner
    )
    return help, goals


@pytest.mark.django_db
def test_the_outcome_follows_ending_rating_again_and_deleting(asd, provider):
    first, (g1, g2, g3) = planned_help(asd, provider, (2, 1), (3, None), (1, 1))
    second, (g4,) = planned_help(asd, provider, (4, 4))
    assert kept() == recounted() == {}  # start ratings alone count nothing

    services.end_help(
        help=first,
        on=END,
        reason="as_planned",
        by=asd,
        ratings=[(g1.pk, 4, 5), (g2.pk, 5, 3), (g3.pk, 2, None)],
    )
    assert kept() == recounted()
    assert kept()[first.pk] == (3, 2, 2, 1, 3, 5, 1, 4)

    end = GoalRating.objects.get(goal=g1, occasion="end")
    end.professional, end.own = 1, None
    end.save()
    GoalRating.objects.filter(goal=g2, occasion="start").delete()
    GoalRating.objects.create(goal=g4, occasion="end", rated_on=END, professional=5, own=5)
    GoalRating.objects.create(goal=g3, occasion="review", rated_on=END, professional=5)
    assert kept() == recounted()
    assert kept()[second.pk] == (1, 1, 1, 1, 1, 1, 1, 1)

    GoalRating.objects.filter(goal=g3, occasion="end").delete()
    assert kept() == recounted()


@pytest.mark.django_db
def test_a_goal_that_is_no_longer_a_root_or_goes_away_stops_counting(asd, provider):
    help, (g1, g2) = planned_help(asd, provider, (2, 2), (3, 3))
    services.end_help(
        help=help, on=END, reason="as_planned", by=asd, ratings=[(g1.pk, 4, 4), (g2.pk, 5, 5)]
    )
    HelpPlanGoal.objects.filter(pk=g2.pk).update(origin=g1)
    assert kept() == recounted()
    assert kept()[help.pk][0] == 1

    HelpPlanGoal.objects.filter(pk=g2.pk).update(origin=None)
    g1.delete()
    assert kept() == recounted()
    assert kept()[help.pk][0] == 1


@pytest.mark.django_db
def test_rebuilding_gives_what_the_triggers_kept(asd, provider):
    help, (g1,) = planned_help(asd, provider, (2, None))
    services.end_help(help=help, on=END, reason="as_planned", by=asd, ratings=[(g1.pk, 3, 2)])
    before = kept()

    services.rebuild_goal_outcomes()

    assert kept() == before == recounted()


@pytest.mark.django_db(transaction=True)
def test_ratings_of_one_help_committed_at_the_same_time_are_both_counted(asd, provider):
    """The second transaction waits for the first and then counts its rating too (a plain
    recount in each would leave out the other's uncommitted rating)."""
    help, (g1, g2) = planned_help(asd, provider, (1, 1), (1, 1))
    params = connection.get_connection_params()
    first, second = psycopg2.connect(**params), psycopg2.connect(**params)
    insert = (
        "INSERT INTO cases_goalrating (goal_id, occasion, rated_on, professional, own) "
        "VALUES (%s, 'end', %s, 5, 5)"
    )
    try:
        first_cursor = first.cursor()
        first_cursor.execute(insert, [g1.pk, END])  # holds the help's outcome row
        second_pid = second.get_backend_pid()
        done = threading.Event()

        def rate_second():
            with second.cursor() as cursor:
                cursor.execute(insert, [g2.pk, END])
            second.commit()
            done.set()

        thread = threading.Thread(target=rate_second)
        thread.start()
        deadline = time.monotonic() + 10
        while not _waits_for_a_lock(first_cursor, second_pid):
            assert time.monotonic() < deadline, "the second rating did not wait"
            time.sleep(0.02)
        first.commit()
        thread.join(timeout=10)
        assert done.is_set()
    finally:
        first.close()
        second.close()

    assert kept()[help.pk] == recounted()[help.pk] == (2, 2, 2, 2, 2, 8, 2, 8)


def _waits_for_a_lock(cursor, pid: int) -> bool:
    cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
    row = cursor.fetchone()
    return row is not None and row[0] == "Lock"
