"""Data at rest and backups: EBS, RDS, DynamoDB, EFS, SNS, SQS, CloudWatch Logs, Secrets Manager,
AWS Backup."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from phiward.cloud.context import ScanContext
from phiward.cloud.model import Severity
from phiward.cloud.registry import Verdict, bad, check, ok

ENC = ("164.312(a)(2)(iv)",)
MIN_BACKUP_DAYS = 7
_TLS_PARAMS = {"rds.force_ssl": "1", "require_secure_transport": "1"}


@check(
    id="ec2_ebs_volume_encrypted",
    title="EBS volumes are encrypted",
    service="ec2",
    severity=Severity.HIGH,
    sections=ENC,
    practice="NIST SP 800-53 SC-28",
    rationale="Encryption at rest of the disks that hold PHI databases and files, and of their "
    "snapshots.",
    console="EC2 > Volumes: snapshot the volume, copy the snapshot with encryption, create a new "
    "volume from it and swap it in.",
    cli="aws ec2 copy-snapshot --source-snapshot-id SNAP --source-region R --encrypted "
    "--kms-key-id KEY",
    resource_type="AwsEc2Volume",
    empty="no EBS volumes",
    apis=("ec2:DescribeVolumes",),
)
def ebs_volumes(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    out = []
    for vol in ctx.paginate("ec2", region, "describe_volumes", "Volumes"):
        arn = ctx.arn("ec2", region, f"volume/{vol['VolumeId']}")
        if vol.get("Encrypted"):
            out.append(ok(vol["VolumeId"], "volume encrypted", arn))
        else:
            out.append(bad(vol["VolumeId"], "volume not encrypted", arn))
    return out


@check(
    id="ec2_ebs_default_encryption",
    title="EBS encryption by default is on",
    service="ec2",
    severity=Severity.MEDIUM,
    sections=ENC,
    practice="NIST SP 800-53 SC-28",
    rationale="Default encryption makes every new volume encrypted, whoever creates it.",
    console="EC2 > Dashboard > Account attributes > Data protection and security > EBS "
    "encryption > Manage > Enable.",
    cli="aws ec2 enable-ebs-encryption-by-default --region REGION",
    terraform='resource "aws_ebs_encryption_by_default" "this" { enabled = true }',
    resource_type="AwsAccount",
    empty="no setting",
    apis=("ec2:GetEbsEncryptionByDefault",),
)
def ebs_default(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    on = ctx.client("ec2", region).get_ebs_encryption_by_default().get("EbsEncryptionByDefault")
    rid = f"ebs-default/{region}"
    return [ok(rid, "on")] if on else [bad(rid, "EBS encryption by default is off")]


def db_instances(ctx: ScanContext, region: str) -> list[dict[str, Any]]:
    return ctx.paginate("rds", region, "describe_db_instances", "DBInstances")


@check(
    id="rds_instance_storage_encrypted",
    title="RDS instances encrypt storage",
    service="rds",
    severity=Severity.HIGH,
    sections=ENC,
    practice="NIST SP 800-53 SC-28",
    rationale="Encryption at rest of the database, its automated backups, replicas and snapshots.",
    console="RDS: take a snapshot, copy it with encryption, restore a new instance from it.",
    cli="aws rds copy-db-snapshot --source-db-snapshot-identifier SNAP "
    "--target-db-snapshot-identifier SNAP-enc --kms-key-id KEY",
    resource_type="AwsRdsDbInstance",
    empty="no RDS instances",
    apis=("rds:DescribeDBInstances",),
)
def rds_encrypted(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    out = []
    for db in db_instances(ctx, region):
        name, arn = db["DBInstanceIdentifier"], db.get("DBInstanceArn", "")
        if db.get("StorageEncrypted"):
            out.append(ok(name, "storage encrypted", arn))
        else:
            out.append(bad(name, "storage not encrypted", arn))
    return out


@check(
    id="rds_instance_backup_enabled",
    title=f"RDS instances keep automated backups for {MIN_BACKUP_DAYS}+ days",
    service="rds",
    severity=Severity.MEDIUM,
    sections=("164.308(a)(7)(ii)(A)", "164.308(a)(7)(ii)(B)"),
    practice="NIST SP 800-53 CP-9",
    rationale="Data backup plan: point-in-time recovery of PHI needs automated backups kept long "
    "enough to notice a problem.",
    console="RDS > Databases > (instance) > Modify > Backup retention period >= 7 days.",
    cli="aws rds modify-db-instance --db-instance-identifier DB --backup-retention-period 7 "
    "--apply-immediately",
    resource_type="AwsRdsDbInstance",
    empty="no RDS instances",
    apis=("rds:DescribeDBInstances",),
)
def rds_backup(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    out = []
    for db in db_instances(ctx, region):
        days = int(db.get("BackupRetentionPeriod", 0))
        name, arn = db["DBInstanceIdentifier"], db.get("DBInstanceArn", "")
        if days >= MIN_BACKUP_DAYS:
            out.append(ok(name, f"backups kept {days} days", arn))
        else:
            out.append(bad(name, f"backups kept {days} days", arn))
    return out


@check(
    id="rds_instance_not_publicly_accessible",
    title="RDS instances are not publicly accessible",
    service="rds",
    severity=Severity.CRITICAL,
    sections=("164.312(a)(1)", "164.312(e)(1)", "164.308(a)(4)(i)"),
    practice="NIST SP 800-53 SC-7",
    rationale="A publicly accessible database has a public DNS name and IP; one security group "
    "edit away from the internet is not 'filtered'. It is reported whatever its groups say.",
    console="RDS > Databases > (instance) > Modify > Connectivity > Public access: Not publicly "
    "accessible.",
    cli="aws rds modify-db-instance --db-instance-identifier DB --no-publicly-accessible "
    "--apply-immediately",
    resource_type="AwsRdsDbInstance",
    empty="no RDS instances",
    apis=("rds:DescribeDBInstances",),
)
def rds_public(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    out = []
    for db in db_instances(ctx, region):
        name, arn = db["DBInstanceIdentifier"], db.get("DBInstanceArn", "")
        if db.get("PubliclyAccessible"):
            out.append(bad(name, "instance is publicly accessible", arn))
        else:
            out.append(ok(name, "not publicly accessible", arn))
    return out


@check(
    id="rds_instance_tls_enforced",
    title="RDS parameter groups force TLS connections",
    service="rds",
    severity=Severity.HIGH,
    sections=("164.312(e)(1)", "164.312(e)(2)(ii)"),
    practice="NIST SP 800-53 SC-8",
    rationale="Transmission security: without rds.force_ssl / require_secure_transport, clients "
    "may send PHI queries and results in clear text.",
    console="RDS > Parameter groups > (group) > Edit: rds.force_ssl = 1 (PostgreSQL, SQL Server) "
    "or require_secure_transport = 1 (MySQL, MariaDB); reboot.",
    cli="aws rds modify-db-parameter-group --db-parameter-group-name GROUP --parameters "
    "ParameterName=rds.force_ssl,ParameterValue=1,ApplyMethod=pending-reboot",
    resource_type="AwsRdsDbInstance",
    empty="no RDS instances",
    apis=("rds:DescribeDBInstances", "rds:DescribeDBParameters"),
)
def rds_tls(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    out = []
    for db in db_instances(ctx, region):
        name, arn = db["DBInstanceIdentifier"], db.get("DBInstanceArn", "")
        forced = False
        for grp in db.get("DBParameterGroups", []):
            params = ctx.paginate(
                "rds",
                region,
                "describe_db_parameters",
                "Parameters",
                DBParameterGroupName=grp["DBParameterGroupName"],
            )
            for p in params:
                want = _TLS_PARAMS.get(p.get("ParameterName", ""))
                if want is not None and str(p.get("ParameterValue", "")).upper() in {want, "ON"}:
                    forced = True
        if forced:
            out.append(ok(name, "parameter group forces TLS", arn))
        else:
            out.append(bad(name, "TLS not forced by the parameter group", arn))
    return out


@check(
    id="dynamodb_table_cmk_encryption",
    title="DynamoDB tables are encrypted with a KMS key (not only the AWS-owned key)",
    service="dynamodb",
    severity=Severity.LOW,
    sections=ENC,
    practice="NIST SP 800-53 SC-28, SC-12",
    rationale="DynamoDB always encrypts, but with an AWS-owned key there is no key policy and no "
    "CloudTrail record of key use for the PHI table.",
    console="DynamoDB > Tables > (table) > Additional settings > Encryption > Manage > AWS "
    "managed or customer managed KMS key.",
    cli="aws dynamodb update-table --table-name T --sse-specification "
    "Enabled=true,SSEType=KMS,KMSMasterKeyId=KEY",
    resource_type="AwsDynamoDbTable",
    empty="no DynamoDB tables",
    apis=("dynamodb:ListTables", "dynamodb:DescribeTable"),
)
def dynamodb_kms(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    out = []
    for table in _tables(ctx, region):
        name, arn = table["TableName"], table.get("TableArn", "")
        sse = table.get("SSEDescription") or {}
        if sse.get("Status") in {"ENABLED", "UPDATING"} and sse.get("SSEType") == "KMS":
            out.append(ok(name, "encrypted with a KMS key", arn))
        else:
            out.append(bad(name, "encrypted only with the AWS-owned key", arn))
    return out


def _tables(ctx: ScanContext, region: str) -> list[dict[str, Any]]:
    def fetch() -> list[dict[str, Any]]:
        ddb = ctx.client("dynamodb", region)
        names = ctx.paginate("dynamodb", region, "list_tables", "TableNames")
        return [ddb.describe_table(TableName=n)["Table"] for n in names]

    return ctx.memo(("dynamodb", region, "tables"), fetch)


@check(
    id="dynamodb_table_pitr_enabled",
    title="DynamoDB tables have point-in-time recovery",
    service="dynamodb",
    severity=Severity.MEDIUM,
    sections=("164.308(a)(7)(ii)(A)", "164.308(a)(7)(ii)(B)"),
    practice="NIST SP 800-53 CP-9",
    rationale="Data backup plan: PITR restores a PHI table to any second of the last 35 days.",
    console="DynamoDB > Tables > (table) > Backups > Point-in-time recovery > Edit > Enable.",
    cli="aws dynamodb update-continuous-backups --table-name T "
    "--point-in-time-recovery-specification PointInTimeRecoveryEnabled=true",
    resource_type="AwsDynamoDbTable",
    empty="no DynamoDB tables",
    apis=("dynamodb:ListTables", "dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups"),
)
def dynamodb_pitr(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    ddb = ctx.client("dynamodb", region)
    out = []
    for table in _tables(ctx, region):
        name, arn = table["TableName"], table.get("TableArn", "")
        desc = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        status = desc.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus")
        if status == "ENABLED":
            out.append(ok(name, "PITR enabled", arn))
        else:
            out.append(bad(name, "PITR disabled", arn))
    return out


@check(
    id="efs_file_system_encrypted",
    title="EFS file systems are encrypted at rest",
    service="efs",
    severity=Severity.HIGH,
    sections=ENC,
    practice="NIST SP 800-53 SC-28",
    rationale="Encryption at rest for shared file storage holding PHI documents and images.",
    console="EFS encryption is set at creation: create an encrypted file system and copy the "
    "data (AWS DataSync), then delete the old one.",
    cli="aws efs create-file-system --encrypted --kms-key-id KEY",
    resource_type="AwsEfsFileSystem",
    empty="no EFS file systems",
    apis=("elasticfilesystem:DescribeFileSystems",),
)
def efs_encrypted(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    out = []
    for fs in ctx.paginate("efs", region, "describe_file_systems", "FileSystems"):
        fid, arn = fs["FileSystemId"], fs.get("FileSystemArn", "")
        if fs.get("Encrypted"):
            out.append(ok(fid, "encrypted", arn))
        else:
            out.append(bad(fid, "not encrypted", arn))
    return out


@check(
    id="sns_topic_encrypted",
    title="SNS topics are encrypted with KMS",
    service="sns",
    severity=Severity.MEDIUM,
    sections=ENC,
    practice="NIST SP 800-53 SC-28",
    rationale="Notifications often carry patient or appointment details; SSE protects them while "
    "SNS stores them for delivery.",
    console="SNS > Topics > (topic) > Edit > Encryption > Enable, choose a KMS key.",
    cli="aws sns set-topic-attributes --topic-arn ARN --attribute-name KmsMasterKeyId "
    "--attribute-value alias/aws/sns",
    resource_type="AwsSnsTopic",
    empty="no SNS topics",
    apis=("sns:ListTopics", "sns:GetTopicAttributes"),
)
def sns_encrypted(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    sns = ctx.client("sns", region)
    out = []
    for topic in ctx.paginate("sns", region, "list_topics", "Topics"):
        arn = topic["TopicArn"]
        attrs = sns.get_topic_attributes(TopicArn=arn).get("Attributes", {})
        name = arn.rsplit(":", 1)[-1]
        if attrs.get("KmsMasterKeyId"):
            out.append(ok(name, "encrypted with KMS", arn))
        else:
            out.append(bad(name, "not encrypted", arn))
    return out


@check(
    id="sqs_queue_encrypted",
    title="SQS queues are encrypted (SSE-SQS or SSE-KMS)",
    service="sqs",
    severity=Severity.MEDIUM,
    sections=ENC,
    practice="NIST SP 800-53 SC-28",
    rationale="Queued messages (HL7 feeds, claims) wait on disk; SSE keeps them encrypted there.",
    console="SQS > Queues > (queue) > Edit > Encryption > Enabled.",
    cli="aws sqs set-queue-attributes --queue-url URL --attributes SqsManagedSseEnabled=true",
    resource_type="AwsSqsQueue",
    empty="no SQS queues",
    apis=("sqs:ListQueues", "sqs:GetQueueAttributes"),
)
def sqs_encrypted(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    sqs = ctx.client("sqs", region)
    out = []
    for url in ctx.paginate("sqs", region, "list_queues", "QueueUrls"):
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]).get("Attributes", {})
        name, arn = url.rsplit("/", 1)[-1], attrs.get("QueueArn", "")
        if attrs.get("KmsMasterKeyId") or attrs.get("SqsManagedSseEnabled") == "true":
            out.append(ok(name, "encrypted", arn))
        else:
            out.append(bad(name, "not encrypted", arn))
    return out


@check(
    id="logs_log_group_kms_encrypted",
    title="CloudWatch log groups are encrypted with a KMS key",
    service="logs",
    severity=Severity.LOW,
    sections=ENC,
    practice="NIST SP 800-53 SC-28, AU-9",
    rationale="Application logs leak PHI despite best efforts; a KMS key adds an access policy "
    "and audit trail over reading them.",
    console="CloudWatch log group KMS keys are set with the CLI or API only.",
    cli="aws logs associate-kms-key --log-group-name GROUP --kms-key-id KEY_ARN",
    resource_type="AwsLogsLogGroup",
    empty="no log groups",
    apis=("logs:DescribeLogGroups",),
)
def logs_kms(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    out = []
    for group in ctx.paginate("logs", region, "describe_log_groups", "logGroups"):
        name, arn = group["logGroupName"], group.get("arn", "")
        if group.get("kmsKeyId"):
            out.append(ok(name, "encrypted with KMS", arn))
        else:
            out.append(bad(name, "no KMS key", arn))
    return out


@check(
    id="secretsmanager_secret_cmk_encrypted",
    title="Secrets Manager secrets are encrypted with a customer-managed KMS key",
    service="secretsmanager",
    severity=Severity.LOW,
    sections=ENC,
    practice="NIST SP 800-53 SC-28, SC-12",
    rationale="A customer key lets you restrict and audit who can decrypt the credentials that "
    "open PHI stores; the default aws/secretsmanager key cannot be scoped.",
    console="Secrets Manager > (secret) > Edit encryption key > choose a customer-managed key.",
    cli="aws secretsmanager update-secret --secret-id S --kms-key-id KEY",
    resource_type="AwsSecretsManagerSecret",
    empty="no secrets",
    apis=("secretsmanager:ListSecrets",),
)
def secrets_cmk(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    out = []
    for sec in ctx.paginate("secretsmanager", region, "list_secrets", "SecretList"):
        name, arn = sec["Name"], sec.get("ARN", "")
        if sec.get("KmsKeyId"):
            out.append(ok(name, "customer-managed key", arn))
        else:
            out.append(bad(name, "uses the default aws/secretsmanager key", arn))
    return out


@check(
    id="secretsmanager_rotation_enabled",
    title="Secrets Manager secrets rotate automatically",
    service="secretsmanager",
    severity=Severity.MEDIUM,
    sections=("164.308(a)(5)(ii)(D)", "164.308(a)(4)(ii)(C)"),
    practice="NIST SP 800-53 IA-5(1)",
    rationale="Password management: database credentials to PHI stores that never change stay "
    "valid in every copy that ever leaked.",
    console="Secrets Manager > (secret) > Rotation > Edit rotation > Automatic rotation.",
    cli="aws secretsmanager rotate-secret --secret-id S --rotation-lambda-arn ARN "
    "--rotation-rules AutomaticallyAfterDays=30",
    resource_type="AwsSecretsManagerSecret",
    empty="no secrets",
    apis=("secretsmanager:ListSecrets",),
)
def secrets_rotation(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    out = []
    for sec in ctx.paginate("secretsmanager", region, "list_secrets", "SecretList"):
        name, arn = sec["Name"], sec.get("ARN", "")
        if sec.get("RotationEnabled"):
            out.append(ok(name, "rotation on", arn))
        else:
            out.append(bad(name, "rotation off", arn))
    return out


@check(
    id="backup_plan_exists",
    title="An AWS Backup plan with a resource selection exists",
    service="backup",
    severity=Severity.MEDIUM,
    sections=("164.308(a)(7)(i)", "164.308(a)(7)(ii)(A)", "164.308(a)(7)(ii)(B)"),
    practice="NIST SP 800-53 CP-9",
    rationale="Contingency plan: a central, policy-driven backup of every PHI store, with "
    "retention you can prove.",
    console="AWS Backup > Backup plans > Create backup plan > assign resources by tag.",
    cli="aws backup create-backup-plan --backup-plan file://plan.json && aws backup "
    "create-backup-selection --backup-plan-id ID --backup-selection file://selection.json",
    resource_type="AwsBackupBackupPlan",
    empty="no backup plans",
    apis=("backup:ListBackupPlans", "backup:ListBackupSelections"),
)
def backup_plan(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    client = ctx.client("backup", region)
    plans = ctx.paginate("backup", region, "list_backup_plans", "BackupPlansList")
    if not plans:
        return [bad(f"backup/{region}", "no AWS Backup plan in this region")]
    out = []
    for plan in plans:
        sels = client.list_backup_selections(BackupPlanId=plan["BackupPlanId"]).get(
            "BackupSelectionsList", []
        )
        name, arn = plan.get("BackupPlanName", plan["BackupPlanId"]), plan.get("BackupPlanArn", "")
        if sels:
            out.append(ok(name, f"{len(sels)} resource selection(s)", arn))
        else:
            out.append(bad(name, "plan selects no resources", arn))
    return out
