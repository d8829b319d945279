"""The one lock every Alembic command in this process runs under.

Alembic's ``context`` and ``op`` are process-global proxies: two threads migrating at once (the
audit log and the key table opening side by side, say) would swap each other's context. The
lock is replaced in a forked child, where a lock held by another thread at fork time would never
be released.
"""

from __future__ import annotations

import os
import threading


class _Held:
    lock = threading.Lock()


def alembic_lock() -> threading.Lock:
    """The process-wide lock for Alembic commands (``with alembic_lock(): command.upgrade``)."""
    return _Held.lock


def _fresh_lock_in_child() -> None:
    _Held.lock = threading.Lock()


os.register_at_fork(after_in_child=_fresh_lock_in_child)
