"""Cached figures that are never stale: the dashboard's and the KPIs' expensive parts.

A figure computed over the whole city costs up to a second; the same figure asked
again costs a cache read, as long as nothing it depends on has changed. What "changed"
means is decided by the database, not by the code paths that write: deferred
PostgreSQL triggers on every table the figures read (migration core 0005) raise the
single `core.FiguresGeneration` row once per transaction, when it commits. A result is
cached under the generation read *before* it was computed, so a cached value is at
least as new as its key; the first read after a commit sees the new generation and
computes afresh. Hour entries are not among these tables: the hours are read live
from their rollups (cheap), so logging hours does not throw the figures away.

The cache is used only on PostgreSQL (where the triggers are) and outside
transactions: figures computed inside one might include writes that are rolled back.
A new table the figures read must get the trigger too (`tests/core/test_figures.py`
checks every table the figures' queries touch).
"""

import hashlib
from collections.abc import Callable

from django.core.cache import cache
from django.db import connection

CACHE_SECONDS = 7 * 24 * 3600
KEY_PREFIX = "figures"


def generation() -> str | None:
    """The current figures generation, or None where figures are not cached."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT epoch, value FROM core_figuresgeneration WHERE id = 1")
        row = cursor.fetchone()
    # No row yet (a fresh or flushed database): the first change creates it.
    return f"{row[0].hex}.{row[1]}" if row else "0"


def cached[T](parts: tuple, compute: Callable[[], T]) -> T:
    """`compute()`, from the cache while the data behind it is unchanged.

    `parts` name the figures and every argument they depend on (regions, period, the
    day they are as of); each call returns its own copy (the cache pickles).
    """
    current = generation()
    if current is None:
        return compute()
    key = f"{KEY_PREFIX}:{current}:{hashlib.sha256(repr(parts).encode()).hexdigest()}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, CACHE_SECONDS)
    return value
