"""A data-key cache with per-entry limits on age, messages and bytes. Private module.

Reusing a data key for several messages/fields saves KMS calls (cost, latency, rate limits) at the
price of a larger blast radius per key, so every entry is bounded three ways, entries are keyed by
tenant + master key id + context (never shared across them), and stats count the calls saved.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
A = TypeVar("A")

_ALL: weakref.WeakSet[DataKeyCache[Any]] = weakref.WeakSet()


def _clear_all_after_fork() -> None:
    """A forked child must not reuse its parent's data keys: message counters (nonces) and
    budgets would be duplicated across the two processes."""
    for cache in list(_ALL):
        cache._lock = threading.Lock()
        cache._entries.clear()


os.register_at_fork(after_in_child=_clear_all_after_fork)


@dataclass(frozen=True, slots=True)
class CacheLimits:
    """How long and how much one cached data key may be used."""

    max_age: float = 300.0
    max_messages: int = 2**20
    max_bytes: int = 2**40
    capacity: int = 1024

    def __post_init__(self) -> None:
        if self.max_age <= 0 or self.max_messages < 1 or self.max_bytes < 1 or self.capacity < 1:
            raise ValueError("cache limits must be positive")


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    evictions: int = 0

    @property
    def calls_saved(self) -> int:
        """Key-provider calls avoided: each hit is one GenerateDataKey/Decrypt not made."""
        return self.hits


@dataclass(slots=True)
class _Entry(Generic[T]):
    value: T
    created: float
    messages: int = 0
    nbytes: int = 0


class DataKeyCache(Generic[T]):
    """Thread-safe LRU of data-key materials with usage limits.

    ``get_or_create(key, nbytes, factory)`` returns a cached value if its entry still has budget
    for one more message of ``nbytes`` (and counts it), else calls ``factory`` and caches the new
    value. ``key`` must include everything that scopes reuse: tenant, master key id, context.
    """

    def __init__(
        self, limits: CacheLimits | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or CacheLimits()
        self.stats = CacheStats()
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, _Entry[T]] = OrderedDict()
        _ALL.add(self)

    def __len__(self) -> int:
        return len(self._entries)

    def acquire(
        self, key: Hashable, nbytes: int, factory: Callable[[A], T], arg: A
    ) -> tuple[T, int]:
        """Like :meth:`get_or_create`, also returning this use's 1-based message number under
        the entry, counted under the lock (unique per data key: usable as a GCM nonce counter).
        ``factory(arg)`` avoids allocating a closure per call on hot paths."""
        now = self._clock()
        lim = self.limits
        with self._lock:
            entry = self._entries.get(key)
            if (
                entry is not None
                and now - entry.created < lim.max_age
                and entry.messages < lim.max_messages
                and entry.nbytes + nbytes <= lim.max_bytes
            ):
                entry.messages += 1
                entry.nbytes += nbytes
                self.stats.hits += 1
                return entry.value, entry.messages
        value = factory(arg)
        with self._lock:
            self.stats.misses += 1
            self._entries[key] = _Entry(value, now, 1, nbytes)
            while len(self._entries) > lim.capacity:
                self._entries.popitem(last=False)
                self.stats.evictions += 1
        return value, 1

    def get_or_create(self, key: Hashable, nbytes: int, factory: Callable[[], T]) -> T:
        now = self._clock()
        lim = self.limits
        with self._lock:
            entry = self._entries.get(key)
            if (
                entry is not None
                and now - entry.created < lim.max_age
                and entry.messages < lim.max_messages
                and entry.nbytes + nbytes <= lim.max_bytes
            ):
                entry.messages += 1
                entry.nbytes += nbytes
                self.stats.hits += 1
                return entry.value
        # Call the provider outside the lock: a slow KMS call must not block other keys.
        value = factory()
        with self._lock:
            self.stats.misses += 1
            self._entries[key] = _Entry(value, now, 1, nbytes)
            self._entries.move_to_end(key)
            while len(self._entries) > lim.capacity:
                self._entries.popitem(last=False)
                self.stats.evictions += 1
        return value

    def get(self, key: Hashable) -> T | None:
        """A cached value for decryption (age-limited only), or ``None``.

        Lock-free on the hot path (a dict read is atomic in CPython); the hit counter may
        undercount slightly under heavy thread contention.
        """
        entry = self._entries.get(key)
        if entry is None or self._clock() - entry.created >= self.limits.max_age:
            return None
        self.stats.hits += 1
        return entry.value

    def put(self, key: Hashable, value: T) -> None:
        with self._lock:
            self.stats.misses += 1
            self._entries[key] = _Entry(value, self._clock())
            while len(self._entries) > self.limits.capacity:
                self._entries.popitem(last=False)
                self.stats.evictions += 1

    def evict(self, predicate: Callable[[Hashable], bool]) -> int:
        """Drop entries whose key matches (e.g. a shredded subject's key); returns how many."""
        with self._lock:
            doomed = [k for k in self._entries if predicate(k)]
            for k in doomed:
                del self._entries[k]
            return len(doomed)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
