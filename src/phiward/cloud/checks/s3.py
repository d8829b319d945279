"""S3: encryption, TLS-only policies, public access blocks, versioning, Object Lock, logging."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import ClientError

from phiward.cloud.checks._util import as_list, error_code, policy_doc, statements
from phiward.cloud.checks.logging import all_trails
from phiward.cloud.context import ScanContext
from phiward.cloud.model import Severity
from phiward.cloud.registry import Verdict, bad, check, ok

_BLOCK_KEYS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def buckets(ctx: ScanContext) -> list[tuple[str, str]]:
    """(name, region) of every bucket, memoised."""

    def fetch() -> list[tuple[str, str]]:
        s3 = ctx.client("s3")
        out = []
        for b in s3.list_buckets().get("Buckets", []):
            loc = s3.get_bucket_location(Bucket=b["Name"]).get("LocationConstraint")
            out.append((b["Name"], loc or "us-east-1"))
        return out

    return ctx.memo(("s3", "buckets"), fetch)


def _each(
    ctx: ScanContext, judge: Callable[[Any, str], Verdict], region: str | None = None
) -> list[Verdict]:
    out = []
    for name, bucket_region in buckets(ctx):
        if region is not None and bucket_region != region:
            continue
        out.append(judge(ctx.client("s3", bucket_region), name))
    return out


def _arn(ctx: ScanContext, name: str) -> str:
    return f"arn:{ctx.partition}:s3:::{name}"


@check(
    id="s3_bucket_default_encryption_kms",
    title="S3 buckets encrypt new objects with SSE-KMS by default",
    service="s3",
    severity=Severity.MEDIUM,
    sections=("164.312(a)(2)(iv)",),
    practice="NIST SP 800-53 SC-28",
    rationale="SSE-S3 encrypts, but SSE-KMS also puts every read under a key policy and a "
    "CloudTrail record of key use, which is what access control over PHI objects needs.",
    console="S3 > (bucket) > Properties > Default encryption > Edit > SSE-KMS with a "
    "customer-managed key, Bucket Key enabled.",
    cli="aws s3api put-bucket-encryption --bucket BUCKET --server-side-encryption-configuration "
    '\'{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms",'
    '"KMSMasterKeyID":"KEY"},"BucketKeyEnabled":true}]}\'',
    resource_type="AwsS3Bucket",
    empty="no S3 buckets",
    regional=False,
    apis=("s3:ListAllMyBuckets", "s3:GetBucketLocation", "s3:GetEncryptionConfiguration"),
)
def s3_kms(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    def judge(s3: Any, name: str) -> Verdict:
        try:
            rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"][
                "Rules"
            ]
        except ClientError as exc:
            if error_code(exc) == "ServerSideEncryptionConfigurationNotFoundError":
                return bad(name, "no default encryption configured", _arn(ctx, name))
            raise
        algos = {r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for r in rules}
        if algos & {"aws:kms", "aws:kms:dsse"}:
            return ok(name, "default SSE-KMS", _arn(ctx, name))
        return bad(
            name, f"default encryption is {', '.join(sorted(map(str, algos)))}", _arn(ctx, name)
        )

    return _each(ctx, judge)


def _bucket_policy(s3: Any, name: str) -> dict[str, Any] | None:
    try:
        return policy_doc(s3.get_bucket_policy(Bucket=name)["Policy"])
    except ClientError as exc:
        if error_code(exc) == "NoSuchBucketPolicy":
            return None
        raise


def _denies_insecure_transport(doc: dict[str, Any] | None) -> bool:
    if doc is None:
        return False
    for st in statements(doc):
        if st.get("Effect") != "Deny":
            continue
        cond = st.get("Condition", {}).get("Bool", {})
        if str(cond.get("aws:SecureTransport", "")).lower() == "false":
            actions = {str(a) for a in as_list(st.get("Action"))}
            if actions & {"s3:*", "*"}:
                return True
    return False


@check(
    id="s3_bucket_secure_transport_policy",
    title="S3 bucket policies deny requests without TLS",
    service="s3",
    severity=Severity.MEDIUM,
    sections=("164.312(e)(1)", "164.312(e)(2)(i)", "164.312(e)(2)(ii)"),
    practice="NIST SP 800-53 SC-8",
    rationale="Transmission security: without a Deny on aws:SecureTransport=false, S3 accepts "
    "plain-HTTP requests that expose PHI objects on the wire.",
    console="S3 > (bucket) > Permissions > Bucket policy > add a Deny s3:* statement with "
    'Condition {"Bool": {"aws:SecureTransport": "false"}}.',
    terraform='statement {\n  effect = "Deny"\n  actions = ["s3:*"]\n'
    '  principals { type = "*" identifiers = ["*"] }\n'
    '  condition { test = "Bool" variable = "aws:SecureTransport" values = ["false"] }\n}',
    resource_type="AwsS3Bucket",
    empty="no S3 buckets",
    regional=False,
    apis=("s3:ListAllMyBuckets", "s3:GetBucketLocation", "s3:GetBucketPolicy"),
)
def s3_tls(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    def judge(s3: Any, name: str) -> Verdict:
        if _denies_insecure_transport(_bucket_policy(s3, name)):
            return ok(name, "policy denies non-TLS requests", _arn(ctx, name))
        return bad(name, "no policy statement denies aws:SecureTransport=false", _arn(ctx, name))

    return _each(ctx, judge)


@check(
    id="s3_bucket_public_access_block",
    title="S3 buckets block all public access",
    service="s3",
    severity=Severity.HIGH,
    sections=("164.312(a)(1)", "164.308(a)(4)(i)"),
    practice="NIST SP 800-53 AC-3, SC-7",
    rationale="A public bucket is the most common cloud PHI breach; all four block settings keep "
    "a mistaken ACL or policy from exposing it.",
    console="S3 > (bucket) > Permissions > Block public access > Edit > Block all public access.",
    cli="aws s3api put-public-access-block --bucket BUCKET --public-access-block-configuration "
    "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
    resource_type="AwsS3Bucket",
    empty="no S3 buckets",
    regional=False,
    apis=("s3:ListAllMyBuckets", "s3:GetBucketLocation", "s3:GetBucketPublicAccessBlock"),
)
def s3_block(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    account = _account_block(ctx)

    def judge(s3: Any, name: str) -> Verdict:
        try:
            conf = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        except ClientError as exc:
            if error_code(exc) != "NoSuchPublicAccessBlockConfiguration":
                raise
            conf = {}
        missing = [k for k in _BLOCK_KEYS if not conf.get(k) and not account.get(k)]
        if missing:
            return bad(name, "public access not blocked: " + ", ".join(missing), _arn(ctx, name))
        return ok(name, "all public access blocked (bucket or account)", _arn(ctx, name))

    return _each(ctx, judge)


def _account_block(ctx: ScanContext) -> dict[str, Any]:
    def fetch() -> dict[str, Any]:
        try:
            answer = ctx.client("s3control").get_public_access_block(AccountId=ctx.account_id)
        except ClientError as exc:
            if error_code(exc) == "NoSuchPublicAccessBlockConfiguration":
                return {}
            raise
        return dict(answer.get("PublicAccessBlockConfiguration", {}))

    return ctx.memo(("s3control", "pab"), fetch)


@check(
    id="s3_account_public_access_block",
    title="Account-level S3 Block Public Access is fully on",
    service="s3",
    severity=Severity.HIGH,
    sections=("164.312(a)(1)", "164.308(a)(4)(i)"),
    practice="NIST SP 800-53 AC-3",
    rationale="The account-wide block also covers buckets created tomorrow by someone in a hurry.",
    console="S3 > Block Public Access settings for this account > Edit > Block all public access.",
    cli="aws s3control put-public-access-block --account-id ACCOUNT "
    "--public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,"
    "BlockPublicPolicy=true,RestrictPublicBuckets=true",
    resource_type="AwsAccount",
    empty="no account setting",
    regional=False,
    apis=("s3:GetAccountPublicAccessBlock",),
)
def s3_account_block(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    conf = _account_block(ctx)
    missing = [k for k in _BLOCK_KEYS if not conf.get(k)]
    if missing:
        return [bad(ctx.account_id, "account block off: " + ", ".join(missing))]
    return [ok(ctx.account_id, "account-level block public access fully on")]


@check(
    id="s3_bucket_versioning_enabled",
    title="S3 buckets have versioning enabled",
    service="s3",
    severity=Severity.MEDIUM,
    sections=("164.308(a)(7)(ii)(A)", "164.312(c)(1)", "164.312(c)(2)"),
    practice="NIST SP 800-53 CP-9, SI-7",
    rationale="Integrity and backup: versioning keeps the prior copy of a PHI object that was "
    "overwritten or deleted by mistake or by ransomware.",
    console="S3 > (bucket) > Properties > Bucket Versioning > Edit > Enable.",
    cli="aws s3api put-bucket-versioning --bucket BUCKET --versioning-configuration Status=Enabled",
    resource_type="AwsS3Bucket",
    empty="no S3 buckets",
    regional=False,
    apis=("s3:ListAllMyBuckets", "s3:GetBucketLocation", "s3:GetBucketVersioning"),
)
def s3_versioning(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    def judge(s3: Any, name: str) -> Verdict:
        status = s3.get_bucket_versioning(Bucket=name).get("Status")
        if status == "Enabled":
            return ok(name, "versioning enabled", _arn(ctx, name))
        return bad(name, f"versioning {status or 'never enabled'}", _arn(ctx, name))

    return _each(ctx, judge)


@check(
    id="s3_audit_bucket_object_lock",
    title="Buckets receiving CloudTrail logs have Object Lock",
    service="s3",
    severity=Severity.MEDIUM,
    sections=("164.312(c)(1)", "164.316(b)(2)(i)", "164.312(b)"),
    practice="NIST SP 800-53 AU-9, AU-11",
    rationale="Write-once storage keeps an intruder with S3 rights from erasing the audit trail "
    "of what they did.",
    console="Object Lock can only be enabled at bucket creation (or via AWS Support for existing "
    "buckets): create a new audit bucket with Object Lock (compliance mode, 6 years) and point "
    "the trail to it.",
    cli="aws s3api create-bucket --bucket AUDIT --object-lock-enabled-for-bucket && aws s3api "
    "put-object-lock-configuration --bucket AUDIT --object-lock-configuration "
    '\'{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"COMPLIANCE",'
    '"Years":6}}}\'',
    resource_type="AwsS3Bucket",
    empty="no trail delivers to an S3 bucket of this account",
    regional=False,
    apis=("s3:ListAllMyBuckets", "s3:GetBucketLocation", "s3:GetBucketObjectLockConfiguration"),
)
def s3_object_lock(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    targets = {t.get("S3BucketName") for t in all_trails(ctx) if t.get("S3BucketName")}

    def judge(s3: Any, name: str) -> Verdict:
        try:
            conf = s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"]
        except ClientError as exc:
            if error_code(exc) in {"ObjectLockConfigurationNotFoundError", "NoSuchBucket"}:
                conf = {}
            else:
                raise
        if conf.get("ObjectLockEnabled") == "Enabled":
            return ok(name, "audit bucket has Object Lock", _arn(ctx, name))
        return bad(name, "audit log bucket has no Object Lock", _arn(ctx, name))

    out = []
    for name, bucket_region in buckets(ctx):
        if name in targets:
            out.append(judge(ctx.client("s3", bucket_region), name))
    return out


@check(
    id="s3_bucket_access_logging_enabled",
    title="S3 buckets have server access logging",
    service="s3",
    severity=Severity.LOW,
    sections=("164.312(b)", "164.308(a)(1)(ii)(D)"),
    practice="NIST SP 800-53 AU-2",
    rationale="Access logs record every request to a bucket, including anonymous and denied ones "
    "that CloudTrail data events may not cover.",
    console="S3 > (bucket) > Properties > Server access logging > Edit > Enable, target bucket.",
    cli="aws s3api put-bucket-logging --bucket BUCKET --bucket-logging-status "
    '\'{"LoggingEnabled":{"TargetBucket":"LOGS","TargetPrefix":"BUCKET/"}}\'',
    resource_type="AwsS3Bucket",
    empty="no S3 buckets",
    regional=False,
    apis=("s3:ListAllMyBuckets", "s3:GetBucketLocation", "s3:GetBucketLogging"),
)
def s3_logging(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    def judge(s3: Any, name: str) -> Verdict:
        if s3.get_bucket_logging(Bucket=name).get("LoggingEnabled"):
            return ok(name, "server access logging on", _arn(ctx, name))
        return bad(name, "server access logging off", _arn(ctx, name))

    return _each(ctx, judge)
