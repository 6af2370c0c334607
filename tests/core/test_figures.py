"""Cached dashboard and KPI figures (core.figures): computed once, never stale.

The cache works outside transactions only, so these tests commit for real
(transactional database); every test compares the cached figures with the same
figures computed directly from the tables.
"""

import datetime
import pickle
import re
import uuid
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from budgets import dashboard as budget_dashboard
from cases import services as case_services
from cases.models import Case, GoalRating, HelpEndReason, HelpPlanGoal, RatingOccasion
from controlling import kpis
from core import figures
from core.models import FiguresGeneration, HoursChange
from providers import services as provider_services
from providers.models import Activity, GroupOffer, GroupSession, HourKind
from tests import factories as f
from tests.budgets.conftest import (
    book_salaries,
    make_ambulant_help,
    make_contract,
    make_placement,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def city(region, other_region, asd, provider, stationary_provider, leitung, fachkraft):
    """A running year: a contract, a placement, an ambulant help with a rated plan."""
    today = timezone.localdate()
    year_start = today.replace(month=1, day=1)
    contract = make_contract(region, today.year, providers=[provider])
    placement = make_placement(asd, region, stationary_provider, start=year_start)
    ambulant = make_ambulant_help(asd, region, provider, start=year_start, family_name="Berg")
    plan = f.make_plan(ambulant, goals=("Schulbesuch", "Tagesstruktur"))
    for goal in plan.goals.all():
        GoalRating.objects.create(
            goal=goal, occasion=RatingOccasion.START, rated_on=year_start, professional=2, own=2
        )
    return {
        "today": today,
        "region": region,
        "other_region": other_region,
        "contract": contract,
        "placement": placement,
        "ambulant": ambulant,
        "plan": plan,
        "asd": asd,
        "leitung": leitung,
        "fachkraft": fachkraft,
        "provider": provider,
    }


def _dashboard(world):
    return budget_dashboard.dashboard(world["today"].year, [world["region"]], world["today"])


def _dashboard_uncached(world):
    return budget_dashboard._dashboard(world["today"].year, [world["region"]], world["today"])


def _year():
    return kpis.Period.of_year(timezone.localdate().year)


def _kpis(world):
    return kpis.compute_kpis(regions=[world["region"]], period=_year())


def _effectiveness(world):
    return kpis.compute_effectiveness(regions=[world["region"]], period=_year())


def _same(cached, fresh) -> bool:
    return repr(cached) == repr(fresh)


def _uncached(compute):
    with transaction.atomic():  # figures computed inside a transaction are never cached
        return compute()


def test_the_cached_dashboard_is_plain_values_read_with_one_lookup(city, monkeypatch):
    # A model instance or a lazy label would cost more to read back than the figures.
    _dashboard(city)
    lookups = []
    for name in ("get", "get_many"):
        original = getattr(cache, name)
        monkeypatch.setattr(
            cache, name, lambda *a, _f=original, _n=name, **k: lookups.append(_n) or _f(*a, **k)
        )
    again = _dashboard(city)
    assert lookups == ["get"]
    stored = pickle.dumps(again)
    assert b"django.db.models" not in stored
    assert b"_lazy_proxy_unpickle" not in stored
    assert again.current[0].contract.title == city["contract"].title


def test_a_page_reads_the_current_figures_kept_in_its_process(city, monkeypatch):
    # Unpickling the dashboard's figures cost more than anything else on its charts.
    today = city["today"]
    first = budget_dashboard.dashboard_or_last(today.year, [city["region"]], today)
    monkeypatch.setattr(cache, "get", lambda *a, **k: pytest.fail("asked the cache server"))
    again = budget_dashboard.dashboard_or_last(today.year, [city["region"]], today)
    assert again is first
    figures.forget_in_process()  # another process reads them from the shared cache
    monkeypatch.undo()
    assert _same(budget_dashboard.dashboard_or_last(today.year, [city["region"]], today), first)


def test_a_repeated_dashboard_costs_one_query(city, django_assert_num_queries):
    first = _dashboard(city)
    with django_assert_num_queries(1):  # the generation
        again = _dashboard(city)
    assert _same(again, first)
    assert _same(again, _uncached(lambda: _dashboard(city)))


def test_repeated_kpis_read_only_the_hours_live(city, django_assert_max_num_queries):
    first = _kpis(city)
    with django_assert_max_num_queries(3):  # regions, generation, hours
        again = _kpis(city)
    assert _same(again, first)


def _end_help_with_ratings(world):
    goals = list(world["plan"].goals.values_list("pk", flat=True))
    case_services.end_help(
        help=world["ambulant"],
        on=world["today"],
        reason=HelpEndReason.AS_PLANNED,
        by=world["asd"],
        ratings=[(pk, 5, 4) for pk in goals],
    )


def _rate_goal(world):
    world["ambulant"].end = world["today"]
    world["ambulant"].end_reason = HelpEndReason.AS_PLANNED
    world["ambulant"].save()
    goal = HelpPlanGoal.objects.filter(plan=world["plan"]).first()
    GoalRating.objects.create(
        goal=goal, occasion=RatingOccasion.END, rated_on=world["today"], professional=5, own=5
    )


def _change_daily_rate(world):
    case_services.change_daily_rate(
        help=world["placement"],
        valid_from=world["today"].replace(month=1, day=2),
        amount=Decimal("500.00"),
        by=world["asd"],
    )


def _move_family(world):
    family = world["ambulant"].case.family
    family.region = world["other_region"]
    family.save()


def _new_family_help(world):
    make_ambulant_help(
        world["asd"],
        world["region"],
        world["provider"],
        start=world["today"].replace(month=1, day=1),
        family_name="Neu",
    )


def _register_participant(world):
    offer = GroupOffer.objects.create(
        region=world["region"],
        provider=world["provider"],
        topic="Elterncafé",
        target_group="Eltern",
        starts_on=world["today"].replace(month=1, day=1),
    )
    session = GroupSession.objects.create(offer=offer, date=world["today"], duration_minutes=90)
    family = f.make_family(world["region"], name="Gast")
    session.registered_participants.add(f.make_person(family, "Kim"))


def _rename_region(world):
    world["region"].name = "Umbenannt"
    world["region"].save()


CHANGES = {
    "a flexible posting": (book_salaries, (_dashboard, _kpis)),
    "a help ended with end ratings": (_end_help_with_ratings, (_dashboard, _kpis, _effectiveness)),
    "a goal rating": (_rate_goal, (_effectiveness,)),
    "a new daily rate": (_change_daily_rate, (_dashboard, _kpis)),
    "a family moving to another region": (_move_family, (_dashboard, _kpis)),
    "a new family with a help": (_new_family_help, (_dashboard, _kpis)),
    "a registered group participant": (_register_participant, (_dashboard, _kpis)),
    "a renamed region": (_rename_region, (_dashboard,)),
}


@pytest.mark.parametrize("change", CHANGES)
def test_every_change_shows_in_the_cached_figures_at_once(city, change):
    make_change, affected = CHANGES[change]
    before = {compute: compute(city) for compute in affected}
    for compute in affected:  # a second read comes from the cache
        assert _same(compute(city), before[compute])

    make_change(city)

    for compute in affected:
        fresh = _uncached(lambda compute=compute: compute(city))
        assert not _same(fresh, before[compute]), f"{change} changes {compute.__name__}"
        assert _same(compute(city), fresh)


def test_a_change_is_counted_once_per_transaction_when_it_commits(city):
    before = figures.generation()
    with transaction.atomic():
        book_salaries(city)
        book_salaries(city)
        _change_daily_rate(city)
        assert figures.generation() is None  # inside a transaction nothing is cached
        assert FiguresGeneration.objects.get(pk=1).value == int(before.split(".")[1])
    assert int(figures.generation().split(".")[1]) == int(before.split(".")[1]) + 1


def test_a_rolled_back_change_keeps_the_cached_figures(city):
    before = figures.generation()
    with pytest.raises(RuntimeError), transaction.atomic():
        book_salaries(city)
        raise RuntimeError("the request failed")
    assert figures.generation() == before


def test_work_on_a_case_that_leaves_the_figures_alone_keeps_them(city):
    before = figures.generation()
    case = Case.objects.get(pk=city["ambulant"].case_id)
    case.confidential = True
    case.save()
    f.make_note(case)
    family = case.family
    family.name = "Berg-Neu"
    family.save()
    assert figures.generation() == before


def test_logged_hours_keep_the_cache_but_count_in_the_kpis_at_once(city):
    before_generation = figures.generation()
    before = _kpis(city)
    provider_services.log_hours(
        staff=city["fachkraft"],
        idempotency_key=uuid.uuid4(),
        date=city["today"],
        minutes=90,
        kind=HourKind.CASE_SPECIFIC,
        activity=Activity.values[0],
        help=city["ambulant"],
    )
    assert figures.generation() == before_generation
    after = _kpis(city)
    assert after.minutes_total == before.minutes_total + 90
    assert after.minutes_by_kind[HourKind.CASE_SPECIFIC] == (
        before.minutes_by_kind[HourKind.CASE_SPECIFIC] + 90
    )


TABLE = re.compile(r'(?:FROM|JOIN)\s+"(\w+)"')


def test_every_table_the_cached_figures_read_counts_its_changes(city, monkeypatch):
    """A new table read by a cached figure needs the trigger of migration core 0005."""
    read: set[str] = set()

    def recording(parts, compute, known_generation=None):
        with CaptureQueriesContext(connection) as ctx:
            value = compute()
        for query in ctx.captured_queries:
            read.update(TABLE.findall(query["sql"]))
        return value

    def recording_by_month(parts, months, compute):
        return recording(parts, lambda: compute(months))

    def recording_or_last(parts, compute, **options):
        return figures.Computed(recording(parts, compute), None, timezone.now())

    monkeypatch.setattr(budget_dashboard, "cached_or_last", recording_or_last)
    monkeypatch.setattr(kpis, "cached_figures", recording)
    monkeypatch.setattr(kpis, "cached_by_month", recording_by_month)
    _end_help_with_ratings(city)
    _dashboard(city)
    _kpis(city)
    _effectiveness(city)
    kpis.compute_kpis(regions=None, period=kpis.Period.of_quarter(city["today"].year, 1))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger "
            "WHERE tgname = 'core_figures_changed'"
        )
        counted = {row[0] for row in cursor.fetchall()}
    assert {"cases_helpgoaloutcome", "budgets_posting", "providers_hourrollup"} <= read
    # The rollups change with the hour entries, whose trigger counts changes per month.
    counted.add("providers_hourrollup")
    # The goal outcomes change with the ratings and the goals (cases migration 0008) in
    # the same transaction, and those raise the generation.
    assert {"cases_goalrating", "cases_helpplangoal"} <= counted
    counted.add("cases_helpgoaloutcome")
    assert read <= counted, f"tables without the trigger: {sorted(read - counted)}"


