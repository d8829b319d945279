"""Connect the domain's security events (``phiward.core.events``) to the audit log.

``install(settings)`` opens nothing until the first event arrives, so commands that audit nothing
pay nothing; at exit the log signs a checkpoint covering what this process recorded and exports
it. A failure to record raises in the emitting code: an access that cannot be audited must not
pass silently.
"""

from __future__ import annotations

import getpass
import threading
from typing import TYPE_CHECKING

from phiward.core import events
from phiward.core.events import SecurityEvent
from phiward.core.settings import Settings

if TYPE_CHECKING:
    from phiward.audit.event import AuditEvent
    from phiward.audit.log import AuditLog

_FALSE = {"0", "false", "no", "off"}


def to_audit_event(event: SecurityEvent, *, user_id: str | None = None) -> AuditEvent:
    """The audit form of a domain event (opaque ids and counts only, as the domain sends)."""
    from phiward.audit.event import AuditEvent  # noqa: PLC0415 - keep CLI start-up light

    details = {str(k): v for k, v in event.details.items()}
    if event.reason:
        details["reason"] = event.reason
    return AuditEvent(
        type=event.action,
        action=event.crud,
        outcome="success" if event.outcome == "success" else "serious-failure",
        user_id=user_id,
        application="phiward",
        patient_id=event.subject_id,
        resource_type=event.resource_type,
        resource_id=event.resource_id,
        details=details,
    )


class _LazyHook:
    def __init__(self, settings: Settings, previous: events.Hook | None = None) -> None:
        self.settings = settings
        self.previous = previous
        self.log: AuditLog | None = None
        self.lock = threading.Lock()
        try:
            self.user: str | None = getpass.getuser()
        except (KeyError, OSError):
            self.user = None

    def __call__(self, event: SecurityEvent) -> None:
        if self.log is None:
            with self.lock:
                if self.log is None:
                    from phiward.audit.log import AuditLog  # noqa: PLC0415 - on first event

                    self.log = AuditLog.open(self.settings)
        self.log.record(to_audit_event(event, user_id=self.user))
        if self.previous is not None:
            self.previous(event)

    def close(self) -> None:
        """Sign and export a checkpoint over what was recorded, close the log and put back the
        hook that was installed before."""
        if events.current_hook() is self:
            events.set_hook(self.previous)
        log, self.log = self.log, None
        if log is not None:
            try:
                log.checkpoint()
            finally:
                log.close()


def enabled(settings: Settings) -> bool:
    return str(settings.section("audit").get("enabled", "true")).lower() not in _FALSE


def install(settings: Settings) -> _LazyHook | None:
    """Install the audit hook unless ``[audit] enabled = false``; returns it (call ``close``
    when the work is done) or ``None`` when auditing is off."""
    if not enabled(settings):
        return None
    hook = _LazyHook(settings, events.current_hook())
    events.set_hook(hook)
    return hook
