"""Interoperability both ways with the official aws-encryption-sdk (a dev dependency)."""

from __future__ import annotations

import os

import pytest

from phiward.crypto import KmsKeyProvider, KmsKeyring, RawAesKeyring, Suite, decrypt, encrypt

esdk = pytest.importorskip("aws_encryption_sdk")
from aws_encryption_sdk.identifiers import (  # noqa: E402
    Algorithm,
    CommitmentPolicy,
    EncryptionKeyType,
    WrappingAlgorithm,
)
from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey  # noqa: E402
from aws_encryption_sdk.key_providers.raw import RawMasterKey  # noqa: E402

CLIENT = esdk.EncryptionSDKClient(
    commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
)
ALGS = {
    Suite.AES256_HKDF_SHA512_COMMIT: Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
    Suite.AES256_HKDF_SHA512_COMMIT_ECDSA_P384: (
        Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384
    ),
}
SIZES = [0, 1, 4095, 4096, 4097, 70_000]


def _raw_master_key(key: bytes) -> RawMasterKey:
    return RawMasterKey(
        provider_id="phiward-test",
        key_id=b"wrapping-key-1",
        wrapping_key=WrappingKey(
            wrapping_algorithm=WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
            wrapping_key=key,
            wrapping_key_type=EncryptionKeyType.SYMMETRIC,
        ),
    )


@pytest.mark.parametrize("suite", list(Suite))
@pytest.mark.parametrize("size", SIZES)
def test_raw_aes_both_ways(suite: Suite, size: int) -> None:
    key = os.urandom(32)
    ring = RawAesKeyring("phiward-test", "wrapping-key-1", key)
    official = _raw_master_key(key)
    data = os.urandom(size)
    ctx = {"tenant": "t-1", "purpose": "interop"}

    ours = encrypt(data, ring, context=ctx, suite=suite, frame_length=4096)
    plaintext, header = CLIENT.decrypt(source=ours, key_provider=official)
    assert plaintext == data
    assert header.encryption_context["tenant"] == "t-1"

    theirs, _ = CLIENT.encrypt(
        source=data, key_provider=official, encryption_context=ctx, algorithm=ALGS[suite]
    )
    back, info = decrypt(theirs, ring, expected_context=ctx)
    assert back == data
    assert info.suite is suite


@pytest.mark.moto
@pytest.mark.parametrize("suite", list(Suite))
def test_kms_both_ways_on_moto(moto_reset: str, suite: Suite) -> None:
    import boto3

    arn = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
    ring = KmsKeyring(KmsKeyProvider(), arn)
    official = esdk.StrictAwsKmsMasterKeyProvider(key_ids=[arn])
    data = os.urandom(10_000)
    ctx = {"record-set": "rs-9"}

    ours = encrypt(data, ring, context=ctx, suite=suite)
    plaintext, header = CLIENT.decrypt(source=ours, key_provider=official)
    assert plaintext == data
    assert {k for k in header.encryption_context} >= {"record-set"}

    theirs, _ = CLIENT.encrypt(
        source=data, key_provider=official, encryption_context=ctx, algorithm=ALGS[suite]
    )
    back, info = decrypt(theirs, ring, expected_context=ctx)
    assert back == data
    assert info.key_providers == ["aws-kms"]
