from __future__ import annotations

import base64
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


# Small argon2id costs keep the tests fast; the defaults (64 MiB, t=3, p=4) are checked below.
FAST_ARGON2 = {"argon2_memory_kib": 256, "argon2_iterations": 1, "argon2_lanes": 2}

# A key store written by phiward before argon2id existed (scrypt N=2^14, passphrase
# "correct horse battery staple"), byte for byte; its key "legacy" has this material.
LEGACY_SCRYPT_STORE = {
    "format": "phiward-keystore-1",
    "kdf": {"name": "scrypt", "n": 16384, "r": 8, "p": 1, "salt": "Pc85oDeFMqMGl58hyat8kg=="},
    "nonce": "TyL7pqoy0Da1rnRW",
    "ciphertext": "fo+kuw91PDeihclGoQEVj5FQTywCV6xIK+epc/tM/YuIZKGJmAfkc47X5J+MnI5KzOthLQs1TlL09"
    "Ol4IcjiN1PbYHTG8cwnZ0k8FRQNwc3iHT913zo2ib+tPR07R8hMZJJBLgAXkbUUd0FlVgBABMhbOnWtBWZ/bbXjwd/qw"
    "m/9styqlwlIkEZb8qybBshTV6w081D9CPJW/lTEuG7nh0u2nwVzP/w/QFmVgi64wb4BM/2NFB0ch7a6NZAzqOX2GxVTt"
    "jOYvfCPz0UGcvibZgXa9SZ7P0E2omJGwc6T85Sb2k9ALEY7pA==",
}
LEGACY_MATERIAL = "79a2752052aa5510da277e5c6578fa8af8dd8d99312413375a3301ae53113740"


def test_new_passphrase_keystore_uses_argon2id(tmp_path: Path) -> None:
    ks = LocalKeyStore(tmp_path / "ks.json", passphrase="correct horse", **FAST_ARGON2)  # type: ignore[arg-type]
    ks.create_key("k")
    doc = json.loads((tmp_path / "ks.json").read_text())
    assert doc["kdf"]["name"] == "argon2id" and ks.kdf_name == "argon2id"
    assert (doc["kdf"]["memory_kib"], doc["kdf"]["iterations"], doc["kdf"]["lanes"]) == (256, 1, 2)
    again = LocalKeyStore(tmp_path / "ks.json", passphrase="correct horse", kdf="scrypt")
    assert again.material("k") == ks.material("k") and again.kdf_name == "argon2id"
    with pytest.raises(DecryptionError, match="wrong passphrase"):
        LocalKeyStore(tmp_path / "ks.json", passphrase="wrong")
    with pytest.raises(ConfigError, match="passphrase-protected"):
        LocalKeyStore(tmp_path / "ks.json", master_key=os.urandom(32))


def test_argon2id_defaults_follow_rfc_9106(tmp_path: Path) -> None:
    ks = LocalKeyStore(tmp_path / "ks.json", passphrase="pw")
    ks.create_key("k")
    kdf = json.loads((tmp_path / "ks.json").read_text())["kdf"]
    assert (kdf["memory_kib"], kdf["iterations"], kdf["lanes"]) == (65536, 3, 4)
    assert len(base64.b64decode(kdf["salt"])) == 16
    assert LocalKeyStore(tmp_path / "ks.json", passphrase="pw").exists("k")


def test_store_written_before_argon2id_still_opens(tmp_path: Path) -> None:
    path = tmp_path / "keystore.json"
    path.write_text(json.dumps(LEGACY_SCRYPT_STORE))
    path.chmod(0o600)
    ks = LocalKeyStore(path, passphrase="correct horse battery staple")
    assert ks.kdf_name == "scrypt" and ks.material("legacy").hex() == LEGACY_MATERIAL
    ks.create_key("added")  # writing keeps the store's own KDF and parameters
    doc = json.loads(path.read_text())
    assert doc["kdf"] == LEGACY_SCRYPT_STORE["kdf"]
    reopened = LocalKeyStore(path, passphrase="correct horse battery staple")
    assert reopened.exists("added") and reopened.material("legacy").hex() == LEGACY_MATERIAL
    with pytest.raises(DecryptionError, match="wrong passphrase"):
        LocalKeyStore(path, passphrase="correct horse battery stapler")


@pytest.mark.parametrize(
    "change",
    [
        {"memory_kib": 2**40},
        {"iterations": 0},
        {"lanes": 1000},
        {"memory_kib": "lots"},
        {"name": "argon2d"},
    ],
)
def test_bad_kdf_parameters_are_clear_errors(tmp_path: Path, change: dict[str, object]) -> None:
    ks = LocalKeyStore(tmp_path / "ks.json", passphrase="pw", **FAST_ARGON2)  # type: ignore[arg-type]
    ks.create_key("k")
    doc = json.loads((tmp_path / "ks.json").read_text())
    doc["kdf"].update(change)
    (tmp_path / "ks.json").write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match=r"KDF|out of range"):
        LocalKeyStore(tmp_path / "ks.json", passphrase="pw")


def test_unknown_kdf_choice_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="argon2id or scrypt"):
        LocalKeyStore(tmp_path / "ks.json", passphrase="pw", kdf="pbkdf2")


def test_passphrase_keystore_with_scrypt(tmp_path: Path) -> None:
    ks = LocalKeyStore(
        tmp_path / "ks.json", passphrase="correct horse", kdf="scrypt", scrypt_n=2**14
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
