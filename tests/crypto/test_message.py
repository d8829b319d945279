"""The message format: round trips, every-byte tamper detection, truncation, clear errors."""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phiward.crypto import RawAesKeyring, Suite, decrypt, decrypt_stream, encrypt, encrypt_stream
from phiward.errors import DecryptionError, InputError

KEY = bytes(range(32))
RING = RawAesKeyring("test-ns", "key-1", KEY)

contexts = st.dictionaries(
    st.text(min_size=1, max_size=8).filter(lambda k: not k.startswith("aws-crypto-")),
    st.text(max_size=8),
    max_size=3,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.binary(max_size=3000),
    frame=st.integers(min_value=1, max_value=1100),
    ctx=contexts,
    suite=st.sampled_from(list(Suite)),
)
def test_round_trip(data: bytes, frame: int, ctx: dict[str, str], suite: Suite) -> None:
    ct = encrypt(data, RING, context=ctx, suite=suite, frame_length=frame)
    pt, info = decrypt(ct, RING, expected_context=ctx)
    assert pt == data
    assert info.plaintext_length == len(data)
    assert info.signed is suite.signed
    assert {k: v for k, v in info.context.items() if not k.startswith("aws-crypto-")} == ctx


@pytest.mark.parametrize("suite", list(Suite))
def test_every_tampered_byte_fails(suite: Suite) -> None:
    ct = encrypt(b"x" * 300, RING, context={"tenant": "t1"}, suite=suite, frame_length=128)
    for i in range(len(ct)):
        bad = bytearray(ct)
        bad[i] ^= 0x01
        with pytest.raises(DecryptionError):
            decrypt(bytes(bad), RING)


@pytest.mark.parametrize("suite", list(Suite))
def test_every_truncation_fails(suite: Suite) -> None:
    ct = encrypt(b"y" * 200, RING, suite=suite, frame_length=64)
    for n in range(len(ct)):
        with pytest.raises(DecryptionError):
            decrypt(ct[:n], RING)
    with pytest.raises(DecryptionError, match="after the end"):
        decrypt(ct + b"\x00", RING)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_parser_never_crashes_on_garbage(blob: bytes) -> None:
    with pytest.raises(DecryptionError):
        decrypt(blob, RING)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0), st.binary(min_size=1, max_size=4))
def test_parser_rejects_spliced_bytes(pos: int, junk: bytes) -> None:
    ct = encrypt(b"z" * 50, RING, frame_length=16)
    i = pos % len(ct)
    with pytest.raises(DecryptionError):
        decrypt(ct[:i] + junk + ct[i:], RING)


def test_truncated_reason() -> None:
    ct = encrypt(b"q" * 100, RING, frame_length=32)
    with pytest.raises(DecryptionError) as exc:
        decrypt(ct[:-5], RING)
    assert exc.value.reason == "truncated"


def test_wrong_key_is_distinct_from_wrong_context() -> None:
    ct = encrypt(b"secret", RING, context={"purpose": "labs"})
    other = RawAesKeyring("test-ns", "key-1", os.urandom(32))
    with pytest.raises(DecryptionError) as wrong_material:
        decrypt(ct, other)
    assert wrong_material.value.reason == "wrong-key-or-context"
    with pytest.raises(DecryptionError) as wrong_name:
        decrypt(ct, RawAesKeyring("test-ns", "key-2", KEY))
    assert wrong_name.value.reason == "wrong-key"
    with pytest.raises(DecryptionError) as wrong_ctx:
        decrypt(ct, RING, expected_context={"purpose": "billing"})
    assert wrong_ctx.value.reason == "wrong-context"


def test_reserved_context_key_refused() -> None:
    with pytest.raises(InputError):
        encrypt(b"", RING, context={"aws-crypto-public-key": "x"})


def test_streaming_uses_constant_memory_reads() -> None:
    """A 5 MiB stream is consumed frame by frame: the reader never asks for more than a frame."""

    class Spy(io.BytesIO):
        biggest = 0

        def read(self, n: int | None = -1) -> bytes:
            assert n is not None and n >= 0
            Spy.biggest = max(Spy.biggest, n)
            return super().read(n)

    data = os.urandom(5 * 1024 * 1024)
    out = io.BytesIO()
    encrypt_stream(Spy(data), out, RING, frame_length=4096)
    assert Spy.biggest <= 4096
    Spy.biggest = 0
    back = io.BytesIO()
    decrypt_stream(Spy(out.getvalue()), back, RING)
    assert back.getvalue() == data
    assert Spy.biggest <= 4096 + 16


def test_header_layout_matches_spec() -> None:
    ct = encrypt(b"hi", RING, context={"a": "b"}, frame_length=4096)
    assert ct[0] == 0x02
    assert ct[1:3] == b"\x04\x78"
    # AAD length 2 + context: count(2) + keylen(2) 'a' + vallen(2) 'b' = 8 bytes
    assert ct[35:37] == b"\x00\x08"
    assert ct[37:45] == b"\x00\x01\x00\x01a\x00\x01b"
    assert ct[45:47] == b"\x00\x01"  # one EDK
    assert ct[47:49] == b"\x00\x07" and ct[49:56] == b"test-ns"


def test_cache_never_shares_data_keys_across_keyrings_or_contexts() -> None:
    from phiward.crypto import DataKeyCache

    cache: DataKeyCache[object] = DataKeyCache()
    other = RawAesKeyring("test-ns", "key-2", bytes(32))
    a1 = encrypt(b"1", RING, cache=cache, context={"t": "a"})
    a2 = encrypt(b"2", RING, cache=cache, context={"t": "a"})
    b1 = encrypt(b"3", RING, cache=cache, context={"t": "b"})
    c1 = encrypt(b"4", other, cache=cache, context={"t": "a"})
    t1 = encrypt(b"5", RING, cache=cache, context={"t": "a"}, tenant="tenant-2")

    def edk(blob: bytes) -> bytes:
        return bytes(decrypt(blob, RING if blob is not c1 else other)[1].edks[0].ciphertext)

    assert edk(a1) == edk(a2)  # reused within the limits
    assert len({edk(a1), edk(b1), edk(c1), edk(t1)}) == 4
    assert cache.stats.hits == 1 and cache.stats.misses == 4