def test_past_years_stay_cached_from_day_to_day(city):
    year = city["today"].year - 1
    regions = [city["region"]]
    budget_dashboard.dashboard(year + 1, regions, datetime.date(year + 1, 12, 30))
    with CaptureQueriesContext(connection) as ctx:
        budget_dashboard.dashboard(year + 1, regions, datetime.date(year + 2, 1, 5))
        budget_dashboard.dashboard(year + 1, regions, datetime.date(year + 2, 3, 5))
    # The first day of the next year computes the closed year once; later days reuse it.
    assert len(ctx.captured_queries) > 2
    with CaptureQueriesContext(connection) as ctx:
        budget_dashboard.dashboard(year + 1, regions, datetime.date(year + 2, 6, 1))
    assert len(ctx.captured_queries) == 1


def test_the_beat_task_computes_the_office_dashboard_before_the_first_visit(city):
    from cases.models import Region
    from controlling import services as controlling_services
    from controlling.templatetags.controlling_panels import effectiveness_figures

    cache.clear()
    assert controlling_services.warm_dashboard_figures() is True
    assert controlling_services.warm_dashboard_figures() is False  # nothing changed since

    regions = list(Region.objects.order_by("name"))
    today = timezone.localdate()
    with CaptureQueriesContext(connection) as ctx:
        budget_dashboard.dashboard(today.year, regions, today)
        # The office's page asks for every region as None (budgets.views.dashboard).
        effectiveness_figures(today.year, None, True)
    # Only the generation, once per figure: dashboard, effectiveness now and last year.
    assert len(ctx.captured_queries) == 3

    book_salaries(city)
    assert controlling_services.warm_dashboard_figures() is True


