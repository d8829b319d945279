"""AWS KMS provider on a real moto server: data keys, aliases, ARNs, re-encrypt, errors, cache."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

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
from phiward.errors import (
    DecryptionError,
    KeyNotFoundError,
    KeyProviderError,
    KeyProviderUnavailable,
)

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
    assert any(e.action == "key.create" and e.resource_id == info.key_id for e in events)
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
    kms.calls = 0
    dec_cache: DataKeyCache[object] = DataKeyCache()
    infos = [decrypt(blob, KmsKeyring(kms, a), cache=dec_cache)[1] for blob in blobs]
    assert kms.calls == 2  # one Decrypt per distinct data key, not per file
    assert sum(i.cached_data_key for i in infos) == 18
    with pytest.raises(DecryptionError) as exc:
        decrypt(blobs[0], KmsKeyring(kms, b))
    assert exc.value.reason == "wrong-key"


@pytest.fixture
def iam_enforcing_kms(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, str]]:
    """A second, real moto server that enforces IAM after its first 3 calls; yields
    (endpoint, key ARN), with the environment set to a user that has no KMS permission."""
    import socket
    import subprocess
    import sys
    import time

    import boto3

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3")
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        endpoint = f"http://127.0.0.1:{port}"
        admin = {
            "endpoint_url": endpoint,
            "region_name": "us-east-1",
            "aws_access_key_id": "admin",
            "aws_secret_access_key": "admin",
        }
        arn = boto3.client("kms", **admin).create_key()["KeyMetadata"]["Arn"]
        iam = boto3.client("iam", **admin)
        iam.create_user(UserName="no-kms")
        key = iam.create_access_key(UserName="no-kms")["AccessKey"]
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
        yield endpoint, arn
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_missing_kms_permission_is_a_distinct_error(
    iam_enforcing_kms: tuple[str, str], tmp_path: Path
) -> None:
    _, arn = iam_enforcing_kms
    with pytest.raises(KeyProviderUnavailable, match="missing permission"):
        KmsKeyProvider().generate_data_key(arn, {})

    from typer.testing import CliRunner

    from phiward.cli.main import app

    src = tmp_path / "in"
    src.write_bytes(b"x")
    result = CliRunner().invoke(app, ["encrypt", str(src), "-o", str(tmp_path / "o"), "--key", arn])
    err = " ".join(result.stderr.split())
    assert result.exit_code == 4
    assert "permission denied" in err and "kms:GenerateDataKey" in err
    assert not (tmp_path / "o").exists()


def test_kms_rotation_keeps_old_data_decryptable(moto_reset: str, tmp_path: Path) -> None:
    kms = KmsKeyProvider()
    arn = kms.create_key("alias/rot").key_id
    f = FieldEncryptor(kms, KeyTable(f"sqlite:///{tmp_path}/k.db"), arn)
    tok = f.encrypt("before rotation", **WHERE)
    assert kms.rotate("alias/rot").key_id == arn
    fresh = FieldEncryptor(kms, f.key_table, arn)
    assert fresh.decrypt_str(tok, **WHERE) == "before rotation"
    other = kms.create_key().key_id
    assert kms.rotate("alias/rot", new_key_id=other).key_id == other
    assert kms.canonical_id("alias/rot") == other


def test_multi_region_edk_is_routed_to_the_replica_region(moto_reset: str) -> None:
    """An EDK made under the us-east-1 ARN of an ``mrk-`` key is matched by a keyring naming the
    us-west-2 replica, and the Decrypt call goes to us-west-2 with the replica ARN (the MRK rule).
    moto cannot decrypt ``mrk-`` ciphertexts at all (it answers AccessDenied, even in the home
    region), so this checks the routing; real KMS decrypts. A non-MRK key in another region is
    not matched at all ("wrong key")."""
    import boto3

    east = boto3.client("kms", region_name="us-east-1")
    arn = east.create_key(MultiRegion=True)["KeyMetadata"]["Arn"]
    assert ":key/mrk-" in arn
    replica = east.replicate_key(KeyId=arn.rsplit("/", 1)[1], ReplicaRegion="us-west-2")
    replica_arn = replica["ReplicaKeyMetadata"]["Arn"]
    kms = KmsKeyProvider()
    blob = encrypt(b"replicated", KmsKeyring(kms, arn), context={"site": "a"})
    with pytest.raises(KeyProviderUnavailable) as routed:
        decrypt(blob, KmsKeyring(kms, replica_arn))
    assert replica_arn in str(routed.value)
    plain_west = boto3.client("kms", region_name="us-west-2").create_key()["KeyMetadata"]["Arn"]
    with pytest.raises(DecryptionError) as wrong:
        decrypt(blob, KmsKeyring(kms, plain_west))
    assert wrong.value.reason == "wrong-key"


def test_multi_region_key_created_with_replicas_and_regional_aliases(
    moto_reset: str, events: list[SecurityEvent]
) -> None:
    import boto3

    kms = KmsKeyProvider()
    info = kms.create_key("alias/mr", multi_region=True, replica_regions=["us-west-2", "eu-west-1"])
    key_id = info.key_id.rsplit("/", 1)[1]
    assert key_id.startswith("mrk-") and region_of(info.key_id) == "us-east-1"
    assert [region_of(r) for r in info.replicas] == ["us-west-2", "eu-west-1"]
    for replica in info.replicas:
        assert replica.endswith(key_id) and mrk_match(replica, info.key_id)
        regional = boto3.client("kms", region_name=region_of(replica))
        meta = regional.describe_key(KeyId="alias/mr")["KeyMetadata"]  # the alias, per region
        assert meta["Arn"] == replica
        assert meta["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
        assert meta["MultiRegionConfiguration"]["PrimaryKey"]["Arn"] == info.key_id
    # Replicating "from" a replica replicates the primary.
    third = kms.replicate_key(info.replicas[0], "ap-south-1")
    meta = boto3.client("kms", region_name="ap-south-1").describe_key(KeyId=third)["KeyMetadata"]
    assert meta["MultiRegionConfiguration"]["PrimaryKey"]["Arn"] == info.key_id
    replicated = [e for e in events if e.action == "key.replicate"]
    assert [e.details["region"] for e in replicated] == ["us-west-2", "eu-west-1", "ap-south-1"]


def test_replication_errors_are_clear(moto_reset: str) -> None:
    kms = KmsKeyProvider()
    single = kms.create_key().key_id
    with pytest.raises(KeyProviderError, match="not a multi-region key"):
        kms.replicate_key(single, "us-west-2")
    with pytest.raises(KeyProviderError, match="need a multi-region key"):
        kms.create_key(replica_regions=["us-west-2"])
    mrk = kms.create_key(multi_region=True).key_id
    with pytest.raises(KeyProviderError, match="already lives in us-east-1"):
        kms.replicate_key(mrk, "us-east-1")
    west = KmsKeyProvider(region="us-west-2")
    west.create_key("alias/taken")
    with pytest.raises(KeyProviderError, match="already names another key"):
        kms.replicate_key(mrk, "us-west-2", alias="taken")


def test_field_tokens_unwrap_through_the_local_mrk_replica(moto_reset: str, tmp_path: Path) -> None:
    """Rows wrapped under the us-east-1 primary are unwrapped by an encryptor configured with the
    us-west-2 replica *in us-west-2* (the MRK promise: a replica decrypts its siblings' data, e.g.
    after failing over). moto cannot decrypt mrk- ciphertexts at all (AccessDenied, even in the
    home region), so this checks where the Decrypt call goes; real KMS answers it."""
    kms = KmsKeyProvider()
    info = kms.create_key(multi_region=True, replica_regions=["us-west-2"])
    primary, replica = info.key_id, info.replicas[0]
    table = KeyTable(f"sqlite:///{tmp_path}/k.db")
    token = FieldEncryptor(kms, table, primary).encrypt("failover", **WHERE)
    calls: list[tuple[str, str]] = []
    for arn in (primary, replica):
        client = kms.client(arn)

        def record(
            params: dict[str, str], region: str = client.meta.region_name, **_: object
        ) -> None:
            calls.append((region, params["KeyId"]))

        client.meta.events.register("before-parameter-build.kms.Decrypt", record)
    with pytest.raises(KeyProviderUnavailable):  # moto's limitation, see above
        FieldEncryptor(kms, table, replica).decrypt(token, **WHERE)
    assert calls == [("us-west-2", replica)]
    # An encryptor whose key is not a replica of the row's key goes to the row's key.
    other_key = kms.create_key().key_id
    calls.clear()
    with pytest.raises(KeyProviderUnavailable):
        FieldEncryptor(kms, table, other_key).decrypt(token, **WHERE)
    assert calls == [("us-east-1", primary)]
