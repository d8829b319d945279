"""Fixtures for the crypto tests: an unlocked local key store, a key table, an event recorder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from phiward.core.events import SecurityEvent, set_hook
from phiward.crypto import KeyTable, LocalKeyStore


@pytest.fixture
def master_key_env(monkeypatch: pytest.MonkeyPatch) -> str:
    value = os.urandom(32).hex()
    monkeypatch.setenv("PHIWARD_MASTER_KEY", value)
    return value


@pytest.fixture
def store(master_key_env: str) -> LocalKeyStore:
    ks = LocalKeyStore.open()
    ks.create_key("app")
    return ks


@pytest.fixture
def key_table(tmp_path: Path) -> KeyTable:
    return KeyTable(f"sqlite:///{tmp_path / 'keys.db'}")


@pytest.fixture
def events() -> Iterator[list[SecurityEvent]]:
    seen: list[SecurityEvent] = []
    previous = set_hook(seen.append)
    try:
        yield seen
    finally:
        set_hook(previous)
