"""AWS KMS provider on a real moto server: data keys, aliases, ARNs, re-encrypt, errors, cache."""

from __future__ import annotations

import pytest

from phiward.core.events import SecurityEvent
from phiward.crypto import (
    CacheLimits,
    FieldEncryptor,
    KeyTable,
    KmsKeyProvider,
    KmsKeyring,
    decrypt,
    encrypt,
    rewrap_keys,
)
from phiward.crypto._kms import is_kms_key_ref, mrk_match, region_of
from phiward.errors import DecryptionError, KeyNotFoundError

pytestmark = pytest.mark.moto
WHERE = {"table": "t", "column": "c", "record_id": "r"}


def test_key_refs_and_mrk_matching() -> None:
    arn = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd"
    replica = "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd"
    assert is_kms_key_ref(arn) and is_kms_key_ref("alias/app")
    assert is_kms_key_ref("1234abcd-12ab-34cd-56ef-1234567890ab")
    assert not is_kms_key_ref("app")
    assert region_of(replica) == "eu-west-1" and region_of("alias/x") is None
    assert mrk_match(arn, replica)
    assert not mrk_match(arn, replica.replace("111122223333", "444455556666"))
    assert not mrk_match("arn:aws:kms:us-east-1:1:key/abc", "arn:aws:kms:eu-west-1:1:key/abc")


def test_generate_decrypt_alias_arn_and_context(
    moto_reset: str, events: list[SecurityEvent]
) -> None:
    kms = KmsKeyProvider()
    info = kms.create_key("alias/phiward-app")
    dk = kms.generate_data_key("alias/phiward-app", {"t": "1"})
    assert dk.key_id == info.key_id and len(dk.plaintext) == 32
    assert kms.decrypt_data_key(dk.wrapped, info.key_id, {"t": "1"}) == dk.plaintext
    with pytest.raises(DecryptionError):
        kms.decrypt_data_key(dk.wrapped, info.key_id, {"t": "2"})
    assert kms.canonical_id("alias/phiward-app") == info.key_id
    with pytest.raises(KeyNotFoundError):
        kms.generate_data_key("alias/missing", {})
    assert any(e.action == "datakey.create" for e in events)
    assert all("Plaintext" not in str(e) for e in events)


def test_reencrypt_to_new_key(moto_reset: str, tmp_path: object) -> None:
    kms = KmsKeyProvider()
    old = kms.create_key("alias/old").key_id
    new = kms.create_key("alias/new").key_id
    table = KeyTable(f"sqlite:///{tmp_path}/k.db")
    f = FieldEncryptor(kms, table, old)
    tok = f.encrypt("lab result", **WHERE)
    report = rewrap_keys(table, kms, old, new_master_key_id=new)
    assert report.rewrapped == 1
    assert table.count_by_master()[0][1] == new
    assert FieldEncryptor(kms, table, new).decrypt_str(tok, **WHERE) == "lab result"


def test_cache_saves_kms_calls(moto_reset: str, tmp_path: object) -> None:
    kms = KmsKeyProvider()
    arn = kms.create_key().key_id
    table = KeyTable(f"sqlite:///{tmp_path}/k.db")
    f = FieldEncryptor(kms, table, arn, limits=CacheLimits(max_messages=1000))
    kms.calls = 0
    for i in range(3000):
        f.encrypt(str(i), **WHERE)
    assert kms.calls == 3
    assert f.calls_saved == 2997


def test_files_with_kms_cache_and_wrong_key(moto_reset: str) -> None:
    from phiward.crypto import DataKeyCache

    kms = KmsKeyProvider()
    a, b = kms.create_key().key_id, kms.create_key().key_id
    cache: DataKeyCache[object] = DataKeyCache(CacheLimits(max_messages=10))
    kms.calls = 0
    blobs = [encrypt(b"x" * 10, KmsKeyring(kms, a), cache=cache) for _ in range(20)]
    assert kms.calls == 2
    assert decrypt(blobs[0], KmsKeyring(kms, a))[0] == b"x" * 10
    with pytest.raises(DecryptionError) as exc:
        decrypt(blobs[0], KmsKeyring(kms, b))
    assert exc.value.reason == "wrong-key"
