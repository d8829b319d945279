"""KMS: customer-managed key rotation, key policies, keys pending deletion."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from phiward.cloud.checks._util import is_public_principal, policy_doc, statements
from phiward.cloud.context import ScanContext
from phiward.cloud.model import Severity
from phiward.cloud.registry import Verdict, bad, check, ok


def customer_keys(ctx: ScanContext, region: str) -> list[dict[str, Any]]:
    """KeyMetadata of every customer-managed key in ``region`` (memoised)."""

    def fetch() -> list[dict[str, Any]]:
        kms = ctx.client("kms", region)
        out = []
        for key in ctx.paginate("kms", region, "list_keys", "Keys"):
            meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
            if meta.get("KeyManager") == "CUSTOMER":
                out.append(meta)
        return out

    return ctx.memo(("kms", region, "customer"), fetch)


@check(
    id="kms_cmk_rotation_enabled",
    title="Customer-managed symmetric KMS keys rotate automatically",
    service="kms",
    severity=Severity.MEDIUM,
    sections=("164.312(a)(2)(iv)", "164.312(e)(2)(ii)"),
    practice="NIST SP 800-53 SC-12",
    rationale="Rotation limits how much PHI one key version protects and is what auditors expect "
    "of encryption keys.",
    console="KMS > Customer managed keys > (key) > Key rotation > Automatically rotate.",
    cli="aws kms enable-key-rotation --key-id KEY",
    terraform='resource "aws_kms_key" "phi" { enable_key_rotation = true }',
    resource_type="AwsKmsKey",
    empty="no enabled customer-managed symmetric keys",
    apis=("kms:ListKeys", "kms:DescribeKey", "kms:GetKeyRotationStatus"),
)
def rotation(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    kms = ctx.client("kms", region)
    out = []
    for meta in customer_keys(ctx, region):
        if meta.get("KeyState") != "Enabled" or meta.get("KeySpec") != "SYMMETRIC_DEFAULT":
            continue
        if meta.get("Origin") != "AWS_KMS":
            continue  # imported or custom key store material cannot be rotated by AWS
        enabled = kms.get_key_rotation_status(KeyId=meta["KeyId"]).get("KeyRotationEnabled")
        if enabled:
            out.append(ok(meta["KeyId"], "automatic rotation on", meta["Arn"]))
        else:
            out.append(bad(meta["KeyId"], "automatic rotation off", meta["Arn"]))
    return out


@check(
    id="kms_key_policy_not_public",
    title="No KMS key policy allows everyone ('*')",
    service="kms",
    severity=Severity.CRITICAL,
    sections=("164.312(a)(1)", "164.312(a)(2)(iv)", "164.308(a)(4)(i)"),
    practice="NIST SP 800-53 AC-3, SC-12",
    rationale="A key that anyone can use decrypts every PHI record encrypted under it.",
    console="KMS > Customer managed keys > (key) > Key policy > Edit: remove Principal '*' "
    "statements or narrow them with aws:PrincipalOrgID / kms:CallerAccount conditions.",
    resource_type="AwsKmsKey",
    empty="no customer-managed keys",
    apis=("kms:ListKeys", "kms:DescribeKey", "kms:GetKeyPolicy"),
)
def key_policy_public(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    kms = ctx.client("kms", region)
    out = []
    for meta in customer_keys(ctx, region):
        if meta.get("KeyState") == "PendingDeletion":
            continue
        doc = policy_doc(kms.get_key_policy(KeyId=meta["KeyId"], PolicyName="default")["Policy"])
        if any(is_public_principal(st) for st in statements(doc)):
            out.append(bad(meta["KeyId"], "key policy allows Principal '*'", meta["Arn"]))
        else:
            out.append(ok(meta["KeyId"], "key policy is not public", meta["Arn"]))
    return out


@check(
    id="kms_cmk_not_pending_deletion",
    title="No customer-managed KMS key is scheduled for deletion",
    service="kms",
    severity=Severity.HIGH,
    sections=("164.312(a)(2)(iv)", "164.308(a)(7)(ii)(A)"),
    practice="NIST SP 800-53 SC-12, CP-9",
    rationale="Deleting a key makes everything encrypted under it, including backups, "
    "permanently unreadable; a pending deletion must be a deliberate, reviewed decision.",
    console="KMS > Customer managed keys > (key) > Key actions > Cancel key deletion.",
    cli="aws kms cancel-key-deletion --key-id KEY",
    resource_type="AwsKmsKey",
    empty="no customer-managed keys",
    apis=("kms:ListKeys", "kms:DescribeKey"),
)
def pending_deletion(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    out = []
    for meta in customer_keys(ctx, region):
        if meta.get("KeyState") == "PendingDeletion":
            out.append(bad(meta["KeyId"], "key is scheduled for deletion", meta["Arn"]))
        else:
            out.append(ok(meta["KeyId"], f"key state {meta.get('KeyState')}", meta["Arn"]))
    return out
