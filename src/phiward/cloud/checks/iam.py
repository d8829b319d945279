"""IAM: root account, users' MFA and credentials, password policy, administrator policies."""

from __future__ import annotations

from collections.abc import Iterable

from botocore.exceptions import ClientError

from phiward.cloud.checks._util import (
    account_summary,
    credential_report,
    days_since,
    error_code,
    is_admin_statement,
    policy_doc,
    statements,
)
from phiward.cloud.context import ScanContext
from phiward.cloud.model import Severity
from phiward.cloud.registry import Verdict, bad, check, ok

UNUSED_DAYS = 45
ROTATION_DAYS = 90


@check(
    id="iam_root_mfa_enabled",
    title="Root user has MFA enabled",
    service="iam",
    severity=Severity.CRITICAL,
    sections=("164.312(d)", "164.308(a)(5)(ii)(D)", "164.312(a)(2)(i)"),
    practice="NIST SP 800-53 IA-2(1)",
    rationale="The root user can do anything, including reading every PHI store; a password alone "
    "is one phishing e-mail away from a full account takeover.",
    console="Sign in as root > Security credentials > Multi-factor authentication > Assign MFA.",
    cli="# root MFA cannot be assigned with the CLI; use the console as root",
    resource_type="AwsAccount",
    empty="no account summary",
    regional=False,
    apis=("iam:GetAccountSummary",),
)
def root_mfa(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    if account_summary(ctx).get("AccountMFAEnabled", 0) == 1:
        return [ok("root", "root user has MFA")]
    return [bad("root", "root user has no MFA device")]


@check(
    id="iam_root_hardware_mfa_enabled",
    title="Root user's MFA is a hardware device, not a virtual one",
    service="iam",
    severity=Severity.HIGH,
    sections=("164.312(d)", "164.312(a)(2)(ii)"),
    practice="NIST SP 800-53 IA-2(1)",
    rationale="A virtual MFA on a phone shares the phone's fate; the break-glass identity of a PHI "
    "account should use a dedicated hardware key kept under physical control.",
    console="Sign in as root > Security credentials > remove the virtual MFA and assign a FIDO "
    "security key or hardware TOTP token.",
    resource_type="AwsAccount",
    empty="no account summary",
    regional=False,
    apis=("iam:GetAccountSummary", "iam:ListVirtualMFADevices"),
)
def root_hardware_mfa(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    if account_summary(ctx).get("AccountMFAEnabled", 0) != 1:
        return [bad("root", "root user has no MFA at all")]
    devices = ctx.paginate("iam", None, "list_virtual_mfa_devices", "VirtualMFADevices")
    for dev in devices:
        if str(dev.get("SerialNumber", "")).endswith(":mfa/root-account-mfa-device"):
            return [bad("root", "root user's MFA is a virtual device")]
    return [ok("root", "root user's MFA is not virtual (hardware)")]


@check(
    id="iam_root_no_access_keys",
    title="Root user has no access keys",
    service="iam",
    severity=Severity.CRITICAL,
    sections=("164.312(a)(1)", "164.312(a)(2)(i)", "164.308(a)(3)(i)"),
    practice="NIST SP 800-53 AC-6(2)",
    rationale="Root access keys are unrestricted, long-lived and cannot be scoped by any policy.",
    console="Sign in as root > Security credentials > Access keys > Delete each key.",
    resource_type="AwsAccount",
    empty="no account summary",
    regional=False,
    apis=("iam:GetAccountSummary",),
)
def root_no_keys(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    if account_summary(ctx).get("AccountAccessKeysPresent", 0):
        return [bad("root", "root user has access keys")]
    return [ok("root", "root user has no access keys")]


@check(
    id="iam_user_mfa_enabled_console",
    title="Every IAM user with a console password has MFA",
    service="iam",
    severity=Severity.HIGH,
    sections=("164.312(d)", "164.308(a)(5)(ii)(D)"),
    practice="NIST SP 800-53 IA-2(1)",
    rationale="Person or entity authentication: a password alone does not prove who signs in to a "
    "console that can reach PHI.",
    console="IAM > Users > (user) > Security credentials > Assign MFA device.",
    cli="aws iam enable-mfa-device --user-name USER --serial-number ARN --authentication-code1 "
    "C1 --authentication-code2 C2",
    resource_type="AwsIamUser",
    empty="no IAM users with a console password",
    regional=False,
    apis=("iam:GenerateCredentialReport", "iam:GetCredentialReport"),
)
def user_mfa(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    out = []
    for row in credential_report(ctx):
        if row.get("user") == "<root_account>" or row.get("password_enabled") != "true":
            continue
        arn = row.get("arn", "")
        if row.get("mfa_active") == "true":
            out.append(ok(row["user"], "console user has MFA", arn))
        else:
            out.append(bad(row["user"], "console user has no MFA", arn))
    return out


@check(
    id="iam_password_policy_strong",
    title="Account password policy is strong (14+ chars, all classes, reuse 24, expiry 90 days)",
    service="iam",
    severity=Severity.MEDIUM,
    sections=("164.308(a)(5)(ii)(D)", "164.312(d)"),
    practice="NIST SP 800-53 IA-5(1)",
    rationale="Password management is an addressable specification of the Security Rule; the "
    "default AWS policy allows 8-character passwords.",
    console="IAM > Account settings > Password policy > Edit.",
    cli="aws iam update-account-password-policy --minimum-password-length 14 "
    "--require-symbols --require-numbers --require-uppercase-characters "
    "--require-lowercase-characters --password-reuse-prevention 24 --max-password-age 90",
    terraform='resource "aws_iam_account_password_policy" "this" {\n'
    "  minimum_password_length = 14\n  password_reuse_prevention = 24\n"
    "  max_password_age = 90\n  require_symbols = true\n  require_numbers = true\n"
    "  require_uppercase_characters = true\n  require_lowercase_characters = true\n}",
    resource_type="AwsAccount",
    empty="no password policy",
    regional=False,
    apis=("iam:GetAccountPasswordPolicy",),
)
def password_policy(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    try:
        policy = ctx.client("iam").get_account_password_policy()["PasswordPolicy"]
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":
            return [bad("password-policy", "no account password policy (AWS default applies)")]
        raise
    problems = []
    if int(policy.get("MinimumPasswordLength", 0)) < 14:
        problems.append("minimum length < 14")
    for key in (
        "RequireSymbols",
        "RequireNumbers",
        "RequireUppercaseCharacters",
        "RequireLowercaseCharacters",
    ):
        if not policy.get(key):
            problems.append(f"{key} off")
    if int(policy.get("PasswordReusePrevention", 0)) < 24:
        problems.append("reuse prevention < 24")
    if not policy.get("ExpirePasswords") or int(policy.get("MaxPasswordAge", 0)) > ROTATION_DAYS:
        problems.append(f"passwords do not expire within {ROTATION_DAYS} days")
    if problems:
        return [bad("password-policy", "; ".join(problems))]
    return [ok("password-policy", "password policy meets the baseline")]


def _unused(row: dict[str, str], prefix: str, used_key: str, created_key: str) -> bool:
    if row.get(prefix) != "true":
        return False
    used = days_since(row.get(used_key))
    if used is not None:
        return used > UNUSED_DAYS
    created = days_since(row.get(created_key))
    return created is not None and created > UNUSED_DAYS


@check(
    id="iam_user_unused_credentials",
    title=f"No IAM user credential unused for more than {UNUSED_DAYS} days",
    service="iam",
    severity=Severity.MEDIUM,
    sections=("164.308(a)(3)(ii)(C)", "164.308(a)(4)(ii)(C)"),
    practice="NIST SP 800-53 AC-2(3)",
    rationale="Termination procedures: credentials of people who left or of abandoned automation "
    "are the ones nobody watches.",
    console="IAM > Users > (user) > Security credentials > deactivate unused passwords and keys.",
    cli="aws iam update-access-key --user-name USER --access-key-id KEY --status Inactive",
    resource_type="AwsIamUser",
    empty="no IAM users",
    regional=False,
    apis=("iam:GenerateCredentialReport", "iam:GetCredentialReport"),
)
def unused_credentials(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    out = []
    for row in credential_report(ctx):
        if row.get("user") == "<root_account>":
            continue
        stale = []
        if _unused(row, "password_enabled", "password_last_used", "password_last_changed"):
            stale.append("password")
        for n in ("1", "2"):
            if _unused(
                row,
                f"access_key_{n}_active",
                f"access_key_{n}_last_used_date",
                f"access_key_{n}_last_rotated",
            ):
                stale.append(f"access key {n}")
        arn = row.get("arn", "")
        if stale:
            out.append(bad(row["user"], f"unused > {UNUSED_DAYS} days: {', '.join(stale)}", arn))
        else:
            out.append(ok(row["user"], "no stale credentials", arn))
    return out


@check(
    id="iam_access_key_rotated_90_days",
    title=f"Active access keys are rotated within {ROTATION_DAYS} days",
    service="iam",
    severity=Severity.MEDIUM,
    sections=("164.308(a)(5)(ii)(D)", "164.308(a)(4)(ii)(C)"),
    practice="NIST SP 800-53 IA-5(1)",
    rationale="A long-lived key that leaked stays valid until someone rotates it.",
    console="IAM > Users > (user) > Security credentials > Create access key, switch, deactivate "
    "and delete the old key.",
    cli="aws iam create-access-key --user-name USER && aws iam delete-access-key --user-name "
    "USER --access-key-id OLD",
    resource_type="AwsIamAccessKey",
    empty="no active access keys",
    regional=False,
    apis=("iam:GenerateCredentialReport", "iam:GetCredentialReport"),
)
def key_rotation(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    out = []
    for row in credential_report(ctx):
        for n in ("1", "2"):
            if row.get(f"access_key_{n}_active") != "true":
                continue
            age = days_since(row.get(f"access_key_{n}_last_rotated"))
            rid = f"{row['user']}/key{n}"
            if age is not None and age > ROTATION_DAYS:
                out.append(bad(rid, f"key is {int(age)} days old", row.get("arn", "")))
            else:
                out.append(ok(rid, "key rotated recently", row.get("arn", "")))
    return out


@check(
    id="iam_no_custom_policy_admin_wildcard",
    title="No customer-managed policy grants '*' on '*'",
    service="iam",
    severity=Severity.HIGH,
    sections=("164.308(a)(3)(i)", "164.308(a)(4)(i)", "164.308(a)(4)(ii)(B)", "164.312(a)(1)"),
    practice="NIST SP 800-53 AC-6",
    rationale="Minimum necessary access: a full-administrator policy lets any holder read, copy or "
    "delete all PHI and switch off the audit trail.",
    console="IAM > Policies > (policy) > Edit: replace Action '*' / Resource '*' with the "
    "actions and resources the job needs.",
    resource_type="AwsIamPolicy",
    empty="no customer-managed policies",
    regional=False,
    apis=("iam:ListPolicies", "iam:GetPolicyVersion"),
)
def admin_wildcard(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    iam = ctx.client("iam")
    out = []
    for pol in ctx.paginate("iam", None, "list_policies", "Policies", Scope="Local"):
        version = iam.get_policy_version(PolicyArn=pol["Arn"], VersionId=pol["DefaultVersionId"])[
            "PolicyVersion"
        ]
        doc = policy_doc(version["Document"])
        if any(is_admin_statement(st) for st in statements(doc)):
            attached = int(pol.get("AttachmentCount", 0))
            out.append(bad(pol["PolicyName"], f"grants *:* (attached {attached}×)", pol["Arn"]))
        else:
            out.append(ok(pol["PolicyName"], "no *:* statement", pol["Arn"]))
    return out


@check(
    id="iam_no_inline_admin_policy",
    title="No inline policy on a user, group or role grants '*' on '*'",
    service="iam",
    severity=Severity.HIGH,
    sections=("164.308(a)(3)(i)", "164.308(a)(4)(ii)(B)", "164.312(a)(1)"),
    practice="NIST SP 800-53 AC-6",
    rationale="Inline policies escape policy review and reuse; an inline administrator grant is "
    "the least visible way to hold full access to PHI.",
    console="IAM > Users/Groups/Roles > (principal) > Permissions > remove the inline policy and "
    "attach a reviewed managed policy instead.",
    resource_type="AwsIamPrincipal",
    empty="no inline policies",
    regional=False,
    apis=(
        "iam:ListUsers",
        "iam:ListGroups",
        "iam:ListRoles",
        "iam:ListUserPolicies",
        "iam:ListGroupPolicies",
        "iam:ListRolePolicies",
        "iam:GetUserPolicy",
        "iam:GetGroupPolicy",
        "iam:GetRolePolicy",
    ),
)
def inline_admin(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    iam = ctx.client("iam")
    out = []
    kinds = (
        ("User", "list_users", "Users", "UserName"),
        ("Group", "list_groups", "Groups", "GroupName"),
        ("Role", "list_roles", "Roles", "RoleName"),
    )
    for kind, op, key, name_key in kinds:
        for principal in ctx.paginate("iam", None, op, key):
            name = principal[name_key]
            lister = getattr(iam, f"list_{kind.lower()}_policies")
            getter = getattr(iam, f"get_{kind.lower()}_policy")
            for pname in lister(**{name_key: name}).get("PolicyNames", []):
                doc = policy_doc(getter(**{name_key: name, "PolicyName": pname})["PolicyDocument"])
                rid = f"{kind.lower()}/{name}/{pname}"
                if any(is_admin_statement(st) for st in statements(doc)):
                    out.append(bad(rid, f"inline policy on {kind.lower()} grants *:*"))
                else:
                    out.append(ok(rid, "inline policy is not administrator"))
    return out


@check(
    id="iam_no_user_or_group_with_administrator_access",
    title="No IAM user or group has the AWS-managed AdministratorAccess policy",
    service="iam",
    severity=Severity.HIGH,
    sections=("164.308(a)(3)(i)", "164.308(a)(4)(ii)(B)", "164.312(a)(1)"),
    practice="NIST SP 800-53 AC-6(5)",
    rationale="Long-lived identities with full administrator rights can read every PHI store; "
    "administration belongs to roles assumed for a session, with MFA.",
    console="IAM > Users/Groups > (principal) > Permissions > detach AdministratorAccess; grant "
    "a role the person assumes when needed instead.",
    cli="aws iam detach-user-policy --user-name USER --policy-arn "
    "arn:aws:iam::aws:policy/AdministratorAccess",
    resource_type="AwsIamUser",
    empty="no entities",
    regional=False,
    apis=("iam:ListEntitiesForPolicy",),
)
def managed_admin(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    arn = f"arn:{ctx.partition}:iam::aws:policy/AdministratorAccess"
    iam = ctx.client("iam")
    out = []
    try:
        for page in iam.get_paginator("list_entities_for_policy").paginate(PolicyArn=arn):
            for user in page.get("PolicyUsers", []):
                out.append(bad(f"user/{user['UserName']}", "has AdministratorAccess attached"))
            for group in page.get("PolicyGroups", []):
                out.append(bad(f"group/{group['GroupName']}", "has AdministratorAccess attached"))
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":  # a partition without the managed policy
            raise
    if not out:
        out.append(ok("AdministratorAccess", "attached to no IAM user or group"))
    return out
