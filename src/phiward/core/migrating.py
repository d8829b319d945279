"""The one lock every Alembic command in this process runs under.

Alembic's ``context`` and ``op`` are process-global proxies: two threads migrating at once (the
audit log and the key table opening side by side, say) would swap each other's context. The
lock is replaced in a forked child, where a lock held by another thread at fork time would never
be released.
"""

from __future__ import annotations

import os
import threading
import time

# SQLite has no DDL lock: a process that finds the schema half made by another (its tables
# created, the version row not yet written) looks again after a pause. A real problem fails
# every attempt.
RACE_ATTEMPTS = 6


class _Held:
    lock = threading.Lock()


def alembic_lock() -> threading.Lock:
    """The process-wide lock for Alembic commands (``with alembic_lock(): command.upgrade``)."""
    return _Held.lock


def race_pause(attempt: int) -> None:
    """Wait before look number ``attempt + 1`` after a lost schema race (10, 20, 40... ms)."""
    time.sleep(0.01 * (1 << (attempt - 1)))


def _fresh_lock_in_child() -> None:
    _Held.lock = threading.Lock()


os.register_at_fork(after_in_child=_fresh_lock_in_child)
