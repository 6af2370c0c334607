"""After a change the budget dashboard shows the last figures at once, says so, and a
Celery task computes the current ones (core.figures.cached_or_last).

The figures are cached only outside transactions (core.figures), so these tests commit
for real. Where the page must not run the task itself, it sends it through a real
Redis broker (the `broker_url` fixture), and the last test has a real worker compute it.
"""

import datetime

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from budgets.tasks import compute_dashboard
from cases.models import Region
from controlling import services as controlling_services
from core import figures
from tests.budgets.conftest import book_salaries, make_contract, make_placement
from tests.celery_worker import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REFRESHING = "Die aktuellen Zahlen werden berechnet"
COMPUTING = "Die Zahlen werden berechnet und erscheinen hier von selbst"
NEW_POSTING = "1.234,00"


@pytest.fixture
def office(region, other_region, asd, provider, other_provider, stationary_provider, leitung):
    today = timezone.localdate()
    contract = make_contract(region, today.year, providers=[provider])
    make_contract(other_region, today.year, providers=[other_provider])
    make_placement(asd, region, stationary_provider, start=today.replace(month=1, day=1))
    cache.clear()
    return {"today": today, "contract": contract, "leitung": leitung, "region": region}


def _url(office) -> str:
    return f"/budgets/?year={office['today'].year}"


def _page(client, office) -> str:
    response = client.get(_url(office), HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 200
    return response.content.decode()


def _queued(broker_url) -> int:
    return redis.Redis.from_url(broker_url).llen("celery")


def _computed(office, region_ids=None) -> None:
    """The figures of these regions (the office's: all), as the task computes them (or,
    the office's, the beat task every minute)."""
    ids = _all_regions() if region_ids is None else region_ids
    compute_dashboard(office["today"].year, ids, str(office["today"]))


def test_after_a_change_the_last_figures_come_at_once_and_one_task_computes_the_new(
    office, client, broker_url, django_assert_max_num_queries
):
    _computed(office)
    client.force_login(office["leitung"])
    first = _page(client, office)
    assert REFRESHING not in first

    book_salaries(office)
    # Neither figures nor the office's section are computed in the request.
    with django_assert_max_num_queries(8):
        stale = _page(client, office)
    assert REFRESHING in stale
    assert NEW_POSTING not in stale
    assert 'hx-trigger="load delay:2s"' in stale  # the page asks again by itself
    assert _queued(broker_url) == 1
    assert REFRESHING in _page(client, office)
    assert _queued(broker_url) == 1  # asked once, not once per visit

    # What the worker does with the message.
    compute_dashboard(office["today"].year, _all_regions(), str(office["today"]))

    fresh = _page(client, office)
    assert NEW_POSTING in fresh
    assert REFRESHING not in fresh


def _all_regions() -> list[int]:
    return list(Region.objects.values_list("pk", flat=True))


def test_without_a_worker_the_page_computes_the_figures_after_the_grace_time(
    office, client, broker_url, monkeypatch
):
    _computed(office)
    client.force_login(office["leitung"])
    book_salaries(office)
    assert REFRESHING in _page(client, office)

    monkeypatch.setattr(figures, "REFRESH_GRACE_SECONDS", 0)
    page = _page(client, office)
    assert NEW_POSTING in page
    assert REFRESHING not in page


def test_a_first_visit_answers_at_once_and_one_task_computes_the_figures(
    office, client, broker_url, django_assert_max_num_queries
):
    # No figures at all (a year nobody looked at, an emptied cache): the page does not
    # wait for them either.
    client.force_login(office["leitung"])
    book_salaries(office)
    with django_assert_max_num_queries(8):
        first = _page(client, office)
    assert COMPUTING in first
    assert NEW_POSTING not in first
    assert 'hx-trigger="load delay:1s"' in first
    assert "Wirksamkeit" not in first  # the office's sections come with the figures
    assert _queued(broker_url) == 1
    assert COMPUTING in _page(client, office)
    assert _queued(broker_url) == 1

    _computed(office)  # what the worker does with the message

    page = _page(client, office)
    assert NEW_POSTING in page
    assert COMPUTING not in page
    assert "Wirksamkeit" in page


def test_a_chart_asked_for_before_any_figures_computes_them(office, client, broker_url):
    # Its page had figures; the cache was emptied since.
    client.force_login(office["leitung"])
    chart = f"/budgets/charts/{office['region'].pk}/{office['today'].year}/burn.svg"
    response = client.get(chart)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert _queued(broker_url) == 0


def test_without_a_broker_the_task_runs_in_the_request_and_the_page_is_current(office, client):
    # The tests' default (and `make run`): Celery eager.
    client.force_login(office["leitung"])
    client.get(_url(office))
    book_salaries(office)
    page = _page(client, office)
    assert NEW_POSTING in page
    assert REFRESHING not in page


def test_a_provider_lead_sees_the_last_figures_of_her_regions_only(
    office, client, broker_url, traegerleitung, leitung
):
    _computed(office)  # the office's figures, with both regions
    _computed(office, [office["region"].pk])  # hers
    client.force_login(traegerleitung)
    mine = _page(client, office)
    book_salaries(office)
    stale = _page(client, office)
    assert REFRESHING in stale
    assert office["region"].name in stale
    other = Region.objects.exclude(pk=office["region"].pk).get()
    assert other.name not in mine
    assert other.name not in stale


def test_the_charts_show_the_figures_the_page_shows_while_refreshing(office, client, broker_url):
    _computed(office)
    client.force_login(office["leitung"])
    book_salaries(office)
    assert REFRESHING in _page(client, office)
    chart = f"/budgets/charts/{office['region'].pk}/{office['today'].year}/burn.svg"
    response = client.get(chart)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert _queued(broker_url) == 1  # the chart asked for no second computation


def test_the_beat_task_computes_the_dashboard_again_on_a_new_day(office):
    today = office["today"]
    assert controlling_services.warm_dashboard_figures(today) is True
    assert controlling_services.warm_dashboard_figures(today) is False
    tomorrow = today + datetime.timedelta(days=1)
    assert controlling_services.warm_dashboard_figures(tomorrow) is True


def test_a_real_worker_computes_the_current_figures_and_the_page_takes_them_up(
    office, client, broker_url, workers
):
    # Page and worker share one Redis cache, as in production.
    workers.env["CACHE_URL"] = broker_url
    shared = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": broker_url,
        "KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
    }
    with override_settings(CACHES={"default": shared}):
        workers.start()
        _computed(office)
        client.force_login(office["leitung"])
        book_salaries(office)
        assert REFRESHING in _page(client, office)

        wait_for(
            lambda: NEW_POSTING in _page(client, office),
            "the worker's figures on the page",
            workers,
        )
        assert REFRESHING not in _page(client, office)


def test_when_the_task_cannot_be_queued_the_page_computes_the_figures(office, client, broker_down):
    client.force_login(office["leitung"])
    client.get(_url(office))
    book_salaries(office)
    page = _page(client, office)
    assert NEW_POSTING in page
    assert REFRESHING not in page