def _log(world, day, minutes=45):
    provider_services.log_hours(
        staff=world["fachkraft"],
        idempotency_key=uuid.uuid4(),
        date=day,
        minutes=minutes,
        kind=HourKind.CASE_SPECIFIC,
        activity=Activity.values[0],
        help=world["ambulant"],
    )


def _kpis_and_hour_reads(world):
    """The KPIs, and the queries that read hour rollups while computing them."""
    with CaptureQueriesContext(connection) as ctx:
        kpis_now = _kpis(world)
    return kpis_now, [q["sql"] for q in ctx.captured_queries if "providers_hourrollup" in q["sql"]]


def test_only_the_month_whose_hours_changed_is_read_again(city):
    today = city["today"]
    _log(city, today)
    before = _kpis(city)
    assert _kpis_and_hour_reads(city)[1] == []

    _log(city, today, minutes=30)
    after, reads = _kpis_and_hour_reads(city)
    assert len(reads) == 1
    this_month = today.replace(day=1)
    assert f"'{this_month.isoformat()}'" in reads[0]
    if this_month.month > 1:  # the months before come from the cache
        assert f"'{this_month.replace(month=1).isoformat()}'" not in reads[0]
    assert after.minutes_total == before.minutes_total + 30
    assert after.minutes_by_month[this_month] == before.minutes_by_month[this_month] + 30
    assert _same(after, _uncached(lambda: _kpis(city)))


