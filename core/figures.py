"""Cached figures that are never stale: the dashboard's and the KPIs' expensive parts.

A figure computed over the whole city costs up to a second; the same figure asked
again costs a cache read, as long as nothing it depends on has changed. What "changed"
means is decided by the database, not by the code paths that write: deferred
PostgreSQL triggers on every table the figures read (migration core 0005) raise the
single `core.FiguresGeneration` row once per transaction, when it commits. A result is
cached under the generation read *before* it was computed, so a cached value is at
least as new as its key; the first read after a commit sees the new generation and
computes afresh. Hour entries are not among these tables, so logging hours does not
throw the figures away: hours are cached per month (`cached_by_month`), under the
month's own count of committed hour changes (`core.HoursChange`, written by a trigger
at commit without any lock) and a second generation row (id 2, migration core 0008)
that only changes which move hours between regions or providers raise (a help's case,
a family's region, a provider's name, consortia, contracts' providers). A posting, a
rating or a new help leaves the cached hours alone.

The cache is used only on PostgreSQL (where the triggers are) and outside
transactions: figures computed inside one might include writes that are rolled back.
A new table the figures read must get the trigger too (`tests/core/test_figures.py`
checks every table the figures' queries touch).

Figures that take long to compute and that people look at rather than book against
(the budget dashboard) need not make the first visitor after a change wait:
`cached_or_last` answers with the last figures computed, marked as such, and asks a
task to compute the current ones.
"""

import dataclasses
import datetime
import hashlib
import logging
import time
from collections.abc import Callable

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from core.content_cache import Remembered

CACHE_SECONDS = 7 * 24 * 3600
KEY_PREFIX = "figures"

log = logging.getLogger(__name__)


def _cacheable() -> bool:
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def _stamp(epoch, value) -> str:
    # No row yet (a fresh or flushed database): the first change creates it.
    return f"{epoch.hex}.{value}" if epoch else "0"


def generation() -> str | None:
    """The current figures generation, or None where figures are not cached."""
    if not _cacheable():
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT epoch, value FROM core_figuresgeneration WHERE id = 1")
        row = cursor.fetchone() or (None, None)
    return _stamp(*row)


def _key(generation: str, parts: tuple) -> str:
    return f"{KEY_PREFIX}:{generation}:{hashlib.sha256(repr(parts).encode()).hexdigest()}"


UNREAD = object()


def cached[T](parts: tuple, compute: Callable[[], T], known_generation=UNREAD) -> T:
    """`compute()`, from the cache while the data behind it is unchanged.

    `parts` name the figures and every argument they depend on (regions, period, the
    day they are as of); each call returns its own copy (the cache pickles).
    `known_generation` is one the caller read just before (saves the query).
    """
    current = generation() if known_generation is UNREAD else known_generation
    if current is None:
        return compute()
    key = _key(current, parts)
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, CACHE_SECONDS)
    return value


# How long the last figures are shown while a task computes the current ones; after
# that (no worker running?) the request computes them itself.
REFRESH_GRACE_SECONDS = 30


@dataclasses.dataclass(frozen=True)
class Computed[T]:
    """Figures and the generation of the data they were computed from."""

    value: T
    generation: str | None
    computed_at: datetime.datetime
    # Older figures, shown while a task computes those of the current data.
    refreshing: bool = False
    # No figures yet: `value` is the placeholder shown while a task computes the first.
    placeholder: bool = False


