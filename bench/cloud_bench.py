"""phiward check aws vs Prowler (``prowler aws --compliance hipaa_aws``) on one seeded moto account.

Usage (Prowler lives in its own venv, never in phiward's)::

    python3 -m venv /tmp/prowler-venv && /tmp/prowler-venv/bin/pip install prowler
    .venv/bin/python bench/cloud_bench.py --prowler /tmp/prowler-venv/bin/prowler

Both tools run as child processes against the same moto server (started here, seeded with
``tests/cloud/seed.py``) through ``AWS_ENDPOINT_URL``, limited to the seeded region. Reported: wall
time, peak RSS of each child (``wait4`` rusage), requirements reported, and which planted problems
each tool flags (a Prowler FAIL of the corresponding Prowler check on the planted resource).
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TIME = "/usr/bin/time"  # GNU time (Debian package "time")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.cloud.seed import ACCOUNT, PLANTED, REGION, seed  # noqa: E402

#: phiward check -> the Prowler checks (5.x ids) that look for the same problem.
PROWLER_EQUIVALENT: dict[str, tuple[str, ...]] = {
    "iam_user_mfa_enabled_console": ("iam_user_mfa_enabled_console_access",),
    "iam_password_policy_strong": (
        "iam_password_policy_minimum_length_14",
        "iam_password_policy_reuse_24",
        "iam_password_policy_symbol",
    ),
    "iam_root_mfa_enabled": ("iam_root_mfa_enabled",),
    "iam_no_custom_policy_admin_wildcard": (
        "iam_customer_attached_policy_no_administrative_privileges",
        "iam_customer_unattached_policy_no_administrative_privileges",
    ),
    "iam_no_inline_admin_policy": ("iam_inline_policy_no_administrative_privileges",),
    "cloudtrail_log_file_validation_enabled": ("cloudtrail_log_file_validation_enabled",),
    "cloudtrail_kms_encryption_enabled": ("cloudtrail_kms_encryption_enabled",),
    "cloudtrail_cloudwatch_logs_enabled": ("cloudtrail_cloudwatch_logging_enabled",),
    "s3_audit_bucket_object_lock": ("cloudtrail_bucket_requires_mfa_delete",),
    "cloudwatch_alarm_signin_without_mfa": ("cloudwatch_log_metric_filter_sign_in_without_mfa",),
    "cloudwatch_alarm_cmk_disable_or_deletion": (
        "cloudwatch_log_metric_filter_disable_or_scheduled_deletion_of_kms_cmk",
    ),
    "config_recorder_enabled": ("config_recorder_all_regions_enabled",),
    "securityhub_enabled": ("securityhub_enabled",),
    "kms_cmk_rotation_enabled": ("kms_cmk_rotation_enabled",),
    "kms_key_policy_not_public": ("kms_key_not_publicly_accessible",),
    "kms_cmk_not_pending_deletion": ("kms_cmk_not_deleted_unintentionally",),
    "s3_bucket_default_encryption_kms": (
        "s3_bucket_default_encryption",
        "s3_bucket_kms_encryption",
    ),
    "s3_bucket_secure_transport_policy": ("s3_bucket_secure_transport_policy",),
    "s3_bucket_public_access_block": (
        "s3_bucket_public_access",
        "s3_bucket_level_public_access_block",
    ),
    "s3_account_public_access_block": ("s3_account_level_public_access_blocks",),
    "s3_bucket_versioning_enabled": ("s3_bucket_object_versioning",),
    "s3_bucket_access_logging_enabled": ("s3_bucket_server_access_logging_enabled",),
    "ec2_ebs_volume_encrypted": ("ec2_ebs_volume_encryption",),
    "ec2_ebs_default_encryption": ("ec2_ebs_default_encryption",),
    "rds_instance_storage_encrypted": ("rds_instance_storage_encrypted",),
    "rds_instance_backup_enabled": ("rds_instance_backup_enabled",),
    "rds_instance_not_publicly_accessible": ("rds_instance_no_public_access",),
    "rds_instance_tls_enforced": ("rds_instance_transport_encrypted",),
    "dynamodb_table_cmk_encryption": ("dynamodb_tables_kms_cmk_encryption_enabled",),
    "dynamodb_table_pitr_enabled": ("dynamodb_tables_pitr_enabled",),
    "efs_file_system_encrypted": ("efs_encryption_at_rest_enabled",),
    "sns_topic_encrypted": ("sns_topics_kms_encryption_at_rest_enabled",),
    "sqs_queue_encrypted": ("sqs_queues_server_side_encryption_enabled",),
    "logs_log_group_kms_encrypted": ("cloudwatch_log_group_kms_encryption_enabled",),
    "logs_retention_six_years": ("cloudwatch_log_group_retention_policy_specific_days_enabled",),
    "secretsmanager_secret_cmk_encrypted": ("secretsmanager_secret_encrypted_with_cmk",),
    "secretsmanager_rotation_enabled": ("secretsmanager_automatic_rotation_enabled",),
    "backup_plan_exists": ("backup_plans_exist",),
    "ec2_sg_no_admin_ports_open_to_internet": (
        "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22",
        "ec2_securitygroup_allow_ingress_from_internet_to_port_22",
    ),
    "ec2_sg_no_database_ports_open_to_internet": (
        "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_postgres_5432",
    ),
    "ec2_default_sg_restricts_all_traffic": ("ec2_securitygroup_default_restrict_traffic",),
    "vpc_flow_logs_enabled": ("vpc_flow_logs_enabled",),
    "ec2_nacl_no_admin_ports_open_to_internet": (
        "ec2_networkacl_allow_ingress_any_port",
        "ec2_networkacl_allow_ingress_tcp_port_22",
    ),
    "elbv2_listeners_use_tls": ("elb_ssl_listeners", "elbv2_ssl_listeners"),
    "elb_classic_listeners_use_tls": ("elb_ssl_listeners",),
    "elbv2_tls_policy_modern": ("elbv2_insecure_ssl_ciphers", "elb_insecure_ssl_ciphers"),
    "wafv2_internet_facing_alb_protected": ("elbv2_waf_acl_attached",),
    "cloudfront_viewer_https_only": ("cloudfront_distributions_https_enabled",),
    "acm_certificate_not_expiring": ("acm_certificates_expiration_check",),
    "apigateway_stage_waf_enabled": ("apigateway_restapi_waf_acl_attached",),
}

#: planted problems that are account- or region-wide: any FAIL of the equivalent check counts
ACCOUNT_WIDE = {
    "password-policy",
    "root",
    "config",
    "securityhub",
    ACCOUNT,
    "ebs-default",
    "cloudwatch",
    "backup/",
    "sg-",
    "acl-",
}


def run(cmd: list[str], env: dict[str, str], cwd: str) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MiB, exit code) of ``cmd``.

    Measured by GNU time around the command: ``wait4`` in this (large: moto + boto3) process
    would count the forked-but-not-yet-exec'd image of this process as the child's peak.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time") as stats:
        start = time.perf_counter()
        code = subprocess.call(
            [TIME, "-f", "%M", "-o", stats.name, *cmd],
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wall = time.perf_counter() - start
        rss_kib = int(Path(stats.name).read_text().split()[-1])
    return wall, rss_kib / 1024, code


def run_prowler(
    prowler: str, env: dict[str, str], pdir: Path, ids: dict[str, str]
) -> dict[str, object]:
    wall, rss, code = run(
        [
            prowler,
            "aws",
            "--compliance",
            "hipaa_aws",
            "-f",
            REGION,
            "-o",
            str(pdir),
            "--output-formats",
            "csv",
            "--no-banner",
        ],
        env,
        str(pdir.parent),
    )
    [findings_csv] = glob.glob(str(pdir / "prowler-output-*.csv"))
    [compliance_csv] = glob.glob(str(pdir / "compliance" / "*hipaa_aws.csv"))
    with open(findings_csv, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    with open(compliance_csv, newline="") as fh:
        comp = list(csv.DictReader(fh, delimiter=";"))
    [framework] = glob.glob(
        str(
            Path(prowler).resolve().parents[1]
            / "lib"
            / "python3*"
            / "site-packages"
            / "prowler"
            / "compliance"
            / "aws"
            / "hipaa_aws.json"
        )
    )
    fw_reqs = json.loads(Path(framework).read_text())["Requirements"]
    total = len(fw_reqs)
    in_framework = {c for r in fw_reqs for c in r["Checks"]}
    fails = [r for r in rows if r["STATUS"] == "FAIL"]

    def flagged(check: str, needle: str) -> bool:
        wanted = set(PROWLER_EQUIVALENT.get(check, ()))
        needle = ids.get(needle, needle)
        return any(
            r["CHECK_ID"] in wanted
            and (
                needle in ACCOUNT_WIDE
                or needle in r["RESOURCE_UID"]
                or needle in r["RESOURCE_NAME"]
            )
            for r in fails
        )

    found = [(c, s) for c, s in PLANTED if flagged(c, s)]

    def why(check: str) -> str:
        wanted = set(PROWLER_EQUIVALENT.get(check, ()))
        if not wanted & in_framework:
            return "no equivalent check in Prowler's hipaa_aws"
        ran = [r for r in rows if r["CHECK_ID"] in wanted]
        if not ran:
            return "equivalent check in hipaa_aws produced no result"
        return "equivalent check ran: " + ", ".join(sorted({r["STATUS"] for r in ran}))

    return {
        "prowler_wall_s": wall,
        "prowler_rss_mib": rss,
        "prowler_exit": code,
        "prowler_checks_run": len({r["CHECK_ID"] for r in rows}),
        "prowler_framework_requirements": total,
        "prowler_requirements_reported": len({r["REQUIREMENTS_ID"] for r in comp}),
        "prowler_planted_found": len(found),
        "prowler_missed": [(c, r, why(c)) for c, r in sorted(set(PLANTED) - set(found))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prowler", default="/tmp/prowler-venv/bin/prowler")
    parser.add_argument("--phiward", default=str(ROOT / ".venv" / "bin" / "phiward"))
    parser.add_argument("--repeat", type=int, default=3, help="phiward runs (median reported)")
    parser.add_argument("--skip-prowler", action="store_true")
    args = parser.parse_args()

    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }
    os.environ.update(env)
    ids = seed()
    work = tempfile.mkdtemp(prefix="cloud-bench-")
    try:
        # --- phiward -------------------------------------------------------------------------
        walls, rsss = [], []
        report_path = Path(work) / "phiward.json"
        for _ in range(args.repeat):
            wall, rss, code = run(
                [args.phiward, "check", "aws", "-r", REGION, "-f", "json", "-o", str(report_path)],
                env,
                work,
            )
            assert code in (0, 3), f"phiward exited {code}"
            walls.append(wall)
            rsss.append(rss)
        report = json.loads(report_path.read_text())
        ph_fail = [
            (r["check_id"], r["resource_id"], r["resource_arn"])
            for r in report["results"]
            if r["status"] == "FAIL"
        ]
        ph_found = [
            (c, s)
            for c, s in PLANTED
            if any(
                c == cid and (ids.get(s, s) in rid or ids.get(s, s) in arn)
                for cid, rid, arn in ph_fail
            )
        ]
        reqs = report["requirements"]
        out: dict[str, object] = {
            "phiward_wall_s": statistics.median(walls),
            "phiward_wall_all": walls,
            "phiward_rss_mib": max(rsss),
            "phiward_requirements": len(reqs),
            "phiward_requirements_automated": sum(1 for r in reqs if r["checks"]),
            "phiward_requirement_status": report["summary"]["requirements"],
            "phiward_checks": len(report["checks"]),
            "planted": len(PLANTED),
            "phiward_planted_found": len(ph_found),
            "phiward_missed": sorted(set(PLANTED) - set(ph_found)),
        }
        # --- Prowler -------------------------------------------------------------------------
        if not args.skip_prowler:
            out.update(run_prowler(args.prowler, env, Path(work) / "prowler", ids))
            out["ratio_wall"] = out["prowler_wall_s"] / out["phiward_wall_s"]  # type: ignore[operator]
            out["ratio_rss"] = out["prowler_rss_mib"] / out["phiward_rss_mib"]  # type: ignore[operator]
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
