from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from phiward.crypto import LocalKeyStore
from phiward.errors import ConfigError, DecryptionError, KeyNotFoundError, KeyProviderError


def test_keystore_file_is_0600_and_holds_no_plaintext_key(store: LocalKeyStore) -> None:
    mode = stat.S_IMODE(store.path.stat().st_mode)
    assert mode == 0o600
    doc = json.loads(store.path.read_text())
    material = store.material("app")
    assert material.hex() not in store.path.read_text()
    assert doc["kdf"]["name"] == "master-key-hkdf-sha256"


def test_reopen_with_same_master_key_sees_keys(store: LocalKeyStore) -> None:
    again = LocalKeyStore.open()
    assert [k.key_id for k in again.list_keys()] == ["app"]
    assert again.material("app") == store.material("app")


def test_wrong_master_key_refused(store: LocalKeyStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHIWARD_MASTER_KEY", os.urandom(32).hex())
    with pytest.raises(DecryptionError, match="cannot unlock key store"):
        LocalKeyStore.open()


def test_group_readable_keystore_refused(store: LocalKeyStore) -> None:
    store.path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        LocalKeyStore.open()


def test_passphrase_keystore_with_scrypt_still_opens(tmp_path: Path) -> None:
    ks = LocalKeyStore(
        tmp_path / "ks.json", passphrase="correct horse", scrypt_n=2**14, kdf="scrypt"
    )
    ks.create_key("k")
    doc = json.loads((tmp_path / "ks.json").read_text())
    assert doc["kdf"]["name"] == "scrypt" and doc["kdf"]["n"] == 2**14
    assert LocalKeyStore(tmp_path / "ks.json", passphrase="correct horse").exists("k")
    with pytest.raises(DecryptionError):
        LocalKeyStore(tmp_path / "ks.json", passphrase="wrong")
    with pytest.raises(ConfigError, match="passphrase-protected"):
        LocalKeyStore(tmp_path / "ks.json", master_key=os.urandom(32))


def test_tampered_keystore_refused(store: LocalKeyStore) -> None:
    doc = json.loads(store.path.read_text())
    doc["kdf"]["salt"] = "AAAAAAAAAAAAAAAAAAAAAA=="
    store.path.write_text(json.dumps(doc))
    with pytest.raises(DecryptionError):
        LocalKeyStore.open()


def test_bad_master_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHIWARD_MASTER_KEY", "abcd")
    with pytest.raises(ConfigError, match="32 bytes"):
        LocalKeyStore.open()


def test_wrap_unwrap_binds_key_and_context(store: LocalKeyStore) -> None:
    store.create_key("other")
    dk = store.generate_data_key("app", {"t": "1"})
    assert store.decrypt_data_key(dk.wrapped, "app", {"t": "1"}) == dk.plaintext
    with pytest.raises(DecryptionError):
        store.decrypt_data_key(dk.wrapped, "app", {"t": "2"})
    with pytest.raises(DecryptionError):
        store.decrypt_data_key(dk.wrapped, "other", {"t": "1"})
    tampered = bytearray(dk.wrapped)
    tampered[-1] ^= 1
    with pytest.raises(DecryptionError):
        store.decrypt_data_key(bytes(tampered), "app", {"t": "1"})


def test_rotation_keeps_old_versions(store: LocalKeyStore) -> None:
    old = store.generate_data_key("app", {})
    info = store.rotate("app")
    assert info.current_version == "v2" and info.versions == ("v1", "v2")
    new = store.generate_data_key("app", {})
    assert new.key_version == "v2" and old.key_version == "v1"
    assert store.decrypt_data_key(old.wrapped, "app", {}) == old.plaintext
    rewrapped = store.rewrap(old.wrapped, "app", {})
    assert rewrapped.key_version == "v2"
    assert store.decrypt_data_key(rewrapped.wrapped, "app", {}) == old.plaintext


def test_errors_for_unknown_and_duplicate_keys(store: LocalKeyStore) -> None:
    with pytest.raises(KeyNotFoundError):
        store.generate_data_key("nope", {})
    with pytest.raises(KeyProviderError, match="already exists"):
        store.create_key("app")
    with pytest.raises(ValueError, match="invalid key name"):
        store.create_key("bad name!")


def test_hmac_key_cannot_wrap(store: LocalKeyStore) -> None:
    store.create_key("idx", kind="hmac-sha256")
    with pytest.raises(KeyProviderError, match="HMAC"):
        store.generate_data_key("idx", {})


def test_passphrase_keystore_uses_argon2id_by_default(tmp_path: Path) -> None:
    path = tmp_path / "ks.json"
    ks = LocalKeyStore(
        path, passphrase="correct horse", argon2_memory_kib=1024, argon2_iterations=1
    )
    ks.create_key("k")
    doc = json.loads(path.read_text())
    assert doc["kdf"]["name"] == "argon2id"
    assert (doc["kdf"]["m"], doc["kdf"]["t"], doc["kdf"]["p"]) == (1024, 1, 4)
    again = LocalKeyStore(path, passphrase="correct horse")  # parameters come from the file
    assert again.kdf == "argon2id" and again.material("k") == ks.material("k")
    with pytest.raises(DecryptionError, match="wrong passphrase"):
        LocalKeyStore(path, passphrase="correct horsf")


def test_default_argon2id_parameters_follow_rfc_9106() -> None:
    from phiward.crypto import _local

    assert (_local.ARGON2_MEMORY_KIB, _local.ARGON2_ITERATIONS, _local.ARGON2_LANES) == (
        64 * 1024,
        3,
        4,
    )
    assert _local.DEFAULT_KDF == "argon2id"


@pytest.mark.parametrize(
    "kdf",
    [
        {"name": "argon2id", "m": 2**40, "t": 3, "p": 4},  # a terabyte of memory
        {"name": "argon2id", "m": 1024, "t": 10**6, "p": 4},
        {"name": "scrypt", "n": 2**40, "r": 8, "p": 1},
    ],
)
def test_tampered_kdf_cost_is_refused_before_deriving(tmp_path: Path, kdf: dict[str, int]) -> None:
    path = tmp_path / "ks.json"
    LocalKeyStore(path, passphrase="pw", argon2_memory_kib=1024, argon2_iterations=1).create_key(
        "k"
    )
    doc = json.loads(path.read_text())
    doc["kdf"] = {**kdf, "salt": doc["kdf"]["salt"]}
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match="out of range"):
        LocalKeyStore(path, passphrase="pw")


def test_unknown_kdf_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown key store KDF"):
        LocalKeyStore(tmp_path / "ks.json", passphrase="pw", kdf="md5")
