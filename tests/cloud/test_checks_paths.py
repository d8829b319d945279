"""PASS/FAIL paths the seeded account does not show, ERROR and NOT_APPLICABLE paths, and the
evaluation rules that moto cannot reach (dates in the past, root credentials)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from phiward.cloud import Status, get_check
from phiward.cloud.checks import iam as iam_checks
from phiward.cloud.checks._util import is_admin_statement, is_public_principal, policy_doc
from phiward.cloud.checks.logging import _has_s3_data_events
from phiward.cloud.checks.network import _open_ports
from phiward.cloud.context import ScanContext, _strip_account_host
from phiward.cloud.runner import run_check
from tests.cloud.conftest import scan
from tests.cloud.seed import REGION

pytestmark = pytest.mark.moto


def statuses(check: str, **kwargs: object) -> set[Status]:
    return {r.status for r in scan(check, **kwargs).results}


def test_empty_account_is_not_applicable_not_silent(moto_reset: str) -> None:
    report = scan(
        "rds_instance_storage_encrypted", "sns_topic_encrypted", "efs_file_system_encrypted"
    )
    assert [r.status for r in report.results] == [Status.NOT_APPLICABLE] * 3
    assert all(r.message.startswith("no ") for r in report.results)


def test_password_policy_pass_and_weak_fail(moto_reset: str) -> None:
    iam = boto3.client("iam")
    iam.update_account_password_policy(MinimumPasswordLength=8)
    weak = scan("iam_password_policy_strong").results[0]
    assert weak.status is Status.FAIL and "minimum length" in weak.message
    iam.update_account_password_policy(
        MinimumPasswordLength=14,
        RequireSymbols=True,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
        PasswordReusePrevention=24,
        MaxPasswordAge=90,
    )
    assert statuses("iam_password_policy_strong") == {Status.PASS}


def test_config_recorder_pass_and_fail(moto_reset: str) -> None:
    assert statuses("config_recorder_enabled") == {Status.FAIL}
    cfg = boto3.client("config", region_name=REGION)
    cfg.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": "arn:aws:iam::123456789012:role/config",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
        }
    )
    assert statuses("config_recorder_enabled") == {Status.FAIL}  # defined but not recording
    cfg.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "cfg-bucket"})
    cfg.start_configuration_recorder(ConfigurationRecorderName="default")
    assert statuses("config_recorder_enabled") == {Status.PASS}


def test_guardduty_and_securityhub_fail_then_pass(moto_reset: str) -> None:
    assert statuses("guardduty_enabled") == {Status.FAIL}
    assert statuses("securityhub_enabled") == {Status.FAIL}
    boto3.client("guardduty", region_name=REGION).create_detector(Enable=True)
    boto3.client("securityhub", region_name=REGION).enable_security_hub()
    assert statuses("guardduty_enabled") == {Status.PASS}
    assert statuses("securityhub_enabled") == {Status.PASS}


def test_account_block_and_ebs_default_pass(moto_reset: str) -> None:
    s3control = boto3.client("s3control", region_name=REGION)
    s3control.meta.events.register("before-sign.s3-control.*", _strip_account_host)
    s3control.put_public_access_block(
        AccountId="123456789012",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    boto3.client("ec2", region_name=REGION).enable_ebs_encryption_by_default()
    assert statuses("s3_account_public_access_block") == {Status.PASS}
    assert statuses("ec2_ebs_default_encryption") == {Status.PASS}
    # the account-level block also covers a bucket without its own block
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="covered-by-account")
    assert statuses("s3_bucket_public_access_block") == {Status.PASS}


def test_no_trail_fails_trail_checks_and_alarms(moto_reset: str) -> None:
    for check in (
        "cloudtrail_multi_region_enabled",
        "cloudtrail_s3_data_events_enabled",
        "cloudwatch_alarm_root_usage",
        "cloudwatch_alarm_unauthorized_api_calls",
        "cloudwatch_alarm_signin_without_mfa",
    ):
        assert statuses(check) == {Status.FAIL}, check
    assert statuses("cloudtrail_log_file_validation_enabled") == {Status.NOT_APPLICABLE}


def test_mfa_and_cmk_alarms_pass_when_configured(moto_reset: str) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="trail-bucket-x")
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="trail")
    arn = logs.describe_log_groups()["logGroups"][0]["arn"]
    ct = boto3.client("cloudtrail", region_name=REGION)
    ct.create_trail(
        Name="trail-t",
        S3BucketName="trail-bucket-x",
        IsMultiRegionTrail=True,
        CloudWatchLogsLogGroupArn=arn,
        CloudWatchLogsRoleArn="arn:aws:iam::123456789012:role/r",
    )
    ct.start_logging(Name="trail-t")
    cw = boto3.client("cloudwatch", region_name=REGION)
    patterns = {
        "NoMfa": '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }',
        "Cmk": "{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || "
        "($.eventName = ScheduleKeyDeletion)) }",
    }
    for name, pattern in patterns.items():
        logs.put_metric_filter(
            logGroupName="trail",
            filterName=name,
            filterPattern=pattern,
            metricTransformations=[
                {"metricName": name, "metricNamespace": "CIS", "metricValue": "1"}
            ],
        )
        cw.put_metric_alarm(
            AlarmName=name,
            MetricName=name,
            Namespace="CIS",
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            AlarmActions=["arn:aws:sns:us-east-1:123456789012:alerts"],
        )
    assert statuses("cloudwatch_alarm_signin_without_mfa") == {Status.PASS}
    assert statuses("cloudwatch_alarm_cmk_disable_or_deletion") == {Status.PASS}
    assert statuses("cloudwatch_alarm_root_usage") == {Status.FAIL}
    assert statuses("cloudtrail_s3_data_events_enabled") == {Status.FAIL}


def test_ineligible_service_is_reported(moto_reset: str) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    ec2.create_volume(
        AvailabilityZone=f"{REGION}a",
        Size=1,
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "app", "Value": "x"}]}],
    )
    assert statuses("account_only_hipaa_eligible_services") == {Status.PASS}
    narrowed = scan("account_only_hipaa_eligible_services", eligible_services=frozenset({"s3"}))
    [result] = narrowed.results
    assert result.status is Status.FAIL and "ec2 is not HIPAA-eligible" in result.message
    assert result.resource_arn.startswith("arn:aws:ec2:")


def test_backup_plan_without_selection_api_is_an_error_naming_the_api(moto_reset: str) -> None:
    """moto has no ListBackupSelections: the check must say so, not pass or vanish."""
    assert statuses("backup_plan_exists") == {Status.FAIL}
    boto3.client("backup", region_name=REGION).create_backup_plan(
        BackupPlan={
            "BackupPlanName": "p",
            "Rules": [{"RuleName": "r", "TargetBackupVaultName": "v"}],
        }
    )
    [result] = scan("backup_plan_exists", max_attempts=2).results
    if result.status is Status.ERROR:
        assert "ListBackupSelections" in result.message
    else:  # a moto that implements it: a plan without selections selects nothing
        assert result.status is Status.FAIL and "selects no resources" in result.message


def test_inspector_status_is_pass_fail_or_named_error(moto_reset: str) -> None:
    [result] = scan("inspector2_enabled").results
    assert result.status in {Status.FAIL, Status.ERROR}
    if result.status is Status.ERROR:
        assert "BatchGetAccountStatus" in result.message
    client = boto3.client("inspector2", region_name=REGION)
    client.enable(accountIds=["123456789012"], resourceTypes=["EC2", "ECR", "LAMBDA"])
    assert statuses("inspector2_enabled") == {Status.PASS}


def test_secret_rotation_fails_without_rotation(moto_reset: str) -> None:
    boto3.client("secretsmanager", region_name=REGION).create_secret(Name="s", SecretString="v")
    assert statuses("secretsmanager_rotation_enabled") == {Status.FAIL}


def test_root_checks_on_a_fresh_account(moto_reset: str) -> None:
    assert statuses("iam_root_mfa_enabled") == {Status.FAIL}
    assert statuses("iam_root_hardware_mfa_enabled") == {Status.FAIL}
    assert statuses("iam_root_no_access_keys") == {Status.PASS}


# --- rules moto cannot reach: old credentials, hardware MFA, policy shapes ---------------------


def _row(**kw: str) -> dict[str, str]:
    base = {
        "user": "u",
        "arn": "arn:aws:iam::1:user/u",
        "password_enabled": "false",
        "password_last_used": "N/A",
        "password_last_changed": "N/A",
        "access_key_1_active": "false",
        "access_key_1_last_rotated": "N/A",
        "access_key_1_last_used_date": "N/A",
    }
    return {**base, **kw}


def test_unused_and_rotation_rules() -> None:
    old = (datetime.now(UTC) - timedelta(days=200)).isoformat()
    recent = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    assert iam_checks._unused(
        _row(access_key_1_active="true", access_key_1_last_rotated=old),
        "access_key_1_active",
        "access_key_1_last_used_date",
        "access_key_1_last_rotated",
    )
    assert not iam_checks._unused(
        _row(
            access_key_1_active="true",
            access_key_1_last_rotated=old,
            access_key_1_last_used_date=recent,
        ),
        "access_key_1_active",
        "access_key_1_last_used_date",
        "access_key_1_last_rotated",
    )
    assert iam_checks._unused(
        _row(password_enabled="true", password_last_used=old),
        "password_enabled",
        "password_last_used",
        "password_last_changed",
    )


def test_policy_shape_rules() -> None:
    assert is_admin_statement({"Effect": "Allow", "Action": ["*"], "Resource": "*"})
    assert is_admin_statement({"Effect": "Allow", "Action": "*:*", "Resource": ["*"]})
    assert not is_admin_statement({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    assert not is_admin_statement({"Effect": "Deny", "Action": "*", "Resource": "*"})
    assert is_public_principal({"Effect": "Allow", "Principal": {"AWS": ["*"]}})
    assert not is_public_principal(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}},
        }
    )
    assert policy_doc("%7B%22Statement%22%3A%5B%5D%7D") == {"Statement": []}
    assert policy_doc(json.dumps({"a": 1})) == {"a": 1}


def test_port_and_selector_rules() -> None:
    anywhere = {"IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    assert _open_ports({"IpProtocol": "-1", **anywhere}, {22: "SSH"}) == ["SSH (22)"]
    assert _open_ports(
        {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, **anywhere}, {22: "SSH"}
    )
    assert not _open_ports(
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, **anywhere}, {22: "SSH"}
    )
    assert not _open_ports(
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
        {22: "SSH"},
    )
    adv = {
        "AdvancedEventSelectors": [
            {
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                ]
            }
        ]
    }
    assert _has_s3_data_events(adv)
    assert not _has_s3_data_events({"EventSelectors": [{"DataResources": []}]})


def test_multi_region_scan_labels_regions_and_runs_global_checks_once(moto_reset: str) -> None:
    boto3.client("ec2", region_name="us-west-2").create_volume(
        AvailabilityZone="us-west-2a", Size=1, Encrypted=False
    )
    from phiward.cloud import ScanOptions, run_scan

    report = run_scan(
        ScanOptions(
            regions=("us-east-1", "us-west-2"),
            checks=("ec2_ebs_volume_encrypted", "iam_root_no_access_keys"),
        )
    )
    by = {(r.check_id, r.region): r.status for r in report.results}
    assert by == {
        ("ec2_ebs_volume_encrypted", "us-east-1"): Status.NOT_APPLICABLE,
        ("ec2_ebs_volume_encrypted", "us-west-2"): Status.FAIL,
        ("iam_root_no_access_keys", "global"): Status.PASS,
    }
    assert report.regions == ("us-east-1", "us-west-2")


def test_enabled_regions_are_discovered_when_none_given(moto_reset: str) -> None:
    from phiward.cloud import ScanOptions, run_scan

    report = run_scan(ScanOptions(checks=("ec2_ebs_default_encryption",)))
    assert "us-east-1" in report.regions and len(report.regions) > 1
    assert {r.region for r in report.results} == set(report.regions)
    assert report.api_calls["ec2:DescribeRegions"] == 1


def test_clients_are_cached_then_released_per_region(moto_reset: str) -> None:
    from phiward.cloud.context import ScanContext

    ctx = ScanContext(boto3.Session(), home_region=REGION, regions=(REGION, "eu-west-1"))
    first = ctx.client("ec2", "eu-west-1")
    assert ctx.client("ec2", "eu-west-1") is first
    ctx.paginate("ec2", "eu-west-1", "describe_volumes", "Volumes")
    ctx.release_region("eu-west-1")
    assert ctx.client("ec2", "eu-west-1") is not first
    assert first.meta.config.retries["mode"] == "adaptive"


# --- account states moto cannot create, judged by the real check code ---------------------------
# The credential report and account summary are memoised per scan; seeding the memo with what AWS
# returns for such an account runs the unchanged check functions on it.


def _ctx_with(**memo: object) -> ScanContext:
    ctx = ScanContext(boto3.Session(), home_region=REGION, regions=(REGION,), account_id="1" * 12)
    for key, value in memo.items():
        ctx.memo(("iam", key), lambda value=value: value)
    return ctx


def _run(ctx: ScanContext, check: str) -> list[tuple[Status, str]]:
    return [(r.status, r.resource_id) for r in run_check(ctx, get_check(check), REGION)]


def test_root_mfa_pass_and_root_keys_fail(moto_reset: str) -> None:
    ctx = _ctx_with(summary={"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 1})
    assert _run(ctx, "iam_root_mfa_enabled") == [(Status.PASS, "root")]
    assert _run(ctx, "iam_root_no_access_keys") == [(Status.FAIL, "root")]
    assert _run(ctx, "iam_root_hardware_mfa_enabled") == [(Status.PASS, "root")]
    boto3.client("iam").create_virtual_mfa_device(VirtualMFADeviceName="root-account-mfa-device")
    fresh = _ctx_with(summary={"AccountMFAEnabled": 1})  # answers are memoised per scan
    assert _run(fresh, "iam_root_hardware_mfa_enabled") == [(Status.FAIL, "root")]


def test_old_keys_and_unused_credentials_fail(moto_reset: str) -> None:
    old = (datetime.now(UTC) - timedelta(days=200)).isoformat()
    recent = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    rows = [
        _row(user="stale", access_key_1_active="true", access_key_1_last_rotated=old),
        _row(
            user="fresh",
            access_key_1_active="true",
            access_key_1_last_rotated=recent,
            access_key_1_last_used_date=recent,
        ),
    ]
    ctx = _ctx_with(credential_report=rows)
    assert _run(ctx, "iam_access_key_rotated_90_days") == [
        (Status.FAIL, "stale/key1"),
        (Status.PASS, "fresh/key1"),
    ]
    assert _run(ctx, "iam_user_unused_credentials") == [
        (Status.FAIL, "stale"),
        (Status.PASS, "fresh"),
    ]
