"""The CLI end to end: keys create/list/rotate/rewrap/shred, encrypt/decrypt files and pipes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from phiward.cli.main import app
from phiward.core.events import SecurityEvent
from phiward.crypto import FieldEncryptor, KeyTable, LocalKeyStore

runner = CliRunner()


def run(*args: str, input: bytes | None = None) -> tuple[int, bytes, str]:
    result = runner.invoke(app, list(args), input=input)
    return result.exit_code, result.stdout_bytes, " ".join(result.stderr.split())


@pytest.fixture
def home(master_key_env: str) -> Path:
    code, _, err = run("keys", "create", "app")
    assert code == 0, err
    return Path(os.environ["PHIWARD_HOME"])


def test_help_documents_every_command() -> None:
    for cmd in (
        ["keys"],
        ["keys", "create"],
        ["keys", "list"],
        ["keys", "rotate"],
        ["keys", "rewrap"],
        ["keys", "shred"],
        ["keys", "replicate"],
        ["encrypt"],
        ["decrypt"],
    ):
        code, out, _ = run(*cmd, "--help")
        assert code == 0 and b"Usage" in out


def test_file_round_trip_and_distinct_errors(
    home: Path, tmp_path: Path, events: list[SecurityEvent]
) -> None:
    src = tmp_path / "notes.txt"
    src.write_bytes(b"patient notes " * 1000)
    enc, dec = tmp_path / "notes.enc", tmp_path / "notes.out"
    code, _, err = run("encrypt", str(src), "-o", str(enc), "--key", "app", "-c", "tenant=t1")
    assert code == 0, err
    assert b"patient notes" not in enc.read_bytes()
    code, _, err = run("decrypt", str(enc), "-o", str(dec), "--key", "app", "-c", "tenant=t1")
    assert code == 0, err
    assert dec.read_bytes() == src.read_bytes()
    assert [e.action for e in events if e.action.startswith("file.")] == [
        "file.encrypt",
        "file.decrypt",
    ]

    dec.unlink()
    code, _, err = run("decrypt", str(enc), "-o", str(dec), "--key", "app", "-c", "tenant=t2")
    assert code == 4 and "wrong context" in err and not dec.exists()

    run("keys", "create", "other")
    code, _, err = run("decrypt", str(enc), "-o", str(dec), "--key", "other")
    assert code == 4 and "wrong key" in err and not dec.exists()

    data = enc.read_bytes()
    trunc = tmp_path / "trunc.enc"
    trunc.write_bytes(data[:-100])
    code, _, err = run("decrypt", str(trunc), "-o", str(dec), "--key", "app")
    assert code == 5 and "truncated" in err and not dec.exists()

    bad = bytearray(data)
    bad[len(bad) // 2] ^= 0x40
    corrupt = tmp_path / "corrupt.enc"
    corrupt.write_bytes(bytes(bad))
    code, _, err = run("decrypt", str(corrupt), "-o", str(dec), "--key", "app")
    assert code == 5 and "tampered" in err and not dec.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert any(e.action == "file.decrypt" and e.outcome == "failure" for e in events)

    code, _, err = run("decrypt", str(tmp_path / "missing"), "-o", str(dec), "--key", "app")
    assert code == 4 and "does not exist" in err

    code, _, err = run("encrypt", str(src), "-o", str(enc), "--key", "app", "-c", "novalue")
    assert code == 4 and "key=value" in err


def test_signed_message_bad_signature_leaves_no_file(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "a"
    src.write_bytes(os.urandom(200_000))
    enc = tmp_path / "a.enc"
    assert run("encrypt", str(src), "-o", str(enc), "--key", "app", "--signed")[0] == 0
    data = bytearray(enc.read_bytes())
    data[-5] ^= 1  # inside the signature: every frame authenticates, the signature does not
    enc.write_bytes(bytes(data))
    out = tmp_path / "a.out"
    code, _, err = run("decrypt", str(enc), "-o", str(out), "--key", "app")
    assert code == 5 and "signature" in err
    assert not out.exists()


def test_stdin_stdout_pipe(home: Path) -> None:
    code, ct, err = run("encrypt", "--key", "app", input=b"from a pipe")
    assert code == 0, err
    code, pt, err = run("decrypt", "-", "--key", "app", input=ct)
    assert code == 0, err
    assert pt == b"from a pipe"


def test_keys_lifecycle(home: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'k.db'}"
    store = LocalKeyStore.open()
    f = FieldEncryptor(store, KeyTable(db), "app")
    tokens = [
        f.encrypt("v", subject=f"s{i}", table="t", column="c", record_id="r") for i in range(3)
    ]
    code, out, err = run("keys", "rotate", "app", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["current_version"] == "v2"
    code, out, _ = run("keys", "list", "--db", db, "--format", "json")
    listed = {k["key_id"]: k for k in json.loads(out)}
    assert listed["app"]["stale_data_keys"] == 3
    code, out, err = run(
        "keys", "rewrap", "app", "--db", db, "--format", "json", "--batch-size", "2"
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["rewrapped"] == 3 and report["batches"] == 2 and report["remaining"] == 0
    code, out, _ = run("keys", "list", "--db", db, "--format", "json")
    assert json.loads(out)[0]["stale_data_keys"] == 0
    code, _, err = run("keys", "shred", "--subject", "s1", "--db", db)
    assert code == 2 and "--yes" in err
    code, out, err = run("keys", "shred", "--subject", "s1", "--db", db, "--yes")
    assert code == 0 and b"shredded 1" in out
    g = FieldEncryptor(LocalKeyStore.open(), KeyTable(db), "app")
    assert g.decrypt_str(tokens[0], table="t", column="c", record_id="r") == "v"
    with pytest.raises(Exception, match="shredded"):
        g.decrypt(tokens[1], table="t", column="c", record_id="r")


def test_keys_create_kdf_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    home = Path(os.environ["PHIWARD_HOME"])
    monkeypatch.setenv("PHIWARD_KEYSTORE_PASSPHRASE", "a long passphrase")
    code, _, err = run("keys", "create", "app", "--kdf", "scrypt")
    assert code == 0, err
    assert json.loads((home / "keystore.json").read_text())["kdf"]["name"] == "scrypt"
    code, _, err = run("keys", "create", "other", "--kdf", "argon2id")
    assert code == 4 and "already uses scrypt" in err
    assert run("keys", "create", "third")[0] == 0  # no --kdf: the store keeps its KDF
    code, _, err = run("keys", "create", "x", "--kdf", "bcrypt")
    assert code == 2 and "bcrypt" in err


def test_keys_create_defaults_to_argon2id(monkeypatch: pytest.MonkeyPatch) -> None:
    home = Path(os.environ["PHIWARD_HOME"])
    monkeypatch.setenv("PHIWARD_KEYSTORE_PASSPHRASE", "a long passphrase")
    code, _, err = run("keys", "create", "app")
    assert code == 0, err
    kdf = json.loads((home / "keystore.json").read_text())["kdf"]
    assert kdf["name"] == "argon2id" and kdf["memory_kib"] == 65536
    monkeypatch.setenv("PHIWARD_KEYSTORE_PASSPHRASE", "not the passphrase")
    code, _, err = run("keys", "list")
    assert code == 4 and "wrong passphrase" in err


def test_kdf_with_master_key_is_a_clear_error(master_key_env: str) -> None:
    code, _, err = run("keys", "create", "app", "--kdf", "scrypt")
    assert code == 4 and "passphrase-protected" in err
    code, _, err = run("keys", "create", "k", "--kms", "--kdf", "scrypt")
    assert code == 2 and "--kdf" in err


@pytest.mark.moto
def test_kms_multi_region_cli(moto_reset: str) -> None:
    code, out, err = run(
        "keys", "create", "mr", "--kms", "--multi-region", "--replica-region", "us-west-2",
        "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    made = json.loads(out)
    assert [r.split(":")[3] for r in made["replicas"]] == ["us-west-2"]
    code, out, err = run("keys", "replicate", "alias/mr", "--region", "eu-west-1", "--alias", "mr")
    assert code == 0, err
    replica = out.decode().split()[-1]
    assert replica.startswith("arn:aws:kms:eu-west-1:") and replica.endswith(
        made["key_id"].rsplit("/", 1)[1]
    )
    code, _, err = run("keys", "create", "x", "--replica-region", "us-west-2")
    assert code == 2 and "--replica-region needs --kms --multi-region" in err
    code, _, err = run("keys", "replicate", "app", "--region", "us-west-2")
    assert code == 2 and "not an AWS KMS key" in err


def test_missing_unlock_is_a_clear_error() -> None:
    code, _, err = run("keys", "list")
    assert code == 4 and "PHIWARD_MASTER_KEY" in err


@pytest.mark.moto
def test_kms_cli_and_missing_permission(moto_reset: str, tmp_path: Path) -> None:
    code, out, err = run("keys", "create", "phiward-files", "--kms", "--format", "json")
    assert code == 0, err
    arn = json.loads(out)["key_id"]
    src = tmp_path / "x"
    src.write_bytes(b"kms file")
    enc = tmp_path / "x.enc"
    assert run("encrypt", str(src), "-o", str(enc), "--key", "alias/phiward-files")[0] == 0
    code, pt, err = run("decrypt", str(enc), "--key", arn)
    assert code == 0 and pt == b"kms file", err
    code, _, err = run("encrypt", str(src), "-o", str(enc), "--key", "alias/nope")
    assert code == 4 and "not found" in err


def test_signed_to_stdout_fails_at_the_end_on_a_bad_signature(home: Path, tmp_path: Path) -> None:
    """Documented stdout behaviour: frames are released as they authenticate, and a bad
    signature still makes the command exit non-zero."""
    src = tmp_path / "s"
    src.write_bytes(b"signed body")
    enc = tmp_path / "s.enc"
    assert run("encrypt", str(src), "-o", str(enc), "--key", "app", "--signed")[0] == 0
    data = bytearray(enc.read_bytes())
    data[-3] ^= 1
    enc.write_bytes(bytes(data))
    code, _, err = run("decrypt", str(enc), "--key", "app")
    assert code == 5 and "signature" in err


def test_identifier_shaped_context_is_refused(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "f"
    src.write_bytes(b"x")
    out = tmp_path / "f.enc"
    code, _, err = run("encrypt", str(src), "-o", str(out), "--key", "app", "-c", "pt=123-45-6789")
    assert code == 2 and "looks like an identifier" in err and "123-45-6789" not in err
    assert not out.exists()
    code, _, err = run(
        "encrypt",
        str(src),
        "-o",
        str(out),
        "--key",
        "app",
        "-c",
        "pt=123-45-6789",
        "--allow-identifier-context",
    )
    assert code == 0, err
