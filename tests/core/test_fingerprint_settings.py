from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from phiward.core import EntityType, Fingerprinter, load_settings
from phiward.errors import ConfigError


def test_fingerprint_is_keyed_and_normalised() -> None:
    fp = Fingerprinter(b"k" * 32)
    a = fp.fingerprint(EntityType.SSN, "123-45-6789")
    assert a == fp.fingerprint(EntityType.SSN, "123 45 6789")
    assert a.startswith("hs256:") and len(a) == len("hs256:") + 32
    assert "6789" not in a
    assert a != Fingerprinter(b"j" * 32).fingerprint(EntityType.SSN, "123-45-6789")
    # the type is part of the message: the same digits as a phone number differ
    assert a != fp.fingerprint(EntityType.PHONE, "123-45-6789")
    assert fp.fingerprint(EntityType.NAME, "John  SMITH") == fp.fingerprint(
        EntityType.NAME, "john smith"
    )
    assert "key" not in repr(fp).replace("<key hidden>", "")


def test_fingerprint_key_file_created_private_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "fingerprint.key"
    a = Fingerprinter.from_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    b = Fingerprinter.from_key_file(path)
    assert a.fingerprint(EntityType.EMAIL, "x@y.org") == b.fingerprint(EntityType.EMAIL, "x@y.org")
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        Fingerprinter.from_key_file(path)


def test_settings_file_env_and_overrides(tmp_path: Path) -> None:
    cfg = tmp_path / "phiward.toml"
    cfg.write_text('min_confidence = 0.7\n[audit]\ndatabase_url = "sqlite:///a.db"\n')
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    s = load_settings(cwd=nested, env={})
    assert s.min_confidence == 0.7
    assert s.section("audit")["database_url"] == "sqlite:///a.db"
    assert s.source == cfg
    s = load_settings(
        cwd=nested, env={"PHIWARD_MIN_CONFIDENCE": "0.9", "PHIWARD_AUDIT__DATABASE_URL": "x"}
    )
    assert s.min_confidence == 0.9
    assert s.section("audit")["database_url"] == "x"
    s = load_settings(cwd=nested, env={}, min_confidence=0.1)
    assert s.min_confidence == 0.1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("min_confidence = 2\n", "between 0 and 1"),
        ("bogus = 1\n", "unknown setting"),
        ("min_confidence = \n", "not valid TOML"),
        ("workers = 0\n", "at least 1"),
    ],
)
def test_settings_bad_file(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "phiward.toml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(cwd=tmp_path, env={})


def test_settings_fingerprint_key_env(tmp_path: Path) -> None:
    s = load_settings(cwd=tmp_path, env={"PHIWARD_FINGERPRINT_KEY": "ab" * 16})
    assert s.fingerprinter().fingerprint(EntityType.SSN, "1") == Fingerprinter(
        bytes.fromhex("ab" * 16)
    ).fingerprint(EntityType.SSN, "1")
    bad = load_settings(cwd=tmp_path, env={"PHIWARD_FINGERPRINT_KEY": "zz"})
    with pytest.raises(ConfigError):
        bad.fingerprinter()
