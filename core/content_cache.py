"""Values kept under a key made from everything they show: a key always names the same
value, so nothing here needs invalidating (changed input makes a new key).

- `get_or_set`: values free of personal data (rendered form fields, chart images), in
  the shared cache and, the busy ones, in each process's memory as well. The cache's
  key prefix names the release (kijufaz/release.py). The callers decide that a value
  is free of personal data before they build a key.
- `Remembered`: a bounded store in one process's memory only, never in the cache
  server; core.templatetags.kijufaz's `remembered_include` keeps rendered table rows
  in one (they name families).
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from django.core.cache import cache


class Remembered[T]:
    """The most recently used values of this process, at most `max_size` in all: texts
    measured by their length, other values by `size`."""

    def __init__(self, max_size: int, size: Callable[[T], int] = len):
        self.max_size = max_size
        self.size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, T] = OrderedDict()
        self._size = 0

    def get(self, key: Hashable) -> T | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def keep(self, key: Hashable, value: T) -> None:
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = value
            self._size += self.size(value)
            while self._size > self.max_size and self._entries:
                __, dropped = self._entries.popitem(last=False)
                self._size -= self.size(dropped)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._size = 0

    def __len__(self) -> int:
        return len(self._entries)


# A rendered field is 1-2 kB, a chart about 40 kB: the bound keeps a process's copies
# to a few megabytes.
MAX_CHARACTERS = 8_000_000
_local = Remembered(MAX_CHARACTERS)


def get_or_set(key: str, compute: Callable[[], str], timeout: int) -> str:
    """The text stored under `key`: from this process, else from the cache, else
    `compute()` (stored in both)."""
    local_key = cache.make_and_validate_key(key)
    value = _local.get(local_key)
    if value is not None:
        return value
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout)
    _local.keep(local_key, value)
    return value


def clear() -> None:
    """Forget this process's copies (the tests)."""
    _local.clear()
