"""Field tokens, the key table on SQLite and PostgreSQL, crypto-shredding, blind indexes."""

from __future__ import annotations

import base64
import os
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phiward.core.events import SecurityEvent
from phiward.crypto import (
    BlindIndex,
    CacheLimits,
    FieldEncryptor,
    KeyTable,
    LocalKeyStore,
    token_key_id,
)
from phiward.crypto._util import b64url_decode, b64url_encode
from phiward.errors import DecryptionError, KeyNotFoundError

WHERE = {"table": "patients", "column": "ssn", "record_id": "p-17"}


def _fields(store: LocalKeyStore, table: KeyTable, **kw: object) -> FieldEncryptor:
    return FieldEncryptor(store, table, "app", **kw)  # type: ignore[arg-type]


def test_round_trip_text_and_binary(store: LocalKeyStore, key_table: KeyTable) -> None:
    f = _fields(store, key_table)
    token = f.encrypt("123-45-6789", **WHERE)
    assert token.startswith("pw2A") and "123" not in token
    # text form 2 is one base64 string: magic a7 0d 80, key id, nonce, ciphertext, tag
    body = base64.b64decode(token, validate=True)
    assert body[:3] == b"\xa7\x0d\x80" and len(body) == 3 + 16 + 12 + 11 + 16
    assert body[3:19].hex() == token_key_id(token)
    assert f.decrypt_str(token, **WHERE) == "123-45-6789"
    blob = f.encrypt_bytes(b"\x00\xff", **WHERE)
    assert blob[0] == 1 and len(blob) == 1 + 16 + 12 + 2 + 16
    assert f.decrypt_bytes(blob, **WHERE) == b"\x00\xff"


def test_same_value_encrypts_differently(store: LocalKeyStore, key_table: KeyTable) -> None:
    f = _fields(store, key_table)
    assert f.encrypt("same", **WHERE) != f.encrypt("same", **WHERE)


@pytest.mark.parametrize(
    "moved",
    [
        {"table": "visits"},
        {"column": "name"},
        {"record_id": "p-18"},
    ],
)
def test_aad_binds_table_column_record(
    store: LocalKeyStore, key_table: KeyTable, moved: dict[str, str]
) -> None:
    f = _fields(store, key_table)
    token = f.encrypt("123-45-6789", **WHERE)
    with pytest.raises(DecryptionError, match="does not authenticate"):
        f.decrypt(token, **{**WHERE, **moved})


def test_tenants_never_share_keys(store: LocalKeyStore, key_table: KeyTable) -> None:
    a = _fields(store, key_table, tenant="a")
    b = _fields(store, key_table, tenant="b", cache=a.cache)
    token = a.encrypt("v", **WHERE)
    with pytest.raises(KeyNotFoundError, match="tenant"):
        b.decrypt(token, **WHERE)
    assert token_key_id(b.encrypt("v", **WHERE)) != token_key_id(token)


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=200), st.integers(min_value=0), st.integers(min_value=1, max_value=255))
def test_any_tampered_token_byte_fails(value: bytes, pos: int, flip: int) -> None:
    import os
    import tempfile

    from phiward.crypto import LocalKeyStore as LKS

    with tempfile.TemporaryDirectory() as tmp:
        ks = LKS(__import__("pathlib").Path(tmp) / "ks.json", master_key=os.urandom(32))
        ks.create_key("app")
        f = FieldEncryptor(ks, KeyTable(f"sqlite:///{tmp}/k.db"), "app")
        blob = bytearray(f.encrypt_bytes(value, **WHERE))
        blob[pos % len(blob)] ^= flip
        with pytest.raises((DecryptionError, KeyNotFoundError)):
            f.decrypt_bytes(bytes(blob), **WHERE)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=100))
def test_base64url_round_trip(data: bytes) -> None:
    assert b64url_decode(b64url_encode(data)) == data


def _as_v1(token: str) -> str:
    """The same token in text form 1 (``pw1.`` + base64 of the body without the magic)."""
    return "pw1." + base64.b64encode(base64.b64decode(token)[3:]).decode()


