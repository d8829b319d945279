"""Checkpoints signed by an AWS KMS asymmetric key (moto server; fails under CI without it)."""

from __future__ import annotations

import base64
from pathlib import Path

import boto3
import pytest

from phiward.audit import AuditConfig, AuditEvent, AuditLog, verify_log
from phiward.audit.checkpoint import ECDSA_P256_ALG, Checkpoint, KmsSigner, Verifier
from phiward.errors import ConfigError, VerificationError

pytestmark = pytest.mark.moto


def _key(spec: str = "ECC_NIST_P256", usage: str = "SIGN_VERIFY") -> str:
    kms = boto3.client("kms")
    return str(kms.create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]["Arn"])


def test_kms_signed_checkpoint_verifies_and_round_trips(moto_reset: str) -> None:
    signer = KmsSigner(_key(), "example.org/audit")
    note = signer.sign(Checkpoint("example.org/audit", 7, b"\x11" * 32))
    assert note.startswith("example.org/audit\n7\n")
    cp = signer.verifier.open(note)
    assert (cp.size, cp.root) == (7, b"\x11" * 32)
    text = signer.verifier.to_text()
    assert text.split("+")[0] == "example.org/audit"
    again = Verifier.from_text(text)
    assert again.alg == ECDSA_P256_ALG
    assert again.open(note) == cp
    # A changed body or signature does not verify.
    with pytest.raises(VerificationError):
        again.open(note.replace("\n7\n", "\n8\n", 1))
    # Flip a bit of the decoded signature (not a base64 character: before '=' padding, a
    # character's low bits are padding and decode to the same bytes).
    body, _, sig_line = note.partition("\n\n")
    dash, name, b64 = sig_line.rstrip("\n").split(" ")
    raw = bytearray(base64.b64decode(b64))
    raw[-1] ^= 0x01
    flipped = f"{dash} {name} {base64.b64encode(bytes(raw)).decode()}\n"
    assert flipped != sig_line
    with pytest.raises(VerificationError):
        again.open(body + "\n\n" + flipped)


def test_kms_verifier_is_not_an_ed25519_verifier(moto_reset: str) -> None:
    a = KmsSigner(_key(), "example.org/audit")
    b = KmsSigner(_key(), "example.org/audit")
    note = a.sign(Checkpoint("example.org/audit", 1, b"\x00" * 32))
    with pytest.raises(VerificationError, match="no signature by key"):
        b.verifier.open(note)


@pytest.mark.parametrize(
    ("spec", "usage"),
    [("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"), ("ECC_NIST_P384", "SIGN_VERIFY"),
     ("RSA_2048", "SIGN_VERIFY")],
)  # fmt: skip
def test_unsuitable_kms_keys_are_refused(moto_reset: str, spec: str, usage: str) -> None:
    with pytest.raises(ConfigError):
        KmsSigner(_key(spec, usage), "example.org/audit")


def test_audit_log_with_kms_signing_verifies_and_detects_tampering(
    moto_reset: str, tmp_path: Path
) -> None:
    cfg = AuditConfig(
        database_url=f"sqlite:///{tmp_path / 'audit.db'}",
        signing_key=tmp_path / "signing.key",
        checkpoint_dir=tmp_path / "checkpoints",
        checkpoint_every=5,
        signing_kms_key=_key(),
    )
    with AuditLog(cfg) as log:
        for i in range(12):
            log.record(AuditEvent(type="phi.read", action="R", patient_id=f"pat-{i}"))
        cp = log.checkpoint()
        assert cp.size == 12
        assert not (tmp_path / "signing.key").exists()  # no local signing key was made
        assert (tmp_path / "row-mac.key").stat().st_mode & 0o077 == 0
        report = verify_log(log)
        assert report.ok, report.problems
        assert report.heads_checked >= 3
        assert report.checkpoints_checked == 1
        exported = sorted((tmp_path / "checkpoints").glob("checkpoint-*.txt"))[-1].read_text()
        assert Verifier.from_text(log.verifier.to_text()).open(exported).size == 12
        with log.engine.begin() as conn:
            conn.exec_driver_sql(
                "UPDATE audit_events SET body = replace(body, 'pat-3', 'pat-9') WHERE seq = 3"
            )
        problems = verify_log(log).problems
        assert [(p.kind, p.first) for p in problems if p.kind == "modified"] == [("modified", 3)]
    # Reopening uses the same MAC key file and KMS key: the log still verifies as before.
    with AuditLog(cfg) as again:
        assert [p.first for p in verify_log(again).problems if p.kind == "modified"] == [3]
