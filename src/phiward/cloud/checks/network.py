"""Network: security groups and NACLs open to the internet, default security groups, flow logs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from phiward.cloud.context import ScanContext
from phiward.cloud.model import Severity
from phiward.cloud.registry import Verdict, bad, check, ok

ADMIN_PORTS = {22: "SSH", 3389: "RDP", 5985: "WinRM", 5986: "WinRM-TLS"}
DB_PORTS = {
    1433: "SQL Server",
    1521: "Oracle",
    3306: "MySQL",
    5432: "PostgreSQL",
    5439: "Redshift",
    6379: "Redis",
    9200: "OpenSearch",
    11211: "Memcached",
    27017: "MongoDB",
}
ANYWHERE = {"0.0.0.0/0", "::/0"}


def security_groups(ctx: ScanContext, region: str) -> list[dict[str, Any]]:
    return ctx.paginate("ec2", region, "describe_security_groups", "SecurityGroups")


def _open_ports(perm: dict[str, Any], ports: dict[int, str]) -> list[str]:
    sources = {r.get("CidrIp") for r in perm.get("IpRanges", [])}
    sources |= {r.get("CidrIpv6") for r in perm.get("Ipv6Ranges", [])}
    if not sources & ANYWHERE:
        return []
    proto = str(perm.get("IpProtocol"))
    if proto == "-1":
        return [f"{name} ({port})" for port, name in sorted(ports.items())]
    if proto not in {"tcp", "6"}:
        return []
    lo, hi = int(perm.get("FromPort", 0)), int(perm.get("ToPort", 65535))
    return [f"{name} ({port})" for port, name in sorted(ports.items()) if lo <= port <= hi]


def _sg_check(ctx: ScanContext, region: str, ports: dict[int, str]) -> list[Verdict]:
    out = []
    for sg in security_groups(ctx, region):
        gid = sg["GroupId"]
        arn = ctx.arn("ec2", region, f"security-group/{gid}")
        exposed = sorted(
            {p for perm in sg.get("IpPermissions", []) for p in _open_ports(perm, ports)}
        )
        if exposed:
            out.append(bad(gid, "open to the internet: " + ", ".join(exposed), arn))
        else:
            out.append(ok(gid, "no listed port open to 0.0.0.0/0 or ::/0", arn))
    return out


_SG_CONSOLE = (
    "EC2 > Security Groups > (group) > Inbound rules > Edit: replace 0.0.0.0/0 and ::/0 with "
    "the specific CIDRs or security groups that need access (use SSM Session Manager, not SSH)."
)


@check(
    id="ec2_sg_no_admin_ports_open_to_internet",
    title="No security group opens SSH/RDP/WinRM to the internet (attached or not)",
    service="ec2",
    severity=Severity.HIGH,
    sections=("164.312(a)(1)", "164.312(e)(1)", "164.308(a)(4)(i)"),
    practice="NIST SP 800-53 SC-7, AC-17",
    rationale="Remote administration open to the internet is brute-forced within minutes; an "
    "unattached group is one attachment away from being live, so it is judged too.",
    console=_SG_CONSOLE,
    cli="aws ec2 revoke-security-group-ingress --group-id SG --protocol tcp --port 22 "
    "--cidr 0.0.0.0/0",
    resource_type="AwsEc2SecurityGroup",
    empty="no security groups",
    apis=("ec2:DescribeSecurityGroups",),
)
def sg_admin(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    return _sg_check(ctx, region, ADMIN_PORTS)


@check(
    id="ec2_sg_no_database_ports_open_to_internet",
    title="No security group opens database ports to the internet (attached or not)",
    service="ec2",
    severity=Severity.CRITICAL,
    sections=("164.312(a)(1)", "164.312(e)(1)", "164.308(a)(4)(i)"),
    practice="NIST SP 800-53 SC-7",
    rationale="A database port reachable from anywhere exposes the PHI store to credential "
    "stuffing and unpatched-engine exploits.",
    console=_SG_CONSOLE,
    cli="aws ec2 revoke-security-group-ingress --group-id SG --protocol tcp --port 5432 "
    "--cidr 0.0.0.0/0",
    resource_type="AwsEc2SecurityGroup",
    empty="no security groups",
    apis=("ec2:DescribeSecurityGroups",),
)
def sg_db(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    return _sg_check(ctx, region, DB_PORTS)


@check(
    id="ec2_default_sg_restricts_all_traffic",
    title="Default security groups allow no traffic",
    service="ec2",
    severity=Severity.MEDIUM,
    sections=("164.312(a)(1)", "164.312(e)(1)"),
    practice="NIST SP 800-53 SC-7",
    rationale="Resources launched without choosing a group land in the default one; it should "
    "deny everything so that mistake fails closed.",
    console="VPC > Security groups > default > remove every inbound and outbound rule.",
    terraform='resource "aws_default_security_group" "default" { vpc_id = aws_vpc.main.id }',
    resource_type="AwsEc2SecurityGroup",
    empty="no default security groups",
    apis=("ec2:DescribeSecurityGroups",),
)
def default_sg(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    out = []
    for sg in security_groups(ctx, region):
        if sg.get("GroupName") != "default":
            continue
        gid = sg["GroupId"]
        arn = ctx.arn("ec2", region, f"security-group/{gid}")
        if sg.get("IpPermissions") or sg.get("IpPermissionsEgress"):
            out.append(bad(gid, f"default group of {sg.get('VpcId')} has rules", arn))
        else:
            out.append(ok(gid, "default group has no rules", arn))
    return out


@check(
    id="vpc_flow_logs_enabled",
    title="VPC flow logs are enabled",
    service="ec2",
    severity=Severity.MEDIUM,
    sections=("164.312(b)", "164.308(a)(1)(ii)(D)"),
    practice="NIST SP 800-53 AU-12, SI-4",
    rationale="Flow logs are the network audit trail: which hosts talked to a PHI database, and "
    "where data went.",
    console="VPC > Your VPCs > (vpc) > Flow logs > Create flow log (All traffic).",
    cli="aws ec2 create-flow-logs --resource-type VPC --resource-ids VPC --traffic-type ALL "
    "--log-destination-type s3 --log-destination arn:aws:s3:::BUCKET",
    resource_type="AwsEc2Vpc",
    empty="no VPCs",
    apis=("ec2:DescribeVpcs", "ec2:DescribeFlowLogs"),
)
def flow_logs(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    logs = ctx.paginate("ec2", region, "describe_flow_logs", "FlowLogs")
    covered = {f.get("ResourceId") for f in logs if f.get("FlowLogStatus", "ACTIVE") == "ACTIVE"}
    out = []
    for vpc in ctx.paginate("ec2", region, "describe_vpcs", "Vpcs"):
        vid = vpc["VpcId"]
        arn = ctx.arn("ec2", region, f"vpc/{vid}")
        if vid in covered:
            out.append(ok(vid, "flow logs on", arn))
        else:
            out.append(bad(vid, "no flow logs", arn))
    return out


@check(
    id="ec2_nacl_no_admin_ports_open_to_internet",
    title="Network ACLs do not allow SSH/RDP from the internet",
    service="ec2",
    severity=Severity.MEDIUM,
    sections=("164.312(a)(1)", "164.312(e)(1)"),
    practice="NIST SP 800-53 SC-7",
    rationale="NACLs are the subnet-level second fence; an allow-all entry for admin ports "
    "leaves the security group as the only control.",
    console="VPC > Network ACLs > (acl) > Inbound rules > Edit: deny or narrow 0.0.0.0/0 on "
    "ports 22 and 3389.",
    cli="aws ec2 replace-network-acl-entry --network-acl-id ACL --ingress --rule-number N "
    "--protocol tcp --port-range From=22,To=22 --cidr-block 10.0.0.0/8 --rule-action allow",
    resource_type="AwsEc2NetworkAcl",
    empty="no network ACLs",
    apis=("ec2:DescribeNetworkAcls",),
)
def nacl_admin(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    out = []
    for acl in ctx.paginate("ec2", region, "describe_network_acls", "NetworkAcls"):
        aid = acl["NetworkAclId"]
        arn = ctx.arn("ec2", region, f"network-acl/{aid}")
        exposed: set[str] = set()
        decided: set[int] = set()
        inbound = [e for e in acl.get("Entries", []) if not e.get("Egress")]
        for entry in sorted(inbound, key=lambda e: int(e.get("RuleNumber", 32767))):
            src = entry.get("CidrBlock") or entry.get("Ipv6CidrBlock")
            proto = str(entry.get("Protocol"))
            rng = entry.get("PortRange") or {}
            lo, hi = int(rng.get("From", 0)), int(rng.get("To", 65535))
            for port in (22, 3389):
                if port in decided or not (proto == "-1" or (proto == "6" and lo <= port <= hi)):
                    continue
                if src in ANYWHERE:  # the lowest-numbered rule matching any source wins
                    decided.add(port)
                    if entry.get("RuleAction") == "allow":
                        exposed.add(ADMIN_PORTS[port])
        if exposed:
            out.append(bad(aid, "allows from anywhere: " + ", ".join(sorted(exposed)), arn))
        else:
            out.append(ok(aid, "admin ports not allowed from anywhere", arn))
    return out