def test_text_form_1_tokens_still_decrypt(store: LocalKeyStore, key_table: KeyTable) -> None:
    f = _fields(store, key_table)
    token = f.encrypt("123-45-6789", **WHERE)
    old = _as_v1(token)
    assert old.startswith("pw1.")
    assert token_key_id(old) == token_key_id(token)
    assert f.decrypt_str(old, **WHERE) == "123-45-6789"
    assert _fields(store, key_table).decrypt_str(old, **WHERE) == "123-45-6789"  # cold cache
    with pytest.raises(DecryptionError, match="does not authenticate"):
        f.decrypt(old, **{**WHERE, "record_id": "p-18"})
    tampered = old[:-6] + ("A" if old[-6] != "A" else "B") + old[-5:]
    with pytest.raises(DecryptionError):
        f.decrypt(tampered, **WHERE)


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=200), st.integers(min_value=0), st.integers(min_value=1, max_value=63))
def test_any_tampered_text_token_character_fails(value: bytes, pos: int, shift: int) -> None:
    import tempfile
    from pathlib import Path

    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    with tempfile.TemporaryDirectory() as tmp:
        ks = LocalKeyStore(Path(tmp) / "ks.json", master_key=os.urandom(32))
        ks.create_key("app")
        f = FieldEncryptor(ks, KeyTable(f"sqlite:///{tmp}/k.db"), "app")
        token = f.encrypt(value, **WHERE)
        for tok in (token, _as_v1(token)):
            chars = list(tok)
            i = pos % len(chars)
            if chars[i] not in alphabet:  # padding or the '.': any change is malformed
                chars[i] = "A" if chars[i] != "A" else "B"
            else:
                chars[i] = alphabet[(alphabet.index(chars[i]) + shift) % 64]
            bad = "".join(chars)
            try:
                got = f.decrypt(bad, **WHERE)
            except (DecryptionError, KeyNotFoundError):
                continue
            # Only a change in the unused low bits of the last data character before the
            # padding decodes to the same bytes; anything that decrypts must be the original.
            assert got == value


@pytest.mark.parametrize(
    "bad",
    ["", "pw1.", "pw1.!!!!", "pw2.AAAA", "pw1." + "A" * 10, "pw1.A", "pw2A", "pw2A!!!!",
     "pw2A" + "A" * 20, "pw2" + "A" * 80, "pw2A" + "A" * 59],
)  # fmt: skip
def test_malformed_tokens_are_clear_errors(
    store: LocalKeyStore, key_table: KeyTable, bad: str
) -> None:
    with pytest.raises(DecryptionError):
        _fields(store, key_table).decrypt(bad, **WHERE)


def test_cache_limits_rotate_data_keys(store: LocalKeyStore, key_table: KeyTable) -> None:
    f = _fields(store, key_table, limits=CacheLimits(max_messages=100))
    tokens = [f.encrypt(str(i), **WHERE) for i in range(1000)]
    assert key_table.count() == 10
    assert len({token_key_id(t) for t in tokens}) == 10
    # a fresh encryptor (cold cache) still decrypts everything through the key table
    g = _fields(store, key_table)
    assert [g.decrypt_str(t, **WHERE) for t in tokens[::97]] == [str(i) for i in range(0, 1000, 97)]


def test_byte_limit(store: LocalKeyStore, key_table: KeyTable) -> None:
    f = _fields(store, key_table, limits=CacheLimits(max_bytes=1000))
    for _ in range(10):
        f.encrypt(b"x" * 400, **WHERE)
    assert key_table.count() == 5


def test_crypto_shredding_makes_one_subject_unrecoverable(
    store: LocalKeyStore, key_table: KeyTable, events: list[SecurityEvent]
) -> None:
    f = _fields(store, key_table)
    alice = f.encrypt("alice's diagnosis", subject="subj-alice", **WHERE)
    bob = f.encrypt("bob's diagnosis", subject="subj-bob", **WHERE)
    assert token_key_id(alice) != token_key_id(bob)
    assert f.shred_subject("subj-alice") == 1
    # Neither this encryptor (whose cache held the key) nor a fresh one can decrypt it...
    for enc in (f, _fields(store, key_table)):
        with pytest.raises(KeyNotFoundError, match="shredded"):
            enc.decrypt(alice, **WHERE)
        assert enc.decrypt_str(bob, **WHERE) == "bob's diagnosis"
    # ...and the wrapped key is really gone from the table, so no master key can bring it back.
    row = key_table.get(token_key_id(alice))
    assert row is not None and row.wrapped is None and row.shredded
    # New data for the subject gets a new key.
    again = f.encrypt("new", subject="subj-alice", **WHERE)
    assert token_key_id(again) != token_key_id(alice)
    assert any(e.action == "key.shred" and e.subject_id == "subj-alice" for e in events)


def test_thread_safe_encryption(store: LocalKeyStore, key_table: KeyTable) -> None:
    f = _fields(store, key_table, limits=CacheLimits(max_messages=50))
    out: list[tuple[str, str]] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        for i in range(100):
            v = f"{n}-{i}"
            t = f.encrypt(v, **WHERE)
            with lock:
                out.append((v, t))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == 400
    assert all(f.decrypt_str(t, **WHERE) == v for v, t in out)


@pytest.mark.postgres
def test_key_table_on_postgresql(store: LocalKeyStore, postgres_url: str) -> None:
    table = KeyTable(postgres_url)
    f = FieldEncryptor(store, table, "app", limits=CacheLimits(max_messages=3))
    tokens = [f.encrypt(f"v{i}", subject="s1" if i % 2 else None, **WHERE) for i in range(10)]
    g = FieldEncryptor(store, KeyTable(postgres_url), "app")
    assert [g.decrypt_str(t, **WHERE) for t in tokens] == [f"v{i}" for i in range(10)]
    assert g.shred_subject("s1") >= 1
    with pytest.raises(KeyNotFoundError):
        g.decrypt(tokens[1], **WHERE)
    assert g.decrypt_str(tokens[0], **WHERE) == "v0"
    table.engine.dispose()
    g.key_table.engine.dispose()


