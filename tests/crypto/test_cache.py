from __future__ import annotations

import threading

import pytest

from phiward.crypto import CacheLimits, DataKeyCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_limits_age_messages_bytes() -> None:
    clock = Clock()
    cache: DataKeyCache[int] = DataKeyCache(
        CacheLimits(max_age=10, max_messages=3, max_bytes=100), clock=clock
    )
    made: list[int] = []

    def factory() -> int:
        made.append(len(made))
        return made[-1]

    assert [cache.get_or_create("k", 10, factory) for _ in range(4)] == [0, 0, 0, 1]
    clock.now = 11
    assert cache.get_or_create("k", 10, factory) == 2
    assert cache.get_or_create("k", 95, factory) == 3  # 10 + 95 > 100
    assert cache.get_or_create("other-tenant", 1, factory) == 4
    assert cache.stats.hits == 2 and cache.stats.misses == 5


def test_capacity_and_evict() -> None:
    cache: DataKeyCache[int] = DataKeyCache(CacheLimits(capacity=2))
    for i in range(3):
        cache.put(i, i)
    assert len(cache) == 2 and cache.get(0) is None and cache.stats.evictions == 1
    assert cache.evict(lambda k: k == 2) == 1 and cache.get(2) is None


def test_threads_share_one_budget() -> None:
    cache: DataKeyCache[object] = DataKeyCache(CacheLimits(max_messages=100))
    seen: list[object] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(250):
            v = cache.get_or_create("k", 1, object)
            with lock:
                seen.append(v)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts: dict[int, int] = {}
    for v in seen:
        counts[id(v)] = counts.get(id(v), 0) + 1
    assert max(counts.values()) <= 100


def test_bad_limits() -> None:
    with pytest.raises(ValueError):
        CacheLimits(max_messages=0)
