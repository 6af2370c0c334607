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
