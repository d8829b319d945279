"""The local key store: master keys in one file, encrypted under a key-encryption key (KEK).

The KEK is argon2id(passphrase) (new stores; scrypt stores stay readable and scrypt can still be
chosen) or, for services, a 256-bit key from ``PHIWARD_MASTER_KEY`` (hex or base64) stretched with
HKDF. The KDF name and parameters are stored in the file. The file is AES-256-GCM with its header
(format and KDF parameters) bound as AAD, written atomically with mode 0600; opening refuses
group/world-readable files. Private module.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import stat
import struct
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from phiward.core.events import SecurityEvent, emit
from phiward.crypto._providers import DataKey, KeyProvider, MasterKeyInfo, WrappedKey
from phiward.crypto._util import atomic_output, b64decode, b64encode, lp, serialize_context
from phiward.errors import ConfigError, DecryptionError, KeyNotFoundError, KeyProviderError

KEYSTORE_FORMAT = "phiward-keystore-1"
KEYSTORE_FILE = "keystore.json"
MASTER_KEY_ENV = "PHIWARD_MASTER_KEY"
PASSPHRASE_ENV = "PHIWARD_KEYSTORE_PASSPHRASE"  # noqa: S105 - a variable name
DEFAULT_SCRYPT_N = 2**17  # ~128 MiB, ~0.3 s: OWASP's scrypt floor is N=2^17, r=8, p=1
KDFS = ("argon2id", "scrypt")  # for passphrase-protected stores; the first is the default
# RFC 9106 section 4, "second recommended option" (for memory-constrained settings): argon2id,
# t=3 passes, p=4 lanes, m=64 MiB, 128-bit salt, 256-bit tag. Above OWASP's argon2id minimums
# (m=19-46 MiB with t=1-2, p=1); ~0.17 s on the project's 2-core VM.
DEFAULT_ARGON2_MEMORY_KIB = 64 * 1024
DEFAULT_ARGON2_ITERATIONS = 3
DEFAULT_ARGON2_LANES = 4
# Refuse absurd parameters read from a (possibly tampered) file before the AAD can be checked.
_MAX_ARGON2_MEMORY_KIB = 4 * 1024 * 1024
_MAX_ARGON2_ITERATIONS = 64
_MAX_ARGON2_LANES = 64
_MAX_SCRYPT_N = 2**22
_WRAP_FORMAT = 0x01
_WRAP_LABEL = b"phiward-local-wrap-v1\x00"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,127}$")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def parse_master_key(text: str) -> bytes:
    """``PHIWARD_MASTER_KEY``: 32 bytes as 64 hex digits or base64."""
    text = text.strip()
    try:
        key = bytes.fromhex(text) if len(text) == 64 else b64decode(text)
    except ValueError:
        raise ConfigError(f"{MASTER_KEY_ENV} must be 32 bytes as hex or base64") from None
    if len(key) != 32:
        raise ConfigError(f"{MASTER_KEY_ENV} must be 32 bytes as hex or base64")
    return key


def check_name(name: str) -> str:
    if not _NAME_RE.match(name):
        raise ValueError(
            f"invalid key name {name!r}: use 1-128 letters, digits, '_', '-', '.', '/'"
        )
    return name


class LocalKeyStore(KeyProvider):
    """Master keys kept in ``$PHIWARD_HOME/keystore.json``, each with numbered versions.

    Data keys are wrapped with AES-256-GCM under the current version; the wrapped form names the
    version, so data wrapped under older versions still unwraps after a rotation.
    """

    name = "local"

    def __init__(
        self,
        path: Path,
        *,
        passphrase: str | None = None,
        master_key: bytes | None = None,
        kdf: str = "argon2id",
        scrypt_n: int = DEFAULT_SCRYPT_N,
        argon2_memory_kib: int = DEFAULT_ARGON2_MEMORY_KIB,
        argon2_iterations: int = DEFAULT_ARGON2_ITERATIONS,
        argon2_lanes: int = DEFAULT_ARGON2_LANES,
    ) -> None:
        """``kdf`` (``argon2id`` or ``scrypt``) and its cost parameters apply when a
        passphrase-protected store is created; an existing store keeps the KDF in its file."""
        if kdf not in KDFS:
            raise ConfigError(f"unknown key store KDF {kdf!r}: use {' or '.join(KDFS)}")
        if (passphrase is None) == (master_key is None):
            raise ConfigError(
                f"unlock the key store with a passphrase ({PASSPHRASE_ENV}) or a master key "
                f"({MASTER_KEY_ENV}), exactly one"
            )
        self.path = Path(path)
        self._passphrase = passphrase
        self._master_key = master_key
        self._kdf_name = kdf
        self._scrypt_n = scrypt_n
        self._argon2 = (argon2_memory_kib, argon2_iterations, argon2_lanes)
        self._keys: dict[str, dict[str, Any]] = {}
        self._aead: dict[tuple[str, int], AESGCM] = {}
        self._kek_memo: tuple[str, bytes] | None = None
        if self.path.exists():
            self._load()

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        home: Path | None = None,
        *,
        passphrase: str | None = None,
        env: Mapping[str, str] | None = None,
        kdf: str = "argon2id",
        scrypt_n: int = DEFAULT_SCRYPT_N,
    ) -> LocalKeyStore:
        """Open (or prepare to create) the key store under ``home``; unlock from env if needed."""
        env = os.environ if env is None else env
        home = Path(home or env.get("PHIWARD_HOME") or Path.home() / ".phiward")
        master_key = None
        if passphrase is None:
            if env.get(MASTER_KEY_ENV):
                master_key = parse_master_key(env[MASTER_KEY_ENV])
            elif env.get(PASSPHRASE_ENV):
                passphrase = env[PASSPHRASE_ENV]
        return cls(
            home / KEYSTORE_FILE,
            passphrase=passphrase,
            master_key=master_key,
            kdf=kdf,
            scrypt_n=scrypt_n,
        )

    @property
    def kdf_name(self) -> str:
        """The KDF of the store's file (``argon2id``, ``scrypt``, ``master-key-hkdf-sha256``),
        or the one a new file will get."""
        existing: Mapping[str, Any] | None = getattr(self, "_kdf", None)
        if existing is not None:
            return str(existing["name"])
        return self._kdf_name if self._passphrase is not None else "master-key-hkdf-sha256"

    # ---- file format --------------------------------------------------------------------
    def _kek(self, kdf: Mapping[str, Any]) -> bytes:
        """The key-encryption key for these KDF parameters, derived once per store object
        (scrypt is deliberately slow: ~0.3 s and 128 MiB)."""
        memo = json.dumps(dict(kdf), sort_keys=True)
        if self._kek_memo is not None and self._kek_memo[0] == memo:
            return self._kek_memo[1]
        kek = self._derive_kek(kdf)
        self._kek_memo = (memo, kek)
        return kek

    def _derive_kek(self, kdf: Mapping[str, Any]) -> bytes:
        try:
            salt = b64decode(str(kdf["salt"]))
            if kdf["name"] == "argon2id":
                params: tuple[int, ...] = (
                    int(kdf["memory_kib"]),
                    int(kdf["iterations"]),
                    int(kdf["lanes"]),
                )
            elif kdf["name"] == "scrypt":
                params = (int(kdf["n"]), int(kdf["r"]), int(kdf["p"]))
        except (KeyError, ValueError, TypeError):
            raise ConfigError(f"key store {self.path}: malformed KDF parameters") from None
        if kdf["name"] in KDFS:
            if self._passphrase is None:
                raise ConfigError(
                    f"key store {self.path} is passphrase-protected: set {PASSPHRASE_ENV}"
                )
            secret = self._passphrase.encode("utf-8")
        if kdf["name"] == "argon2id":
            memory, iterations, lanes = params
            if not (
                1 <= lanes <= _MAX_ARGON2_LANES
                and 1 <= iterations <= _MAX_ARGON2_ITERATIONS
                and 8 * lanes <= memory <= _MAX_ARGON2_MEMORY_KIB
            ):
                raise ConfigError(f"key store {self.path}: argon2id parameters out of range")
            try:
                argon = Argon2id(
                    salt=salt, length=32, iterations=iterations, lanes=lanes, memory_cost=memory
                )
            except UnsupportedAlgorithm:
                raise ConfigError(
                    "argon2id is not available in this build of cryptography (it needs "
                    "cryptography >= 44 with OpenSSL >= 3.2); use --kdf scrypt"
                ) from None
            return argon.derive(secret)
        if kdf["name"] == "scrypt":
            n, r, p = params
            if not (2 <= n <= _MAX_SCRYPT_N and 1 <= r <= 64 and 1 <= p <= 64):
                raise ConfigError(f"key store {self.path}: scrypt parameters out of range")
            return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(secret)
        if kdf["name"] == "master-key-hkdf-sha256":
            if self._master_key is None:
                raise ConfigError(f"key store {self.path} is unlocked by {MASTER_KEY_ENV}: set it")
            return HKDF(
                algorithm=hashes.SHA256(), length=32, salt=salt, info=b"phiward keystore kek"
            ).derive(self._master_key)
        raise ConfigError(f"key store {self.path}: unknown KDF {kdf['name']!r}")

    def _load(self) -> None:
        st = self.path.stat()
        if stat.S_IMODE(st.st_mode) & 0o077:
            raise ConfigError(
                f"key store {self.path} has permissions {stat.S_IMODE(st.st_mode):04o}; "
                "it must be readable by its owner only (chmod 600)"
            )
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            if doc.get("format") != KEYSTORE_FORMAT:
                raise ConfigError(f"key store {self.path}: unsupported format")
            kdf = doc["kdf"]
            nonce, ciphertext = b64decode(doc["nonce"]), b64decode(doc["ciphertext"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"key store {self.path} is corrupted or not a key store") from exc
        aad = self._aad(kdf)
        try:
            payload = AESGCM(self._kek(kdf)).decrypt(nonce, ciphertext, aad)
        except InvalidTag:
            raise DecryptionError(
                f"cannot unlock key store {self.path}: wrong passphrase/master key, or tampered",
                reason="wrong-key",
            ) from None
        self._keys = json.loads(payload)["keys"]
        self._kdf = kdf

    @staticmethod
    def _aad(kdf: Mapping[str, Any]) -> bytes:
        return (KEYSTORE_FORMAT + json.dumps(dict(kdf), sort_keys=True)).encode("utf-8")

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        kdf: dict[str, Any] = getattr(self, "_kdf", None) or self._new_kdf()
        self._kdf = kdf
        nonce = os.urandom(12)
        payload = json.dumps({"keys": self._keys}, sort_keys=True).encode("utf-8")
        ciphertext = AESGCM(self._kek(kdf)).encrypt(nonce, payload, self._aad(kdf))
        doc = {
            "format": KEYSTORE_FORMAT,
            "kdf": kdf,
            "nonce": b64encode(nonce),
            "ciphertext": b64encode(ciphertext),
        }
        with atomic_output(self.path, 0o600) as out:
            out.write(json.dumps(doc, indent=1).encode("utf-8"))

    def _new_kdf(self) -> dict[str, Any]:
        salt = b64encode(os.urandom(16))
        if self._passphrase is not None and self._kdf_name == "argon2id":
            memory, iterations, lanes = self._argon2
            return {
                "name": "argon2id",
                "memory_kib": memory,
                "iterations": iterations,
                "lanes": lanes,
                "salt": salt,
            }
        if self._passphrase is not None:
            return {"name": "scrypt", "n": self._scrypt_n, "r": 8, "p": 1, "salt": salt}
        return {"name": "master-key-hkdf-sha256", "salt": salt}

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise writers (other processes too) and re-read the file under the lock."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock_path = self.path.with_suffix(".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if self.path.exists():
                self._load()
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    # ---- key management -----------------------------------------------------------------
    def create_key(self, name: str, *, kind: str = "aes-256") -> MasterKeyInfo:
        """Create master key ``name`` (version 1). ``kind`` is ``aes-256`` or ``hmac-sha256``."""
        check_name(name)
        if kind not in {"aes-256", "hmac-sha256"}:
            raise ValueError("kind must be 'aes-256' or 'hmac-sha256'")
        with self._locked():
            if name in self._keys:
                raise KeyProviderError(f"key {name!r} already exists")
            self._keys[name] = {
                "kind": kind,
                "created": _now(),
                "current": 1,
                "versions": {
                    "1": {"material": b64encode(secrets.token_bytes(32)), "created": _now()}
                },
            }
            self._save()
        emit(
            SecurityEvent(
                "key.create",
                "C",
                resource_type="master-key",
                resource_id=name,
                details={"provider": self.name, "version": "v1", "kind": kind},
            )
        )
        return self.info(name)

    def rotate(self, name: str) -> MasterKeyInfo:
        """Add a new version of ``name`` and make it current; older versions stay for unwrapping."""
        with self._locked():
            entry = self._entry(name)
            version = max(int(v) for v in entry["versions"]) + 1
            entry["versions"][str(version)] = {
                "material": b64encode(secrets.token_bytes(32)),
                "created": _now(),
            }
            entry["current"] = version
            self._save()
        self._aead.clear()
        emit(
            SecurityEvent(
                "key.rotate",
                "U",
                resource_type="master-key",
                resource_id=name,
                details={"provider": self.name, "version": f"v{version}"},
            )
        )
        return self.info(name)

    def list_keys(self) -> list[MasterKeyInfo]:
        return [self.info(name) for name in sorted(self._keys)]

    def info(self, name: str) -> MasterKeyInfo:
        entry = self._entry(name)
        versions = tuple(f"v{v}" for v in sorted(int(v) for v in entry["versions"]))
        return MasterKeyInfo(
            name,
            self.name,
            f"v{entry['current']}",
            versions,
            entry.get("created"),
            entry.get("kind", "aes-256"),
        )

    def exists(self, name: str) -> bool:
        return name in self._keys

    def _entry(self, name: str) -> dict[str, Any]:
        try:
            return self._keys[name]
        except KeyError:
            raise KeyNotFoundError(f"no local master key named {name!r} in {self.path}") from None

    def material(self, name: str, version: int | None = None) -> bytes:
        """Raw material of a version (for the raw-AES keyring and blind-index keys). Handle with
        care: it is the master key itself."""
        entry = self._entry(name)
        v = entry["current"] if version is None else version
        try:
            return b64decode(entry["versions"][str(v)]["material"])
        except KeyError:
            raise KeyNotFoundError(f"local master key {name!r} has no version v{v}") from None

    def versions(self, name: str) -> dict[int, bytes]:
        entry = self._entry(name)
        return {int(v): b64decode(d["material"]) for v, d in entry["versions"].items()}

    def _gcm(self, name: str, version: int) -> AESGCM:
        key = (name, version)
        aead = self._aead.get(key)
        if aead is None:
            entry = self._entry(name)
            if entry.get("kind", "aes-256") != "aes-256":
                raise KeyProviderError(f"key {name!r} is an HMAC key, not a wrapping key")
            aead = self._aead[key] = AESGCM(self.material(name, version))
        return aead

    # ---- KeyProvider --------------------------------------------------------------------
    def canonical_id(self, key_id: str) -> str:
        self._entry(key_id)
        return key_id

    def current_version(self, key_id: str) -> str:
        return f"v{self._entry(key_id)['current']}"

    def _wrap(self, plaintext: bytes, name: str, context: Mapping[str, str]) -> WrappedKey:
        version = int(self._entry(name)["current"])
        header = struct.pack(">BI", _WRAP_FORMAT, version)
        nonce = os.urandom(12)
        aad = _WRAP_LABEL + lp(name.encode()) + header + serialize_context(context)
        wrapped = header + nonce + self._gcm(name, version).encrypt(nonce, plaintext, aad)
        return WrappedKey(wrapped, name, f"v{version}")

    def generate_data_key(self, key_id: str, context: Mapping[str, str]) -> DataKey:
        plaintext = secrets.token_bytes(32)
        w = self._wrap(plaintext, key_id, context)
        return DataKey(plaintext, w.wrapped, w.key_id, w.key_version)

    def decrypt_data_key(self, wrapped: bytes, key_id: str, context: Mapping[str, str]) -> bytes:
        if len(wrapped) < 5 + 12 + 16 or wrapped[0] != _WRAP_FORMAT:
            raise DecryptionError("wrapped data key is malformed", reason="corrupted")
        (version,) = struct.unpack_from(">I", wrapped, 1)
        aad = _WRAP_LABEL + lp(key_id.encode()) + wrapped[:5] + serialize_context(context)
        try:
            return self._gcm(key_id, version).decrypt(wrapped[5:17], wrapped[17:], aad)
        except InvalidTag:
            raise DecryptionError(
                f"cannot unwrap data key under {key_id!r}: wrong key or context, or tampered",
                reason="wrong-key-or-context",
            ) from None

    def rewrap(
        self,
        wrapped: bytes,
        key_id: str,
        context: Mapping[str, str],
        new_key_id: str | None = None,
    ) -> WrappedKey:
        plaintext = self.decrypt_data_key(wrapped, key_id, context)
        return self._wrap(plaintext, new_key_id or key_id, context)
