"""A seeded AWS account on a moto server: for each check a compliant ("good") resource and a
planted problem ("bad"). Used by the tests and by ``bench/cloud_bench.py``; reaches moto only
through boto3 and ``AWS_ENDPOINT_URL``, like the product.

``PLANTED`` lists every planted problem as (check id, resource id substring) so tests and the
benchmark can prove each one is detected.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import boto3

REGION = "us-east-1"
ACCOUNT = "123456789012"

#: (check id, resource id substring expected to FAIL)
PLANTED: tuple[tuple[str, str], ...] = (
    ("iam_user_mfa_enabled_console", "bad-bob"),
    ("iam_password_policy_strong", "password-policy"),
    ("iam_root_mfa_enabled", "root"),
    ("iam_no_custom_policy_admin_wildcard", "bad-admin-policy"),
    ("iam_no_inline_admin_policy", "bad-role"),
    ("cloudtrail_log_file_validation_enabled", "bad-trail"),
    ("cloudtrail_kms_encryption_enabled", "bad-trail"),
    ("cloudtrail_cloudwatch_logs_enabled", "bad-trail"),
    ("s3_audit_bucket_object_lock", "bad-trail-logs"),
    ("cloudwatch_alarm_signin_without_mfa", "cloudwatch"),
    ("cloudwatch_alarm_cmk_disable_or_deletion", "cloudwatch"),
    ("config_recorder_enabled", "config"),
    ("securityhub_enabled", "securityhub"),
    ("kms_cmk_rotation_enabled", "bad-norotate"),
    ("kms_key_policy_not_public", "bad-public"),
    ("kms_cmk_not_pending_deletion", "bad-deleting"),
    ("s3_bucket_default_encryption_kms", "bad-phi-bucket"),
    ("s3_bucket_secure_transport_policy", "bad-phi-bucket"),
    ("s3_bucket_public_access_block", "bad-phi-bucket"),
    ("s3_account_public_access_block", ACCOUNT),
    ("s3_bucket_versioning_enabled", "bad-phi-bucket"),
    ("s3_bucket_access_logging_enabled", "bad-phi-bucket"),
    ("ec2_ebs_volume_encrypted", "bad-volume"),
    ("ec2_ebs_default_encryption", "ebs-default"),
    ("rds_instance_storage_encrypted", "bad-db"),
    ("rds_instance_backup_enabled", "bad-db"),
    ("rds_instance_not_publicly_accessible", "bad-db"),
    ("rds_instance_tls_enforced", "bad-db"),
    ("dynamodb_table_cmk_encryption", "bad-table"),
    ("dynamodb_table_pitr_enabled", "bad-table"),
    ("efs_file_system_encrypted", "bad-efs"),
    ("sns_topic_encrypted", "bad-topic"),
    ("sqs_queue_encrypted", "bad-queue"),
    ("logs_log_group_kms_encrypted", "bad-logs"),
    ("logs_retention_six_years", "bad-logs"),
    ("secretsmanager_secret_cmk_encrypted", "bad-secret"),
    ("secretsmanager_rotation_enabled", "bad-secret"),
    ("backup_plan_exists", "backup/"),
    ("ec2_sg_no_admin_ports_open_to_internet", "bad-ssh-open"),
    ("ec2_sg_no_database_ports_open_to_internet", "bad-db-open"),
    ("ec2_default_sg_restricts_all_traffic", "sg-"),
    ("vpc_flow_logs_enabled", "bad-vpc"),
    ("ec2_nacl_no_admin_ports_open_to_internet", "acl-"),
    ("elbv2_listeners_use_tls", "bad-alb"),
    ("elb_classic_listeners_use_tls", "bad-classic"),
    ("elbv2_tls_policy_modern", "bad-alb"),
    ("wafv2_internet_facing_alb_protected", "bad-alb"),
    ("cloudfront_viewer_https_only", "bad-dist"),
    ("acm_certificate_not_expiring", "bad.example.org"),
    ("apigateway_stage_waf_enabled", "bad-api"),
)

#: (check id, resource id substring expected to PASS)
GOOD: tuple[tuple[str, str], ...] = (
    ("iam_user_mfa_enabled_console", "good-alice"),
    ("iam_no_custom_policy_admin_wildcard", "good-readonly-policy"),
    ("iam_no_inline_admin_policy", "good-alice"),
    ("iam_root_no_access_keys", "root"),
    ("iam_access_key_rotated_90_days", "bad-bob"),
    ("iam_user_unused_credentials", "good-alice"),
    ("cloudtrail_multi_region_enabled", "good-trail"),
    ("cloudtrail_log_file_validation_enabled", "good-trail"),
    ("cloudtrail_kms_encryption_enabled", "good-trail"),
    ("cloudtrail_cloudwatch_logs_enabled", "good-trail"),
    ("cloudtrail_s3_data_events_enabled", "good-trail"),
    ("s3_audit_bucket_object_lock", "good-audit-logs"),
    ("cloudwatch_alarm_root_usage", "good-trail"),
    ("cloudwatch_alarm_unauthorized_api_calls", "good-trail"),
    ("guardduty_enabled", ""),
    ("kms_cmk_rotation_enabled", "good-key"),
    ("kms_key_policy_not_public", "good-key"),
    ("kms_cmk_not_pending_deletion", "good-key"),
    ("s3_bucket_default_encryption_kms", "good-phi-bucket"),
    ("s3_bucket_secure_transport_policy", "good-phi-bucket"),
    ("s3_bucket_public_access_block", "good-phi-bucket"),
    ("s3_bucket_versioning_enabled", "good-phi-bucket"),
    ("s3_bucket_access_logging_enabled", "good-phi-bucket"),
    ("ec2_ebs_volume_encrypted", "good-volume"),
    ("rds_instance_storage_encrypted", "good-db"),
    ("rds_instance_backup_enabled", "good-db"),
    ("rds_instance_not_publicly_accessible", "good-db"),
    ("rds_instance_tls_enforced", "good-db"),
    ("dynamodb_table_cmk_encryption", "good-table"),
    ("dynamodb_table_pitr_enabled", "good-table"),
    ("efs_file_system_encrypted", "good-efs"),
    ("sns_topic_encrypted", "good-topic"),
    ("sqs_queue_encrypted", "good-queue"),
    ("logs_log_group_kms_encrypted", "good-logs"),
    ("logs_retention_six_years", "good-logs"),
    ("secretsmanager_secret_cmk_encrypted", "good-secret"),
    ("ec2_sg_no_admin_ports_open_to_internet", "good-web"),
    ("ec2_sg_no_database_ports_open_to_internet", "good-web"),
    ("vpc_flow_logs_enabled", "good-vpc"),
    ("ec2_nacl_no_admin_ports_open_to_internet", "good-nacl"),
    ("elbv2_listeners_use_tls", "good-alb"),
    ("elb_classic_listeners_use_tls", "good-classic"),
    ("elbv2_tls_policy_modern", "good-alb"),
    ("wafv2_internet_facing_alb_protected", "good-alb"),
    ("cloudfront_viewer_https_only", "good-dist"),
    ("acm_certificate_not_expiring", "good.example.org"),
    ("account_only_hipaa_eligible_services", "ec2"),
    ("apigateway_stage_waf_enabled", "good-api"),
    ("ec2_default_sg_restricts_all_traffic", "good-default-sg"),
)


def _self_signed(domain: str, days: int) -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def _tls_policy(bucket: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


def seed_iam(session: Any) -> None:
    iam = session.client("iam")
    for user in ("good-alice", "bad-bob"):
        iam.create_user(UserName=user)
        iam.create_login_profile(UserName=user, Password="Str0ng!Passw0rd-xyz")
    mfa = iam.create_virtual_mfa_device(VirtualMFADeviceName="good-alice")["VirtualMFADevice"]
    iam.enable_mfa_device(
        UserName="good-alice",
        SerialNumber=mfa["SerialNumber"],
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )
    iam.create_access_key(UserName="bad-bob")
    admin = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    narrow = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x/*"}
        ],
    }
    iam.create_policy(PolicyName="bad-admin-policy", PolicyDocument=json.dumps(admin))
    iam.create_policy(PolicyName="good-readonly-policy", PolicyDocument=json.dumps(narrow))
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName="bad-role", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(
        RoleName="bad-role", PolicyName="inline-admin", PolicyDocument=json.dumps(admin)
    )
    iam.put_user_policy(
        UserName="good-alice", PolicyName="narrow", PolicyDocument=json.dumps(narrow)
    )


def seed(session: Any | None = None) -> dict[str, str]:
    """Create the seeded account; returns a few ids the tests need."""
    session = session or boto3.Session(region_name=REGION)
    ids: dict[str, str] = {}
    seed_iam(session)

    kms = session.client("kms", region_name=REGION)
    good_key = kms.create_key(
        Description="good-key", Tags=[{"TagKey": "Name", "TagValue": "good-key"}]
    )
    good_key_id = good_key["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=good_key_id)
    kms.create_alias(AliasName="alias/good-key", TargetKeyId=good_key_id)
    ids["good-key"] = good_key_id
    ids["good_key_arn"] = good_key["KeyMetadata"]["Arn"]
    bad_norotate = kms.create_key(Description="bad-norotate")["KeyMetadata"]["KeyId"]
    ids["bad-norotate"] = bad_norotate
    public_policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}
            ],
        }
    )
    bad_public = kms.create_key(Description="bad-public", Policy=public_policy)["KeyMetadata"][
        "KeyId"
    ]
    kms.enable_key_rotation(KeyId=bad_public)
    ids["bad-public"] = bad_public
    deleting = kms.create_key(Description="bad-deleting")["KeyMetadata"]["KeyId"]
    kms.schedule_key_deletion(KeyId=deleting, PendingWindowInDays=7)
    ids["bad-deleting"] = deleting

    s3 = session.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="good-audit-logs", ObjectLockEnabledForBucket=True)
    s3.create_bucket(Bucket="bad-trail-logs")
    s3.create_bucket(Bucket="access-logs-target")
    s3.create_bucket(Bucket="good-phi-bucket")
    s3.create_bucket(Bucket="bad-phi-bucket")
    s3.put_bucket_encryption(
        Bucket="good-phi-bucket",
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": good_key_id,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    s3.put_bucket_policy(Bucket="good-phi-bucket", Policy=_tls_policy("good-phi-bucket"))
    s3.put_public_access_block(
        Bucket="good-phi-bucket",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_versioning(
        Bucket="good-phi-bucket", VersioningConfiguration={"Status": "Enabled"}
    )
    s3.put_bucket_acl(Bucket="access-logs-target", ACL="log-delivery-write")
    s3.put_bucket_logging(
        Bucket="good-phi-bucket",
        BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": "access-logs-target", "TargetPrefix": "good/"}
        },
    )

    logs = session.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="good-logs", kmsKeyId=ids["good_key_arn"])
    logs.put_retention_policy(logGroupName="good-logs", retentionInDays=2192)
    logs.create_log_group(logGroupName="bad-logs")
    logs.put_retention_policy(logGroupName="bad-logs", retentionInDays=30)
    group_arn = logs.describe_log_groups(logGroupNamePrefix="good-logs")["logGroups"][0]["arn"]

    ct = session.client("cloudtrail", region_name=REGION)
    ct.create_trail(
        Name="good-trail",
        S3BucketName="good-audit-logs",
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
        KmsKeyId=ids["good_key_arn"],
        CloudWatchLogsLogGroupArn=group_arn,
        CloudWatchLogsRoleArn=f"arn:aws:iam::{ACCOUNT}:role/ct-logs",
    )
    ct.start_logging(Name="good-trail")
    ct.put_event_selectors(
        TrailName="good-trail",
        EventSelectors=[
            {
                "ReadWriteType": "All",
                "IncludeManagementEvents": True,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}],
            }
        ],
    )
    ct.create_trail(Name="bad-trail", S3BucketName="bad-trail-logs")
    ct.start_logging(Name="bad-trail")

    sns = session.client("sns", region_name=REGION)
    alarm_topic = sns.create_topic(
        Name="good-topic", Attributes={"KmsMasterKeyId": "alias/aws/sns"}
    )["TopicArn"]
    sns.create_topic(Name="bad-topic")
    cw = session.client("cloudwatch", region_name=REGION)
    patterns = {
        "RootUsage": '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
        '&& $.eventType != "AwsServiceEvent" }',
        "Unauthorized": '{ ($.errorCode = "*UnauthorizedOperation") || '
        '($.errorCode = "AccessDenied*") }',
    }
    for metric, pattern in patterns.items():
        logs.put_metric_filter(
            logGroupName="good-logs",
            filterName=metric,
            filterPattern=pattern,
            metricTransformations=[
                {"metricName": metric, "metricNamespace": "CIS", "metricValue": "1"}
            ],
        )
        cw.put_metric_alarm(
            AlarmName=f"cis-{metric}",
            MetricName=metric,
            Namespace="CIS",
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            AlarmActions=[alarm_topic],
        )

    session.client("guardduty", region_name=REGION).create_detector(Enable=True)

    ec2 = session.client("ec2", region_name=REGION)
    ec2.create_volume(
        AvailabilityZone=f"{REGION}a",
        Size=8,
        Encrypted=True,
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": "good"}]}],
    )
    ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8, Encrypted=False)
    vols = ec2.describe_volumes()["Volumes"]
    ids["good-volume"] = next(v["VolumeId"] for v in vols if v.get("Encrypted"))
    ids["bad-volume"] = next(v["VolumeId"] for v in vols if not v.get("Encrypted"))
    good_vpc = ec2.create_vpc(CidrBlock="10.10.0.0/16")["Vpc"]["VpcId"]
    bad_vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    ids["good-vpc"], ids["bad-vpc"] = good_vpc, bad_vpc
    ec2.create_flow_logs(
        ResourceIds=[good_vpc],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination="arn:aws:s3:::good-audit-logs",
    )
    default_sg = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [good_vpc]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"][0]
    ids["good-default-sg"] = default_sg["GroupId"]
    if default_sg.get("IpPermissions"):
        ec2.revoke_security_group_ingress(
            GroupId=default_sg["GroupId"], IpPermissions=default_sg["IpPermissions"]
        )
    if default_sg.get("IpPermissionsEgress"):
        ec2.revoke_security_group_egress(
            GroupId=default_sg["GroupId"], IpPermissions=default_sg["IpPermissionsEgress"]
        )
    good_nacl = ec2.create_network_acl(VpcId=good_vpc)["NetworkAcl"]["NetworkAclId"]
    ids["good-nacl"] = good_nacl
    sgs = {}
    for name, port, cidr in (
        ("bad-ssh-open", 22, "0.0.0.0/0"),
        ("bad-db-open", 5432, None),
        ("good-web", 443, "0.0.0.0/0"),
    ):
        gid = ec2.create_security_group(GroupName=name, Description=name, VpcId=good_vpc)["GroupId"]
        sgs[name] = gid
        perm: dict[str, Any] = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
        if cidr:
            perm["IpRanges"] = [{"CidrIp": cidr}]
        else:
            perm["Ipv6Ranges"] = [{"CidrIpv6": "::/0"}]
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[perm])
    ids.update(sgs)
    subnets = [
        ec2.create_subnet(
            VpcId=good_vpc, CidrBlock=f"10.10.{i}.0/24", AvailabilityZone=f"{REGION}{az}"
        )["Subnet"]["SubnetId"]
        for i, az in ((1, "a"), (2, "b"))
    ]

    rds = session.client("rds", region_name=REGION)
    rds.create_db_parameter_group(
        DBParameterGroupName="good-pg", DBParameterGroupFamily="postgres16", Description="tls"
    )
    rds.modify_db_parameter_group(
        DBParameterGroupName="good-pg",
        Parameters=[
            {
                "ParameterName": "rds.force_ssl",
                "ParameterValue": "1",
                "ApplyMethod": "pending-reboot",
            }
        ],
    )
    common = {
        "DBInstanceClass": "db.t3.micro",
        "Engine": "postgres",
        "MasterUsername": "admin_user",
        "MasterUserPassword": "Sup3r-secret-pw",
        "AllocatedStorage": 20,
    }
    rds.create_db_instance(
        DBInstanceIdentifier="good-db",
        StorageEncrypted=True,
        KmsKeyId=good_key_id,
        BackupRetentionPeriod=14,
        PubliclyAccessible=False,
        DBParameterGroupName="good-pg",
        **common,
    )
    rds.create_db_instance(
        DBInstanceIdentifier="bad-db",
        StorageEncrypted=False,
        BackupRetentionPeriod=0,
        PubliclyAccessible=True,
        **common,
    )

    ddb = session.client("dynamodb", region_name=REGION)
    table = {
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    ddb.create_table(
        TableName="good-table",
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": good_key_id},
        **table,
    )
    ddb.update_continuous_backups(
        TableName="good-table",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    ddb.create_table(TableName="bad-table", **table)

    efs = session.client("efs", region_name=REGION)
    ids["good-efs"] = efs.create_file_system(
        CreationToken="good-efs", Encrypted=True, Tags=[{"Key": "Name", "Value": "good-efs"}]
    )["FileSystemId"]
    ids["bad-efs"] = efs.create_file_system(CreationToken="bad-efs", Encrypted=False)[
        "FileSystemId"
    ]

    sqs = session.client("sqs", region_name=REGION)
    sqs.create_queue(QueueName="good-queue", Attributes={"SqsManagedSseEnabled": "true"})
    sqs.create_queue(QueueName="bad-queue", Attributes={"SqsManagedSseEnabled": "false"})

    sm = session.client("secretsmanager", region_name=REGION)
    sm.create_secret(Name="good-secret", SecretString="x", KmsKeyId=good_key_id)
    sm.create_secret(Name="bad-secret", SecretString="y")

    acm = session.client("acm", region_name=REGION)
    certs = {}
    for domain, days in (("good.example.org", 365), ("bad.example.org", 10)):
        cert, key = _self_signed(domain, days)
        certs[domain] = acm.import_certificate(Certificate=cert, PrivateKey=key)["CertificateArn"]

    elb = session.client("elbv2", region_name=REGION)
    albs = {}
    for name in ("good-alb", "bad-alb"):
        lb = elb.create_load_balancer(
            Name=name, Subnets=subnets, SecurityGroups=[sgs["good-web"]], Scheme="internet-facing"
        )["LoadBalancers"][0]
        albs[name] = lb["LoadBalancerArn"]
    tg = elb.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=good_vpc)[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    forward = [{"Type": "forward", "TargetGroupArn": tg}]
    elb.create_listener(
        LoadBalancerArn=albs["good-alb"],
        Protocol="HTTPS",
        Port=443,
        SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
        Certificates=[{"CertificateArn": certs["good.example.org"]}],
        DefaultActions=forward,
    )
    elb.create_listener(
        LoadBalancerArn=albs["good-alb"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[
            {
                "Type": "redirect",
                "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
            }
        ],
    )
    elb.create_listener(
        LoadBalancerArn=albs["bad-alb"], Protocol="HTTP", Port=80, DefaultActions=forward
    )
    elb.create_listener(
        LoadBalancerArn=albs["bad-alb"],
        Protocol="HTTPS",
        Port=443,
        SslPolicy="ELBSecurityPolicy-2016-08",
        Certificates=[{"CertificateArn": certs["good.example.org"]}],
        DefaultActions=forward,
    )
    classic = session.client("elb", region_name=REGION)
    classic.create_load_balancer(
        LoadBalancerName="good-classic",
        Listeners=[
            {
                "Protocol": "HTTPS",
                "LoadBalancerPort": 443,
                "InstanceProtocol": "HTTP",
                "InstancePort": 80,
                "SSLCertificateId": certs["good.example.org"],
            }
        ],
        AvailabilityZones=[f"{REGION}a"],
    )
    classic.create_load_balancer(
        LoadBalancerName="bad-classic",
        Listeners=[
            {
                "Protocol": "HTTP",
                "LoadBalancerPort": 80,
                "InstanceProtocol": "HTTP",
                "InstancePort": 80,
            }
        ],
        AvailabilityZones=[f"{REGION}a"],
    )
    waf = session.client("wafv2", region_name=REGION)
    acl = waf.create_web_acl(
        Name="good-acl",
        Scope="REGIONAL",
        DefaultAction={"Allow": {}},
        Rules=[],
        VisibilityConfig={
            "SampledRequestsEnabled": True,
            "CloudWatchMetricsEnabled": True,
            "MetricName": "good-acl",
        },
    )["Summary"]
    waf.associate_web_acl(WebACLArn=acl["ARN"], ResourceArn=albs["good-alb"])

    cf = session.client("cloudfront", region_name=REGION)
    for name, policy in (("good-dist", "redirect-to-https"), ("bad-dist", "allow-all")):
        dist = cf.create_distribution(
            DistributionConfig={
                "CallerReference": name,
                "Comment": name,
                "Enabled": True,
                "Origins": {
                    "Quantity": 1,
                    "Items": [
                        {
                            "Id": "origin",
                            "DomainName": "good-phi-bucket.s3.amazonaws.com",
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                        }
                    ],
                },
                "DefaultCacheBehavior": {
                    "TargetOriginId": "origin",
                    "ViewerProtocolPolicy": policy,
                    "MinTTL": 0,
                },
            }
        )["Distribution"]
        ids[name] = dist["Id"]

    apigw = session.client("apigateway", region_name=REGION)
    for name in ("good-api", "bad-api"):
        api = apigw.create_rest_api(name=name)["id"]
        root = apigw.get_resources(restApiId=api)["items"][0]["id"]
        apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
        apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
        apigw.create_deployment(restApiId=api, stageName="prod")
        ids[name] = api
    waf.associate_web_acl(
        WebACLArn=acl["ARN"],
        ResourceArn=f"arn:aws:apigateway:{REGION}::/restapis/{ids['good-api']}/stages/prod",
    )
    return ids
