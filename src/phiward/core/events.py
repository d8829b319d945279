"""A one-way channel from the domain to the audit log, so ``crypto`` and ``discover`` never import
``audit``.

Domain code calls :func:`emit` at each security-relevant step (a key rotated, a file decrypted, a
scan finished). Nothing happens until something installs a hook with :func:`set_hook`; the CLI and
server install the audit log's hook (``phiward.audit``). Records carry opaque ids and counts only,
never raw PHI and never key material.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

Outcome = Literal["success", "failure"]


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    """One thing worth auditing.

    ``action`` is a dotted verb: ``key.create``, ``key.rotate``, ``key.rewrap``, ``key.shred``,
    ``key.replicate``, ``datakey.create``, ``file.encrypt``, ``file.decrypt``, ``scan.run``,
    ``cloud.check`` and ``input.refuse`` (a hostile or malformed input refused). The audit log's
    own events (``audit.read``, ``audit.export``, ``audit.retention``) are recorded by it
    directly.
    ``crud`` is the FHIR AuditEvent action code (C, R, U, D or E). ``resource_type`` and
    ``resource_id`` name what was touched with opaque ids (a key id, a file's fingerprint).
    """

    action: str
    crud: Literal["C", "R", "U", "D", "E"]
    outcome: Outcome = "success"
    resource_type: str | None = None
    resource_id: str | None = None
    subject_id: str | None = None
    reason: str | None = None
    details: Mapping[str, str | int | float | bool] = field(default_factory=dict)


Hook = Callable[[SecurityEvent], None]

_lock = threading.Lock()
_hook: Hook | None = None


def set_hook(hook: Hook | None) -> Hook | None:
    """Install ``hook`` (or remove it with ``None``); returns the previous one."""
    global _hook
    with _lock:
        previous, _hook = _hook, hook
    return previous


def current_hook() -> Hook | None:
    """The installed hook, so a new one can chain to it and put it back."""
    return _hook


def emit(event: SecurityEvent) -> None:
    """Send ``event`` to the installed hook. A failing hook raises: an unrecorded access must not
    pass silently."""
    hook = _hook
    if hook is not None:
        hook(event)