def test_a_change_that_moves_no_hours_keeps_the_cached_hours(city):
    """A posting, a rating or a new help changes the figures, not where hours count."""
    _log(city, city["today"])
    _kpis(city)
    for change in (book_salaries, _rate_goal, _new_family_help):
        change(city)
        assert _kpis_and_hour_reads(city)[1] == [], change.__name__
    assert _same(_kpis(city), _uncached(lambda: _kpis(city)))


def test_hours_follow_a_family_that_moves_to_another_region(city):
    _log(city, city["today"], minutes=90)
    before = _kpis(city)

    _move_family(city)

    after = _kpis(city)
    assert after.minutes_total == before.minutes_total - 90
    assert _same(after, _uncached(lambda: _kpis(city)))
    moved_to = kpis.compute_kpis(regions=[city["other_region"]], period=_year())
    assert moved_to.minutes_total == 90


def test_every_table_the_cached_hours_read_counts_changes_of_attribution(city):
    """A new table the hours query reads needs the trigger of migration core 0008."""
    _log(city, city["today"])
    with CaptureQueriesContext(connection) as ctx:
        kpis._rollup_minutes([city["region"].pk], [city["today"].replace(day=1)])
    read = {table for q in ctx.captured_queries for table in TABLE.findall(q["sql"])}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger "
            "WHERE tgname = 'core_attribution_changed'"
        )
        counted = {row[0] for row in cursor.fetchall()}
    assert {"cases_family", "providers_consortium"} <= read
    # The rollups change with the hour entries, counted per month (core_hours_changed).
    counted.add("providers_hourrollup")
    assert read <= counted, f"tables without the trigger: {sorted(read - counted)}"


def test_compacting_the_hour_changes_keeps_every_month_cached(city):
    today = city["today"]
    for minutes in (15, 30, 45):
        _log(city, today, minutes=minutes)
    months = [today.replace(day=1)]
    before = figures.hours_generations(months)
    assert HoursChange.objects.filter(month=months[0]).count() == 3
    figures.compact_hours_changes()
    assert HoursChange.objects.filter(month=months[0]).count() == 1
    assert figures.hours_generations(months) == before


def test_the_dashboard_page_shows_a_new_posting_at_once(city, client):
    client.force_login(city["leitung"])
    url = f"/budgets/?year={city['today'].year}"
    assert "1.234,00" not in client.get(url).content.decode()
    client.get(url)  # the region's section now comes from the cache

    book_salaries(city)

    assert "1.234,00" in client.get(url).content.decode()


def test_the_dashboard_computed_in_the_request_stays_within_15_queries(
    city, client, django_assert_max_num_queries, broker_down
):
    client.force_login(city["leitung"])
    url = f"/budgets/?year={city['today'].year}"
    client.get(url)
    book_salaries(city)
    # No last figures, and no task to compute them: the page computes them itself
    # (tests/budgets/test_dashboard_refresh.py).
    cache.clear()
    with django_assert_max_num_queries(15):
        client.get(url)
