"""AWS KMS as a key provider (boto3): GenerateDataKey, Decrypt, ReEncrypt. Private module.

Key ids may be key ids, ``alias/...`` names, key ARNs or alias ARNs. The wrapped form is KMS's
CiphertextBlob; decrypts always pass the expected ``KeyId`` so a blob cannot be steered to another
key. Multi-region keys (``mrk-``) are matched by key id across regions, and calls go to the region
named in the ARN (or the client default for bare ids and aliases).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from phiward.core.events import SecurityEvent, emit
from phiward.crypto._providers import DataKey, KeyProvider, MasterKeyInfo, WrappedKey
from phiward.errors import (
    DecryptionError,
    KeyNotFoundError,
    KeyProviderError,
    KeyProviderUnavailable,
)

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

KMS_PROVIDER_ID = "aws-kms"


def is_kms_key_ref(ref: str) -> bool:
    """Does ``ref`` name a KMS key (ARN, alias, key id, ``mrk-`` id) rather than a local key?"""
    if ref.startswith(("arn:aws:kms:", "arn:aws-us-gov:kms:", "arn:aws-cn:kms:", "alias/", "mrk-")):
        return True
    parts = ref.split("-")
    return len(ref) == 36 and [len(p) for p in parts] == [8, 4, 4, 4, 12]


def region_of(key_id: str) -> str | None:
    """The region in a KMS ARN, else ``None``."""
    if key_id.startswith("arn:"):
        parts = key_id.split(":", 5)
        if len(parts) == 6 and parts[2] == "kms":
            return parts[3] or None
    return None


def _resource(key_id: str) -> str:
    return key_id.split(":", 5)[5] if key_id.startswith("arn:") else key_id


def is_mrk(key_id: str) -> bool:
    res = _resource(key_id)
    return res.startswith(("key/mrk-", "mrk-"))


def mrk_match(a: str, b: str) -> bool:
    """The spec's "AWS KMS MRK Match for Decrypt": equal, or the same multi-region key id with
    partition/account equal but region free."""
    if a == b:
        return True
    if not (is_mrk(a) and is_mrk(b)):
        return False
    if a.startswith("arn:") and b.startswith("arn:"):
        pa, pb = a.split(":", 5), b.split(":", 5)
        return pa[1] == pb[1] and pa[4] == pb[4] and pa[5] == pb[5]
    return _resource(a).removeprefix("key/") == _resource(b).removeprefix("key/")


def _alias_name(alias: str) -> str:
    return alias if alias.startswith("alias/") else f"alias/{alias}"


class KmsKeyProvider(KeyProvider):
    """Data keys generated and wrapped by AWS KMS. One boto3 client per region, thread-safe."""

    name = KMS_PROVIDER_ID

    def __init__(self, *, region: str | None = None, session: Any = None) -> None:
        try:
            import boto3  # noqa: PLC0415 - optional dependency
        except ImportError as exc:  # pragma: no cover - boto3 is in the aws extra
            raise KeyProviderError("AWS KMS needs boto3: pip install 'phiward[aws]'") from exc
        self._session = session or boto3.session.Session()
        self._default_region = region or self._session.region_name
        self._clients: dict[str | None, KMSClient] = {}
        self._lock = threading.Lock()
        self.calls = 0  # KMS API calls made (to measure what the cache saves)

    def client(self, key_id: str | None = None) -> KMSClient:
        region = region_of(key_id) if key_id else None
        region = region or self._default_region
        with self._lock:
            client = self._clients.get(region)
            if client is None:
                client = self._clients[region] = self._session.client("kms", region_name=region)
        return client

    def _call(self, op: str, key_id: str, **kwargs: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        self.calls += 1
        try:
            result: dict[str, Any] = getattr(self.client(key_id), op)(**kwargs)
            return result
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            api = {
                "generate_data_key": "GenerateDataKey",
                "decrypt": "Decrypt",
                "re_encrypt": "ReEncrypt",
                "describe_key": "DescribeKey",
                "create_key": "CreateKey",
                "encrypt": "Encrypt",
                "rotate_key_on_demand": "RotateKeyOnDemand",
                "replicate_key": "ReplicateKey",
                "create_alias": "CreateAlias",
            }.get(op, op)
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in {"AccessDeniedException", "UnauthorizedOperation", "AccessDenied"} or (
                status == 403 and code in {"", "403"}
            ):
                raise KeyProviderUnavailable(
                    f"AWS KMS denied kms:{api} on {key_id}: missing permission"
                ) from None
            if code == "NotFoundException":
                raise KeyNotFoundError(f"AWS KMS key {key_id} not found") from None
            if code in {"InvalidCiphertextException", "IncorrectKeyException"}:
                raise DecryptionError(
                    f"AWS KMS could not decrypt the data key with {key_id}: wrong key or context, "
                    "or tampered",
                    reason="wrong-key-or-context",
                ) from None
            if code in {"DisabledException", "KMSInvalidStateException"}:
                raise KeyProviderUnavailable(
                    f"AWS KMS key {key_id} is disabled or pending deletion"
                ) from None
            raise KeyProviderError(f"AWS KMS {api} on {key_id} failed: {code}") from None
        except BotoCoreError as exc:
            raise KeyProviderUnavailable(
                f"AWS KMS unreachable for {key_id}: {type(exc).__name__}"
            ) from None

    # ---- KeyProvider --------------------------------------------------------------------
    def canonical_id(self, key_id: str) -> str:
        if key_id.startswith("arn:") and ":key/" in key_id:
            return key_id
        meta = self._call("describe_key", key_id, KeyId=key_id)["KeyMetadata"]
        return str(meta["Arn"])

    def current_version(self, key_id: str) -> str:
        return self.canonical_id(key_id)

    def generate_data_key(self, key_id: str, context: Mapping[str, str]) -> DataKey:
        resp = self._call(
            "generate_data_key",
            key_id,
            KeyId=key_id,
            NumberOfBytes=32,
            EncryptionContext=dict(context),
        )
        arn = str(resp["KeyId"])
        return DataKey(bytes(resp["Plaintext"]), bytes(resp["CiphertextBlob"]), arn, arn)

    def decrypt_data_key(self, wrapped: bytes, key_id: str, context: Mapping[str, str]) -> bytes:
        resp = self._call(
            "decrypt", key_id, CiphertextBlob=wrapped, KeyId=key_id, EncryptionContext=dict(context)
        )
        if (
            not mrk_match(str(resp["KeyId"]), key_id)
            and key_id.startswith("arn:")
            and ":key/" in key_id
        ):
            raise DecryptionError("AWS KMS decrypted with an unexpected key", reason="wrong-key")
        plaintext = bytes(resp["Plaintext"])
        if len(plaintext) != 32:
            raise DecryptionError(
                "AWS KMS returned a data key of the wrong length", reason="corrupted"
            )
        return plaintext

    def rewrap(
        self,
        wrapped: bytes,
        key_id: str,
        context: Mapping[str, str],
        new_key_id: str | None = None,
    ) -> WrappedKey:
        dest = new_key_id or key_id
        resp = self._call(
            "re_encrypt",
            key_id,
            CiphertextBlob=wrapped,
            SourceKeyId=key_id,
            DestinationKeyId=dest,
            SourceEncryptionContext=dict(context),
            DestinationEncryptionContext=dict(context),
        )
        arn = str(resp["KeyId"])
        return WrappedKey(bytes(resp["CiphertextBlob"]), arn, arn)

    # ---- management ---------------------------------------------------------------------
    def create_key(
        self,
        alias: str | None = None,
        *,
        multi_region: bool = False,
        replica_regions: tuple[str, ...] | list[str] = (),
        description: str = "phiward master key",
    ) -> MasterKeyInfo:
        """Create a symmetric KMS key (and ``alias``). With ``replica_regions`` (multi-region
        keys only) it is replicated there, each replica getting the same alias in its region
        (aliases are regional)."""
        if replica_regions and not multi_region:
            raise KeyProviderError("replica regions need a multi-region key (--multi-region)")
        resp = self._call(
            "create_key",
            alias or "new-key",
            Description=description,
            KeySpec="SYMMETRIC_DEFAULT",
            KeyUsage="ENCRYPT_DECRYPT",
            MultiRegion=multi_region,
        )
        arn = str(resp["KeyMetadata"]["Arn"])
        if alias:
            self._call("create_alias", arn, AliasName=_alias_name(alias), TargetKeyId=arn)
        emit(
            SecurityEvent(
                "key.create",
                "C",
                resource_type="master-key",
                resource_id=arn,
                details={"provider": self.name, "multi_region": multi_region},
            )
        )
        replicas = tuple(self.replicate_key(arn, region, alias=alias) for region in replica_regions)
        return MasterKeyInfo(arn, self.name, arn, (arn,), replicas=replicas)

    def _ensure_alias(self, alias: str, arn: str) -> None:
        """``alias`` names ``arn`` in ``arn``'s region afterwards. KMS aliases are regional and
        not copied by ReplicateKey (moto copies them), so look before creating."""
        name = _alias_name(alias)
        regional = f"arn:{':'.join(arn.split(':')[1:5])}:{name}"  # routes the call to its region
        try:
            current = str(self._call("describe_key", regional, KeyId=name)["KeyMetadata"]["Arn"])
        except KeyNotFoundError:
            self._call("create_alias", arn, AliasName=name, TargetKeyId=arn)
            return
        if current != arn:
            raise KeyProviderError(f"{name} already names another key ({current}) in that region")

    def replicate_key(self, key_id: str, region: str, *, alias: str | None = None) -> str:
        """Replicate multi-region key ``key_id`` (id, alias or ARN of its primary) into
        ``region``; returns the replica's ARN (same ``mrk-`` key id, same key material, so it
        decrypts what the primary encrypted). ``alias`` is created for it in that region."""
        meta = self._call("describe_key", key_id, KeyId=key_id)["KeyMetadata"]
        arn = str(meta["Arn"])
        if not meta.get("MultiRegion") or not is_mrk(arn):
            raise KeyProviderError(
                f"AWS KMS key {arn} is not a multi-region key; only mrk- keys can be replicated"
            )
        config = meta.get("MultiRegionConfiguration") or {}
        if config.get("MultiRegionKeyType") == "REPLICA":
            arn = str(config["PrimaryKey"]["Arn"])  # replicas are made from the primary
        if region_of(arn) == region:
            raise KeyProviderError(f"AWS KMS key {arn} already lives in {region}")
        # The bare key id, sent to the primary's region: KMS accepts it (moto accepts only it).
        resp = self._call("replicate_key", arn, KeyId=arn.rsplit("/", 1)[1], ReplicaRegion=region)
        replica = str(resp["ReplicaKeyMetadata"]["Arn"])
        if alias:
            self._ensure_alias(alias, replica)
        emit(
            SecurityEvent(
                "key.replicate",
                "C",
                resource_type="master-key",
                resource_id=replica,
                details={"provider": self.name, "primary": arn, "region": region},
            )
        )
        return replica

    def rotate(self, key_id: str, *, new_key_id: str | None = None) -> MasterKeyInfo:
        """KMS rotates backing material under the same ARN (old data still decrypts); rotating
        to *another* key is done by pointing the alias at it and re-wrapping (``rewrap``)."""
        arn = self.canonical_id(key_id)
        if new_key_id:
            new_arn = self.canonical_id(new_key_id)
            if key_id.startswith("alias/"):
                self.client(arn).update_alias(AliasName=key_id, TargetKeyId=new_arn)
            arn = new_arn
        else:
            self._call("rotate_key_on_demand", arn, KeyId=arn)
        emit(
            SecurityEvent(
                "key.rotate",
                "U",
                resource_type="master-key",
                resource_id=arn,
                details={"provider": self.name},
            )
        )
        return MasterKeyInfo(arn, self.name, arn, (arn,))
