"""Audit and monitoring: CloudTrail, AWS Config, GuardDuty, Inspector, Security Hub, alarms."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from phiward.cloud.checks._util import error_code
from phiward.cloud.context import ScanContext
from phiward.cloud.model import Severity
from phiward.cloud.registry import Verdict, bad, check, ok

SIX_YEARS_DAYS = 2192


def all_trails(ctx: ScanContext) -> list[dict[str, Any]]:
    """Every trail the account has (shadow trails included), with its logging status."""

    def fetch() -> list[dict[str, Any]]:
        out = []
        trails = ctx.client("cloudtrail").describe_trails(includeShadowTrails=True)["trailList"]
        for trail in trails:
            home = trail.get("HomeRegion", ctx.home_region)
            status = ctx.client("cloudtrail", home).get_trail_status(Name=trail["TrailARN"])
            out.append({**trail, "_logging": bool(status.get("IsLogging"))})
        return out

    return ctx.memo(("cloudtrail", "all"), fetch)


def regional_trails(ctx: ScanContext, region: str) -> list[dict[str, Any]]:
    """Trails whose home is ``region`` (so each trail is judged once)."""
    return [t for t in all_trails(ctx) if t.get("HomeRegion", ctx.home_region) == region]


@check(
    id="cloudtrail_multi_region_enabled",
    title="A multi-region CloudTrail trail is logging",
    service="cloudtrail",
    severity=Severity.CRITICAL,
    sections=("164.312(b)", "164.308(a)(1)(ii)(D)", "164.308(a)(5)(ii)(C)"),
    practice="NIST SP 800-53 AU-2, AU-12",
    rationale="Audit controls: without an account-wide trail there is no record of who read, "
    "changed or deleted PHI resources in any region.",
    console="CloudTrail > Trails > Create trail > apply to all regions; make sure Logging is on.",
    cli="aws cloudtrail create-trail --name org-trail --s3-bucket-name BUCKET "
    "--is-multi-region-trail --enable-log-file-validation --kms-key-id KEY && "
    "aws cloudtrail start-logging --name org-trail",
    terraform='resource "aws_cloudtrail" "this" {\n  name = "org-trail"\n'
    "  s3_bucket_name = aws_s3_bucket.audit.id\n  is_multi_region_trail = true\n"
    "  enable_log_file_validation = true\n  kms_key_id = aws_kms_key.audit.arn\n}",
    resource_type="AwsCloudTrailTrail",
    empty="no trails",
    regional=False,
    apis=("cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus"),
)
def trail_multi_region(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    good = [t for t in all_trails(ctx) if t.get("IsMultiRegionTrail") and t["_logging"]]
    if good:
        return [ok(t["Name"], "multi-region trail is logging", t["TrailARN"]) for t in good]
    return [bad("cloudtrail", "no multi-region trail is logging")]


def _per_trail(ctx: ScanContext, region: str, test: str, passed: str, failed: str) -> list[Verdict]:
    out = []
    for trail in regional_trails(ctx, region):
        if trail.get(test):
            out.append(ok(trail["Name"], passed, trail["TrailARN"]))
        else:
            out.append(bad(trail["Name"], failed, trail["TrailARN"]))
    return out


@check(
    id="cloudtrail_log_file_validation_enabled",
    title="CloudTrail log file integrity validation is on",
    service="cloudtrail",
    severity=Severity.MEDIUM,
    sections=("164.312(c)(1)", "164.312(c)(2)", "164.312(b)"),
    practice="NIST SP 800-53 AU-9",
    rationale="Digest files prove the audit trail was not altered or deleted after delivery.",
    console="CloudTrail > Trails > (trail) > Edit > Log file validation: Enabled.",
    cli="aws cloudtrail update-trail --name TRAIL --enable-log-file-validation",
    resource_type="AwsCloudTrailTrail",
    empty="no trails homed in this region",
    apis=("cloudtrail:DescribeTrails",),
)
def trail_validation(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    return _per_trail(
        ctx, region, "LogFileValidationEnabled", "log file validation on", "validation off"
    )


@check(
    id="cloudtrail_kms_encryption_enabled",
    title="CloudTrail logs are encrypted with a KMS key",
    service="cloudtrail",
    severity=Severity.MEDIUM,
    sections=("164.312(a)(2)(iv)", "164.312(b)"),
    practice="NIST SP 800-53 AU-9(3), SC-28",
    rationale="Trail logs name resources and principals; SSE-KMS adds a key policy and an audit "
    "record for every read of them.",
    console="CloudTrail > Trails > (trail) > Edit > Log file SSE-KMS encryption: Enabled.",
    cli="aws cloudtrail update-trail --name TRAIL --kms-key-id KEY_ARN",
    resource_type="AwsCloudTrailTrail",
    empty="no trails homed in this region",
    apis=("cloudtrail:DescribeTrails",),
)
def trail_kms(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    return _per_trail(ctx, region, "KmsKeyId", "encrypted with KMS", "not encrypted with KMS")


@check(
    id="cloudtrail_cloudwatch_logs_enabled",
    title="CloudTrail delivers to CloudWatch Logs",
    service="cloudtrail",
    severity=Severity.MEDIUM,
    sections=("164.308(a)(1)(ii)(D)", "164.312(b)", "164.308(a)(6)(ii)"),
    practice="NIST SP 800-53 AU-6, SI-4",
    rationale="Information system activity review needs events where alarms can watch them in "
    "near real time, not only in an S3 bucket.",
    console="CloudTrail > Trails > (trail) > CloudWatch Logs > Edit > Enabled.",
    cli="aws cloudtrail update-trail --name TRAIL --cloud-watch-logs-log-group-arn ARN "
    "--cloud-watch-logs-role-arn ROLE",
    resource_type="AwsCloudTrailTrail",
    empty="no trails homed in this region",
    apis=("cloudtrail:DescribeTrails",),
)
def trail_cw(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    return _per_trail(
        ctx, region, "CloudWatchLogsLogGroupArn", "sends to CloudWatch Logs", "no CloudWatch Logs"
    )


def _has_s3_data_events(selectors: dict[str, Any]) -> bool:
    for sel in selectors.get("EventSelectors") or []:
        for res in sel.get("DataResources") or []:
            if res.get("Type") == "AWS::S3::Object":
                return True
    for adv in selectors.get("AdvancedEventSelectors") or []:
        fields = {f.get("Field"): f.get("Equals") or [] for f in adv.get("FieldSelectors", [])}
        if "Data" in fields.get("eventCategory", []) and "AWS::S3::Object" in fields.get(
            "resources.type", []
        ):
            return True
    return False


@check(
    id="cloudtrail_s3_data_events_enabled",
    title="A logging trail records S3 object-level (data) events",
    service="cloudtrail",
    severity=Severity.MEDIUM,
    sections=("164.312(b)", "164.308(a)(1)(ii)(D)"),
    practice="NIST SP 800-53 AU-2",
    rationale="Management events do not show who downloaded a PHI object; data events do.",
    console="CloudTrail > Trails > (trail) > Data events > Add S3, all current and future buckets.",
    cli="aws cloudtrail put-event-selectors --trail-name TRAIL --event-selectors "
    '\'[{"ReadWriteType":"All","DataResources":[{"Type":"AWS::S3::Object","Values":'
    '["arn:aws:s3"]}]}]\'',
    resource_type="AwsCloudTrailTrail",
    empty="no trails",
    regional=False,
    apis=("cloudtrail:DescribeTrails", "cloudtrail:GetEventSelectors"),
)
def trail_data_events(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    trails = [t for t in all_trails(ctx) if t["_logging"]]
    if not trails:
        return [bad("cloudtrail", "no logging trail, so no S3 data events")]
    for trail in trails:
        client = ctx.client("cloudtrail", trail.get("HomeRegion", ctx.home_region))
        if _has_s3_data_events(client.get_event_selectors(TrailName=trail["TrailARN"])):
            return [ok(trail["Name"], "records S3 data events", trail["TrailARN"])]
    return [bad("cloudtrail", "no logging trail records S3 data events")]


@check(
    id="config_recorder_enabled",
    title="AWS Config records all resource types",
    service="config",
    severity=Severity.MEDIUM,
    sections=("164.308(a)(1)(ii)(A)", "164.308(a)(8)", "164.312(b)"),
    practice="NIST SP 800-53 CM-8, CM-3",
    rationale="Risk analysis and evaluation need an inventory and a history of configuration "
    "changes to the systems holding PHI.",
    console="AWS Config > Settings > Recording: all resource types, recorder on.",
    cli="aws configservice put-configuration-recorder --configuration-recorder "
    "name=default,roleARN=ROLE --recording-group allSupported=true && "
    "aws configservice start-configuration-recorder --configuration-recorder-name default",
    resource_type="AwsConfigRecorder",
    empty="no configuration recorder",
    apis=(
        "config:DescribeConfigurationRecorders",
        "config:DescribeConfigurationRecorderStatus",
    ),
)
def config_recorder(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    client = ctx.client("config", region)
    recorders = client.describe_configuration_recorders().get("ConfigurationRecorders", [])
    if not recorders:
        return [bad(f"config/{region}", "no configuration recorder in this region")]
    statuses = {
        s["name"]: s
        for s in client.describe_configuration_recorder_status().get(
            "ConfigurationRecordersStatus", []
        )
    }
    out = []
    for rec in recorders:
        recording = statuses.get(rec["name"], {}).get("recording", False)
        all_types = rec.get("recordingGroup", {}).get("allSupported", False)
        if recording and all_types:
            out.append(ok(rec["name"], "recording all resource types"))
        else:
            why = "not recording" if not recording else "not all resource types"
            out.append(bad(rec["name"], why))
    return out


@check(
    id="guardduty_enabled",
    title="GuardDuty is enabled",
    service="guardduty",
    severity=Severity.HIGH,
    sections=("164.308(a)(5)(ii)(B)", "164.308(a)(6)(i)", "164.308(a)(1)(ii)(D)"),
    practice="NIST SP 800-53 SI-4",
    rationale="Protection from malicious software and incident detection: GuardDuty flags "
    "credential misuse, crypto-mining and exfiltration from PHI stores.",
    console="GuardDuty > Get started > Enable GuardDuty (in every region).",
    cli="aws guardduty create-detector --enable",
    terraform='resource "aws_guardduty_detector" "this" { enable = true }',
    resource_type="AwsGuardDutyDetector",
    empty="no detector",
    apis=("guardduty:ListDetectors", "guardduty:GetDetector"),
)
def guardduty(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    client = ctx.client("guardduty", region)
    ids = client.list_detectors().get("DetectorIds", [])
    if not ids:
        return [bad(f"guardduty/{region}", "GuardDuty is not enabled in this region")]
    out = []
    for det in ids:
        if client.get_detector(DetectorId=det).get("Status") == "ENABLED":
            out.append(ok(det, "detector enabled"))
        else:
            out.append(bad(det, "detector suspended"))
    return out


@check(
    id="inspector2_enabled",
    title="Amazon Inspector scans EC2, ECR and Lambda",
    service="inspector2",
    severity=Severity.MEDIUM,
    sections=("164.308(a)(1)(ii)(A)", "164.308(a)(1)(ii)(B)", "164.308(a)(5)(ii)(B)"),
    practice="NIST SP 800-53 RA-5",
    rationale="Risk analysis includes knowing which workloads run software with known "
    "vulnerabilities.",
    console="Amazon Inspector > Get started > Activate Inspector.",
    cli="aws inspector2 enable --resource-types EC2 ECR LAMBDA",
    resource_type="AwsAccount",
    empty="no account status",
    apis=("inspector2:BatchGetAccountStatus",),
)
def inspector(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    answer = ctx.client("inspector2", region).batch_get_account_status(accountIds=[ctx.account_id])
    out = []
    for acct in answer.get("accounts", []):
        status = acct.get("state", {}).get("status")
        if status == "ENABLED":
            out.append(ok(f"inspector/{region}", "Inspector enabled"))
        else:
            out.append(bad(f"inspector/{region}", f"Inspector status {status}"))
    if not out:
        out.append(bad(f"inspector/{region}", "Inspector is not enabled"))
    return out


@check(
    id="securityhub_enabled",
    title="Security Hub is enabled",
    service="securityhub",
    severity=Severity.MEDIUM,
    sections=("164.308(a)(1)(ii)(A)", "164.308(a)(6)(i)", "164.308(a)(8)"),
    practice="NIST SP 800-53 CA-7",
    rationale="Evaluation and incident procedures need one place where security findings are "
    "collected, prioritised and tracked.",
    console="Security Hub > Go to Security Hub > Enable Security Hub.",
    cli="aws securityhub enable-security-hub",
    resource_type="AwsSecurityHubHub",
    empty="no hub",
    apis=("securityhub:DescribeHub",),
)
def securityhub(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    try:
        hub = ctx.client("securityhub", region).describe_hub()
    except ClientError as exc:
        if error_code(exc) in {"InvalidAccessException", "ResourceNotFoundException"}:
            return [bad(f"securityhub/{region}", "Security Hub is not enabled")]
        raise
    return [ok(hub.get("HubArn", f"securityhub/{region}"), "Security Hub enabled")]


# --- CloudWatch alarms on CloudTrail metric filters (CIS AWS Foundations, section "Monitoring") --

ALARM_PATTERNS: dict[str, tuple[str, ...]] = {
    "root": ('$.userIdentity.type="Root"', "$.userIdentity.invokedByNOTEXISTS"),
    "unauthorized": ("UnauthorizedOperation", "AccessDenied"),
    "no_mfa": ('$.eventName="ConsoleLogin"', '$.additionalEventData.MFAUsed!="Yes"'),
    "cmk": ("kms.amazonaws.com", "DisableKey", "ScheduleKeyDeletion"),
}


def _norm(pattern: str) -> str:
    return re.sub(r"\s+", "", pattern)


def _alarmed_patterns(ctx: ScanContext) -> list[tuple[str, str]]:
    """(trail name, normalised filter pattern) for each metric filter that has an alarm."""

    def fetch() -> list[tuple[str, str]]:
        out = []
        for trail in all_trails(ctx):
            group_arn = trail.get("CloudWatchLogsLogGroupArn")
            if not trail["_logging"] or not group_arn:
                continue
            parts = group_arn.split(":")
            region, group = parts[3], parts[6]
            logs = ctx.client("logs", region)
            filters = logs.describe_metric_filters(logGroupName=group).get("metricFilters", [])
            alarms = ctx.paginate("cloudwatch", region, "describe_alarms", "MetricAlarms")
            alarmed = {
                (a.get("MetricName"), a.get("Namespace")) for a in alarms if a.get("AlarmActions")
            }
            for flt in filters:
                for tr in flt.get("metricTransformations", []):
                    if (tr.get("metricName"), tr.get("metricNamespace")) in alarmed:
                        out.append((trail["Name"], _norm(flt.get("filterPattern", ""))))
        return out

    return ctx.memo(("cloudwatch", "alarmed"), fetch)


def _alarm_check(ctx: ScanContext, kind: str, what: str) -> list[Verdict]:
    needles = ALARM_PATTERNS[kind]
    for trail, pattern in _alarmed_patterns(ctx):
        if all(n in pattern for n in needles):
            return [ok(trail, f"metric filter and alarm for {what}")]
    return [bad("cloudwatch", f"no metric filter with an alarm (and action) for {what}")]


_ALARM_APIS = (
    "cloudtrail:DescribeTrails",
    "cloudtrail:GetTrailStatus",
    "logs:DescribeMetricFilters",
    "cloudwatch:DescribeAlarms",
)
_ALARM_CONSOLE = (
    "CloudWatch > Log groups > (CloudTrail group) > Metric filters > Create metric filter with "
    "the CIS pattern; then Create alarm on the metric with an SNS action."
)


@check(
    id="cloudwatch_alarm_root_usage",
    title="An alarm fires when the root user is used",
    service="cloudwatch",
    severity=Severity.HIGH,
    sections=("164.308(a)(1)(ii)(D)", "164.308(a)(6)(ii)", "164.312(b)"),
    practice="CIS AWS Foundations (monitoring: root account usage); NIST SP 800-53 AU-6",
    rationale="Root use should be rare and deliberate; an unannounced root sign-in is an incident.",
    console=_ALARM_CONSOLE,
    cli="aws logs put-metric-filter --log-group-name GROUP --filter-name root-usage "
    "--metric-transformations metricName=RootUsage,metricNamespace=CIS,metricValue=1 "
    '--filter-pattern \'{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
    '&& $.eventType != "AwsServiceEvent" }\'',
    resource_type="AwsCloudWatchAlarm",
    empty="no trails",
    regional=False,
    apis=_ALARM_APIS,
)
def alarm_root(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    return _alarm_check(ctx, "root", "root user activity")


@check(
    id="cloudwatch_alarm_unauthorized_api_calls",
    title="An alarm fires on unauthorized API calls",
    service="cloudwatch",
    severity=Severity.MEDIUM,
    sections=("164.308(a)(5)(ii)(C)", "164.308(a)(6)(ii)", "164.312(b)"),
    practice="CIS AWS Foundations (monitoring: unauthorized API calls); NIST SP 800-53 AU-6",
    rationale="A burst of AccessDenied is how probing with stolen credentials looks.",
    console=_ALARM_CONSOLE,
    cli="aws logs put-metric-filter --log-group-name GROUP --filter-name unauthorized "
    "--metric-transformations metricName=Unauthorized,metricNamespace=CIS,metricValue=1 "
    '--filter-pattern \'{ ($.errorCode = "*UnauthorizedOperation") || '
    '($.errorCode = "AccessDenied*") }\'',
    resource_type="AwsCloudWatchAlarm",
    empty="no trails",
    regional=False,
    apis=_ALARM_APIS,
)
def alarm_unauthorized(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    return _alarm_check(ctx, "unauthorized", "unauthorized API calls")


@check(
    id="cloudwatch_alarm_signin_without_mfa",
    title="An alarm fires on console sign-in without MFA",
    service="cloudwatch",
    severity=Severity.MEDIUM,
    sections=("164.308(a)(5)(ii)(C)", "164.312(d)"),
    practice="CIS AWS Foundations (monitoring: console sign-in without MFA); NIST SP 800-53 AC-7",
    rationale="Log-in monitoring: sign-ins that skipped MFA are the weakest way into the console.",
    console=_ALARM_CONSOLE,
    cli="aws logs put-metric-filter --log-group-name GROUP --filter-name no-mfa "
    "--metric-transformations metricName=NoMfaSignin,metricNamespace=CIS,metricValue=1 "
    '--filter-pattern \'{ ($.eventName = "ConsoleLogin") && '
    '($.additionalEventData.MFAUsed != "Yes") }\'',
    resource_type="AwsCloudWatchAlarm",
    empty="no trails",
    regional=False,
    apis=_ALARM_APIS,
)
def alarm_no_mfa(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    return _alarm_check(ctx, "no_mfa", "console sign-in without MFA")


@check(
    id="cloudwatch_alarm_cmk_disable_or_deletion",
    title="An alarm fires when a KMS key is disabled or scheduled for deletion",
    service="cloudwatch",
    severity=Severity.MEDIUM,
    sections=("164.308(a)(6)(ii)", "164.312(a)(2)(iv)"),
    practice="CIS AWS Foundations (monitoring: CMK disable/deletion); NIST SP 800-53 SC-12",
    rationale="Disabling or deleting the key makes every PHI record it protects unreadable.",
    console=_ALARM_CONSOLE,
    cli="aws logs put-metric-filter --log-group-name GROUP --filter-name cmk "
    "--metric-transformations metricName=CmkChange,metricNamespace=CIS,metricValue=1 "
    "--filter-pattern '{ ($.eventSource = kms.amazonaws.com) && "
    "(($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }'",
    resource_type="AwsCloudWatchAlarm",
    empty="no trails",
    regional=False,
    apis=_ALARM_APIS,
)
def alarm_cmk(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    return _alarm_check(ctx, "cmk", "KMS key disable/deletion")


@check(
    id="logs_retention_six_years",
    title="CloudWatch log groups keep events for at least six years",
    service="logs",
    severity=Severity.LOW,
    sections=("164.316(b)(2)(i)", "164.312(b)"),
    practice="NIST SP 800-53 AU-11",
    rationale="HIPAA documentation must be kept six years; audit logs that back it up should "
    "not expire sooner (or must be exported to a store that keeps them).",
    console="CloudWatch > Log groups > (group) > Actions > Edit retention > 6 years or Never.",
    cli="aws logs put-retention-policy --log-group-name GROUP --retention-in-days 2192",
    resource_type="AwsLogsLogGroup",
    empty="no log groups",
    apis=("logs:DescribeLogGroups",),
)
def logs_retention(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    out = []
    for group in ctx.paginate("logs", region, "describe_log_groups", "logGroups"):
        days = group.get("retentionInDays")
        name, arn = group["logGroupName"], group.get("arn", "")
        if days is None or int(days) >= SIX_YEARS_DAYS:
            out.append(ok(name, f"retention {days or 'never expires'}", arn))
        else:
            out.append(bad(name, f"retention only {days} days", arn))
    return out
