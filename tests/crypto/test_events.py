"""Every key operation and file encrypt/decrypt reaches the audit hook, with ids only."""

from __future__ import annotations

import io

from phiward.core.events import SecurityEvent
from phiward.crypto import (
    FieldEncryptor,
    KeyTable,
    LocalKeyring,
    LocalKeyStore,
    decrypt_stream,
    encrypt_stream,
    rewrap_keys,
)


def test_all_key_operations_are_audited(
    master_key_env: str, key_table: KeyTable, events: list[SecurityEvent]
) -> None:
    store = LocalKeyStore.open()
    store.create_key("app")
    f = FieldEncryptor(store, key_table, "app")
    token = f.encrypt("123-45-6789", subject="subj-1", table="t", column="c", record_id="r")
    store.rotate("app")
    rewrap_keys(key_table, store, "app")
    ring = LocalKeyring(store, "app")
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(b"file body"), out, ring, context={"tenant": "t1"})
    decrypt_stream(io.BytesIO(out.getvalue()), io.BytesIO(), ring)
    f.shred_subject("subj-1")

    actions = [e.action for e in events]
    for action in (
        "key.create",
        "datakey.create",
        "key.rotate",
        "key.rewrap",
        "file.encrypt",
        "file.decrypt",
        "key.shred",
    ):
        assert action in actions, action
    master = store.material("app").hex()
    for e in events:
        text = repr(e)
        assert master not in text
        assert "123-45-6789" not in text and token not in text
        assert "t1" not in text  # context values stay out of the audit trail (keys only)
