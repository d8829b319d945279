"""The security-event channel: silent without a hook, loud when the hook fails."""

from __future__ import annotations

import pytest

from phiward.core import events
from phiward.core.events import SecurityEvent


def test_emit_without_hook_is_a_no_op() -> None:
    previous = events.set_hook(None)
    try:
        events.emit(SecurityEvent(action="key.create", crud="C"))
    finally:
        events.set_hook(previous)


def test_hook_receives_events_and_can_be_replaced() -> None:
    seen: list[SecurityEvent] = []
    previous = events.set_hook(seen.append)
    try:
        event = SecurityEvent(action="file.decrypt", crud="R", resource_type="file")
        events.emit(event)
        assert seen == [event]
        assert events.set_hook(None) == seen.append
        events.emit(event)
        assert seen == [event]
    finally:
        events.set_hook(previous)


def test_failing_hook_propagates() -> None:
    def broken(_: SecurityEvent) -> None:
        raise RuntimeError("audit store down")

    previous = events.set_hook(broken)
    try:
        with pytest.raises(RuntimeError, match="audit store down"):
            events.emit(SecurityEvent(action="key.shred", crud="D"))
    finally:
        events.set_hook(previous)
