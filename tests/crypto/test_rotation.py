"""Master-key rotation and batch re-wrap: old data still decrypts, crashes resume."""

from __future__ import annotations

import pytest

from phiward.core.events import SecurityEvent
from phiward.crypto import (
    CacheLimits,
    FieldEncryptor,
    KeyTable,
    LocalKeyStore,
    rewrap_keys,
    stale_keys,
)

WHERE = {"table": "t", "column": "c", "record_id": "r"}


class Crash(Exception):
    pass


def test_rotate_rewrap_resume_after_crash(
    store: LocalKeyStore, key_table: KeyTable, events: list[SecurityEvent]
) -> None:
    f = FieldEncryptor(store, key_table, "app", limits=CacheLimits(max_messages=1))
    tokens = {f"v{i}": f.encrypt(f"v{i}", **WHERE) for i in range(25)}
    assert key_table.count() == 25
    store.rotate("app")
    # Old data still decrypts right after rotation (cold cache: unwraps with v1).
    cold = FieldEncryptor(store, key_table, "app")
    assert all(cold.decrypt_str(t, **WHERE) == v for v, t in tokens.items())
    assert stale_keys(key_table, store) == [("local", "app", "v1", 25)]

    calls: list[tuple[int, int]] = []

    def crash_after_two_batches(done: int, batch: int) -> None:
        calls.append((done, batch))
        if len(calls) == 2:
            raise Crash("power cut")

    with pytest.raises(Crash):
        rewrap_keys(key_table, store, "app", batch_size=5, progress=crash_after_two_batches)
    assert stale_keys(key_table, store) == [("local", "app", "v1", 15)]

    progress: list[int] = []
    report = rewrap_keys(
        key_table, store, "app", batch_size=5, progress=lambda done, batch: progress.append(done)
    )
    assert report.rewrapped == 15 and report.batches == 3 and report.remaining == 0
    assert progress == [5, 10, 15]
    assert stale_keys(key_table, store) == []
    # Tokens (the data) never changed and still decrypt with a fresh process/cache.
    fresh = FieldEncryptor(store, key_table, "app")
    assert all(fresh.decrypt_str(t, **WHERE) == v for v, t in tokens.items())
    # A second run is a no-op.
    assert rewrap_keys(key_table, store, "app").rewrapped == 0
    assert [e.action for e in events].count("key.rewrap") >= 4
    assert any(e.action == "key.rotate" for e in events)


def test_rewrap_does_not_resurrect_shredded_keys(store: LocalKeyStore, key_table: KeyTable) -> None:
    f = FieldEncryptor(store, key_table, "app")
    t = f.encrypt("x", subject="s", **WHERE)
    f.shred_subject("s")
    store.rotate("app")
    assert rewrap_keys(key_table, store, "app").rewrapped == 0
    row = key_table.get(__import__("phiward.crypto", fromlist=["token_key_id"]).token_key_id(t))
    assert row is not None and row.wrapped is None


def test_rewrap_to_another_master_key(store: LocalKeyStore, key_table: KeyTable) -> None:
    f = FieldEncryptor(store, key_table, "app")
    t = f.encrypt("moved", **WHERE)
    store.create_key("app2")
    report = rewrap_keys(key_table, store, "app", new_master_key_id="app2")
    assert report.rewrapped == 1
    assert key_table.count_by_master() == [("local", "app2", "v1", 1)]
    assert FieldEncryptor(store, key_table, "app2").decrypt_str(t, **WHERE) == "moved"


def test_damaged_row_is_reported_and_does_not_block_the_rest(
    store: LocalKeyStore, key_table: KeyTable
) -> None:
    import sqlalchemy as sa

    from phiward.crypto._keytable import data_keys

    f = FieldEncryptor(store, key_table, "app", limits=CacheLimits(max_messages=1))
    tokens = [f.encrypt(f"v{i}", **WHERE) for i in range(6)]
    damaged = sorted(r.id for r in (key_table.get(t) for t in map(_kid, tokens)) if r)[0]
    with key_table.engine.begin() as conn:
        row = conn.execute(sa.select(data_keys.c.wrapped).where(data_keys.c.id == damaged)).one()
        bad = bytearray(row[0])
        bad[-1] ^= 1
        conn.execute(data_keys.update().where(data_keys.c.id == damaged).values(wrapped=bytes(bad)))
    store.rotate("app")
    report = rewrap_keys(key_table, store, "app", batch_size=2)
    assert report.failed == [damaged]
    assert report.rewrapped == 5
    assert report.remaining == 1


def _kid(token: str) -> str:
    from phiward.crypto import token_key_id

    return token_key_id(token)


@pytest.mark.postgres
def test_rewrap_resumes_after_crash_on_postgresql(store: LocalKeyStore, postgres_url: str) -> None:
    table = KeyTable(postgres_url)
    try:
        f = FieldEncryptor(store, table, "app", limits=CacheLimits(max_messages=1))
        tokens = {f"v{i}": f.encrypt(f"v{i}", **WHERE) for i in range(12)}
        store.rotate("app")

        def crash(done: int, batch: int) -> None:
            raise Crash("killed")

        with pytest.raises(Crash):
            rewrap_keys(table, store, "app", batch_size=4, progress=crash)
        assert stale_keys(table, store) == [("local", "app", "v1", 8)]
        report = rewrap_keys(table, store, "app", batch_size=4)
        assert report.rewrapped == 8 and report.remaining == 0
        fresh = FieldEncryptor(store, table, "app")
        assert all(fresh.decrypt_str(t, **WHERE) == v for v, t in tokens.items())
    finally:
        table.engine.dispose()
