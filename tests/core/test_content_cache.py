"""Content-addressed values (rendered fields, charts) are kept in each process as well:
read again, they come without asking the cache server (core.content_cache)."""

import pytest
from django.core.cache import cache

from core import content_cache


@pytest.fixture(autouse=True)
def _empty():
    cache.clear()
    content_cache.clear()
    yield
    content_cache.clear()


def test_a_value_is_computed_once_and_then_read_from_the_process(monkeypatch):
    computed = []
    assert content_cache.get_or_set("k", lambda: computed.append(1) or "<svg/>", 60) == "<svg/>"
    monkeypatch.setattr(cache, "get", lambda *a, **k: pytest.fail("asked the cache server"))
    assert content_cache.get_or_set("k", lambda: computed.append(1) or "other", 60) == "<svg/>"
    assert computed == [1]


def test_another_process_reads_what_one_stored_in_the_shared_cache():
    content_cache.get_or_set("k", lambda: "<p>field</p>", 60)
    content_cache.clear()  # as in a second worker process
    assert content_cache.get_or_set("k", lambda: pytest.fail("computed again"), 60) == (
        "<p>field</p>"
    )


def test_the_oldest_values_make_room(monkeypatch):
    monkeypatch.setattr(content_cache._local, "max_size", 10)
    content_cache.get_or_set("a", lambda: "aaaaaa", 60)
    content_cache.get_or_set("b", lambda: "bbbbbb", 60)  # 12 characters: "a" goes
    cache.clear()
    assert content_cache.get_or_set("b", lambda: "new", 60) == "bbbbbb"
    assert content_cache.get_or_set("a", lambda: "new", 60) == "new"
