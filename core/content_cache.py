"""Values cached under a key made from everything they show (rendered form fields, chart
images): a key always names the same value, so each process also keeps the most used
ones in memory and serves them without asking the cache server.

Nothing here needs invalidating: changed input makes a new key, and the cache's key
prefix names the release (kijufaz/release.py). Only values free of personal data are
stored this way; the callers decide that before they build a key.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable

from django.core.cache import cache

# A rendered field is 1-2 kB, a chart about 40 kB: the bound keeps a process's copies
# to a few megabytes.
MAX_CHARACTERS = 8_000_000

_lock = threading.Lock()
_entries: OrderedDict[str, str] = OrderedDict()
_size = 0


def get_or_set(key: str, compute: Callable[[], str], timeout: int) -> str:
    """The text stored under `key`: from this process, else from the cache, else
    `compute()` (stored in both)."""
    local_key = cache.make_and_validate_key(key)
    with _lock:
        value = _entries.get(local_key)
        if value is not None:
            _entries.move_to_end(local_key)
            return value
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout)
    _keep(local_key, value)
    return value


def _keep(local_key: str, value: str) -> None:
    global _size
    with _lock:
        if local_key in _entries:
            return
        _entries[local_key] = value
        _size += len(value)
        while _size > MAX_CHARACTERS and _entries:
            __, dropped = _entries.popitem(last=False)
            _size -= len(dropped)


def clear() -> None:
    """Forget this process's copies (the tests)."""
    global _size
    with _lock:
        _entries.clear()
        _size = 0
