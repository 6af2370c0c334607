"""CACHE_URL gives all worker processes one Redis cache (production); without it each
process has its own memory cache (`make run`, the tests)."""

import os
import subprocess
import sys

from django.conf import settings

PROBE = (
    "from django.core.cache import caches; cache = caches['default']; cache.set('probe', 42); "
    "print(type(cache).__name__, cache.get('probe'))"
)


def _cache_in_a_process(**env) -> str:
    result = subprocess.run(  # noqa: S603 (fixed command line)
        [sys.executable, "manage.py", "shell", "-c", PROBE],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": "sqlite://:memory:", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def test_cache_url_selects_the_shared_redis_cache():
    assert _cache_in_a_process(CACHE_URL="redis://127.0.0.1:6379/6") == "RedisCache 42"


def test_without_cache_url_each_process_keeps_its_own_memory_cache():
    assert _cache_in_a_process(CACHE_URL="") == "LocMemCache 42"


def test_compose_keeps_the_cache_apart_from_the_broker_and_bounded():
    """Cached figures are never deleted, only evicted: the cache is a Redis of its own
    with a size limit and LRU eviction; the broker's Redis evicts nothing."""
    compose = (settings.BASE_DIR / "docker-compose.yml").read_text()

    assert "CACHE_URL: redis://cache:6379/0" in compose
    assert "CELERY_BROKER_URL: redis://redis:6379/0" in compose
    cache_service = compose.split("\n  cache:\n", 1)[1].split("\n\n", 1)[0]
    assert '"--maxmemory-policy", "allkeys-lru"' in cache_service
    assert '"--maxmemory", "512mb"' in cache_service