def cached_or_last[T](
    parts: tuple,
    compute: Callable[[], T],
    *,
    last_parts: tuple,
    refresh: Callable[[], object] | None = None,
    placeholder: Callable[[], T] | None = None,
    known_generation=UNREAD,
) -> Computed[T]:
    """Like `cached`, but after a change the last figures computed under `last_parts`
    (the same figures, perhaps as of an earlier day) come back at once, marked
    `refreshing`, and `refresh()` is called once to compute the current ones elsewhere
    (a Celery task that calls this function without `refresh`). Without last figures
    (a first visit, an emptied cache) `placeholder()` comes back instead, marked
    `placeholder` too. Without either, without `refresh`, or when the refresh has not
    arrived within REFRESH_GRACE_SECONDS, they are computed here."""
    current = generation() if known_generation is UNREAD else known_generation
    if current is None:
        return Computed(compute(), None, timezone.now())
    key, last_key = _key(current, parts), _key("last", last_parts)
    # A page reads its process's copy; a task (no refresh) the shared cache it fills.
    found = _read(key) if refresh is not None else cache.get(key)
    if found is not None:
        return found
    # Only after a change: the last figures (a copy of the current ones otherwise).
    asked_key = f"{key}:asked"
    earlier = cache.get_many([last_key, asked_key])
    last, asked = earlier.get(last_key), earlier.get(asked_key)
    if last is None and placeholder is not None:
        last = Computed(placeholder(), None, timezone.now(), placeholder=True)
    if last is not None and refresh is not None:
        if asked is None and cache.add(asked_key, time.time(), CACHE_SECONDS):
            if _asked_to_refresh(refresh):
                # Without a broker the task ran eagerly, right here: its figures are
                # current.
                done = _read(key)
                return done if done is not None else dataclasses.replace(last, refreshing=True)
            cache.delete(asked_key)
        elif asked is None or time.time() - asked < REFRESH_GRACE_SECONDS:
            return dataclasses.replace(last, refreshing=True)
    result = Computed(compute(), current, timezone.now())
    cache.set_many({key: result, last_key: result}, CACHE_SECONDS)
    _recent.keep(key, result)
    return result


# The current figures of cached_or_last, kept in each process as read from the cache:
# a key names the figures of one generation, which never change. Reading the budget
# dashboard's back from the cache (unpickling) cost more CPU than anything else on its
# page and its charts. Shared by the process's requests, so callers must not change
# them (none does: the pages build their own rows from them).
_recent: Remembered[Computed] = Remembered(max_size=16, size=lambda value: 1)


def _read(key: str) -> Computed | None:
    found = _recent.get(key)
    if found is None:
        found = cache.get(key)
        if found is not None:
            _recent.keep(key, found)
    return found


def forget_in_process() -> None:
    """Forget this process's copies (after emptying the cache: the bench, the tests)."""
    _recent.clear()


def _asked_to_refresh(refresh: Callable[[], object]) -> bool:
    """False if the task could not be queued (the broker is down): then the request
    computes the figures itself rather than promise figures that will not come."""
    try:
        refresh()
    except OperationalError:
        log.exception("Could not queue the computation of figures; computing them here.")
        return False
    return True


# The row of core_figuresgeneration that counts changes to the attribution of hours.
HOURS_ATTRIBUTION = 2


def hours_generations(months: list[datetime.date]) -> dict[datetime.date, str] | None:
    """Per month: the attribution generation and the month's hour changes, in ONE query
    (None where figures are not cached)."""
    if not _cacheable():
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT g.epoch, g.value, m.month, "
            "(SELECT COALESCE(SUM(c.weight), 0) FROM core_hourschange c WHERE c.month = m.month) "
            "FROM unnest(%s::date[]) AS m(month) "
            "LEFT JOIN core_figuresgeneration g ON g.id = %s",
            [months, HOURS_ATTRIBUTION],
        )
        rows = cursor.fetchall()
    return {month: f"{_stamp(epoch, value)}.{changes}" for epoch, value, month, changes in rows}


def cached_by_month[T](
    parts: tuple,
    months: list[datetime.date],
    compute: Callable[[list[datetime.date]], dict[datetime.date, T]],
) -> dict[datetime.date, T]:
    """Figures per month (first days) of hour data: those of unchanged months from the
    cache, the others from ONE call `compute(missing months)`, which returns a value for
    every month asked."""
    generations = hours_generations(months)
    if generations is None:
        return compute(months)
    keys = {month: _key(generations[month], (*parts, month)) for month in months}
    found = cache.get_many(list(keys.values()))
    values = {month: found[key] for month, key in keys.items() if key in found}
    missing = [month for month in months if month not in values]
    if missing:
        fresh = compute(missing)
        cache.set_many({keys[month]: fresh[month] for month in missing}, CACHE_SECONDS)
        values.update(fresh)
    return values


def compact_hours_changes() -> int:
    """Fold the change lines into one line per month with the same total weight (so the
    generations, and the cached hours, stay as they are). Lines committed meanwhile are
    not seen by the DELETE and stay."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "WITH gone AS (DELETE FROM core_hourschange RETURNING month, weight) "
            "INSERT INTO core_hourschange (month, weight) "
            "SELECT month, SUM(weight) FROM gone GROUP BY month"
        )
        return cursor.rowcount