def test_blind_index_normalises_and_truncates() -> None:
    key = bytes(32)
    idx = BlindIndex(key, "patients.ssn", bits=32, normalise="ssn")
    assert idx.compute("123-45-6789") == idx.compute("123456789") == idx.compute(" 123 45 6789")
    assert len(idx.compute("123-45-6789")) == 8
    assert idx.compute("123-45-6789") != idx.compute("123-45-6780")
    assert idx.matches("123456789", idx.compute("123-45-6789"))
    other_column = BlindIndex(key, "visits.ssn", bits=32, normalise="ssn")
    assert other_column.compute("123456789") != idx.compute("123456789")
    other_key = BlindIndex(b"\x01" * 32, "patients.ssn", bits=32, normalise="ssn")
    assert other_key.compute("123456789") != idx.compute("123456789")
    assert len(BlindIndex(key, "x", bits=16).compute("a")) == 4
    email = BlindIndex(key, "p.email", normalise="email")
    assert email.compute(" Jane@Example.org ") == email.compute("jane@example.org")
    with pytest.raises(ValueError, match="multiple of 8"):
        BlindIndex(key, "x", bits=12)
    with pytest.raises(ValueError, match="unknown normaliser"):
        BlindIndex(key, "x", normalise="nope")


def test_forked_child_never_reuses_parent_encryption_key(
    store: LocalKeyStore, key_table: KeyTable
) -> None:
    """Nonces are per-key counters, so a child must not keep encrypting with the parent's key."""
    f = _fields(store, key_table)
    parent_id = token_key_id(f.encrypt("before fork", **WHERE))
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.close(read)
            os.write(write, token_key_id(f.encrypt("in child", **WHERE)).encode())
        finally:
            os._exit(0)
    os.close(write)
    child_id = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert child_id and child_id != parent_id
    assert token_key_id(f.encrypt("after fork", **WHERE)) == parent_id


def test_shredding_stops_other_threads_encrypting_with_the_key(
    store: LocalKeyStore, key_table: KeyTable
) -> None:
    f = _fields(store, key_table)
    got: list[str] = []
    t = threading.Thread(target=lambda: got.append(f.encrypt("a", subject="s", **WHERE)))
    t.start()
    t.join()
    f.shred_subject("s")
    t2 = threading.Thread(target=lambda: got.append(f.encrypt("b", subject="s", **WHERE)))
    t2.start()
    t2.join()
    assert token_key_id(got[0]) != token_key_id(got[1])
    assert f.decrypt_str(got[1], **WHERE) == "b"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_text_token_parser_only_raises_phiward_errors(text: str) -> None:
    import os
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        ks = LocalKeyStore(Path(tmp) / "ks.json", master_key=os.urandom(32))
        ks.create_key("app")
        f = FieldEncryptor(ks, KeyTable(f"sqlite:///{tmp}/k.db"), "app")
        for candidate in (text, "pw1." + text, "pw2A" + text):
            with pytest.raises((DecryptionError, KeyNotFoundError)):
                f.decrypt(candidate, **WHERE)


def test_shredding_through_another_encryptor_retires_the_key(
    store: LocalKeyStore, key_table: KeyTable
) -> None:
    """Encryptors sharing a cache: shredding through one stops the other encrypting with it."""
    a = _fields(store, key_table)
    b = _fields(store, key_table, cache=a.cache)
    first = a.encrypt("a", subject="s", **WHERE)
    assert b.shred_subject("s") == 1
    second = a.encrypt("b", subject="s", **WHERE)
    assert token_key_id(second) != token_key_id(first)
    assert a.decrypt_str(second, **WHERE) == "b"


def test_many_columns_beyond_the_aad_head_cache(store: LocalKeyStore, key_table: KeyTable) -> None:
    """The per-key cache of AAD heads is bounded; columns beyond it still bind correctly."""
    f = _fields(store, key_table)
    tokens = [f.encrypt(f"v{i}", table="t", column=f"c{i}", record_id="r") for i in range(300)]
    g = _fields(store, key_table)  # cold: its heads are built while decrypting
    for i in (0, 255, 256, 299):
        assert f.decrypt_str(tokens[i], table="t", column=f"c{i}", record_id="r") == f"v{i}"
        assert g.decrypt_str(tokens[i], table="t", column=f"c{i}", record_id="r") == f"v{i}"
        with pytest.raises(DecryptionError):
            f.decrypt(tokens[i], table="t", column=f"c{i + 1}", record_id="r")
