"""Transmission security: load balancer listeners and TLS policies, CloudFront, ACM, WAF."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from phiward.cloud.checks._util import error_code, parse_time
from phiward.cloud.context import ScanContext
from phiward.cloud.model import Severity
from phiward.cloud.registry import Verdict, bad, check, ok

TRANSIT = ("164.312(e)(1)", "164.312(e)(2)(i)", "164.312(e)(2)(ii)")
CERT_DAYS = 30
#: ELBv2 security policies that allow TLS 1.0 or 1.1 (everything else negotiates 1.2+).
LEGACY_TLS_POLICIES = {
    "ELBSecurityPolicy-2016-08",
    "ELBSecurityPolicy-2015-05",
    "ELBSecurityPolicy-TLS-1-0-2015-04",
    "ELBSecurityPolicy-TLS-1-1-2017-01",
    "ELBSecurityPolicy-FS-2018-06",
    "ELBSecurityPolicy-FS-1-1-2019-08",
    "ELBSecurityPolicy-TLS13-1-0-2021-06",
    "ELBSecurityPolicy-TLS13-1-1-2021-06",
}


def load_balancers(ctx: ScanContext, region: str) -> list[dict[str, Any]]:
    return ctx.paginate("elbv2", region, "describe_load_balancers", "LoadBalancers")


def listeners(ctx: ScanContext, region: str, lb_arn: str) -> list[dict[str, Any]]:
    return ctx.paginate("elbv2", region, "describe_listeners", "Listeners", LoadBalancerArn=lb_arn)


def _redirects_to_https(listener: dict[str, Any]) -> bool:
    for action in listener.get("DefaultActions", []):
        conf = action.get("RedirectConfig") or {}
        if action.get("Type") == "redirect" and conf.get("Protocol") == "HTTPS":
            return True
    return False


@check(
    id="elbv2_listeners_use_tls",
    title="Load balancer listeners use HTTPS/TLS (plain HTTP only to redirect)",
    service="elasticloadbalancing",
    severity=Severity.HIGH,
    sections=TRANSIT,
    practice="NIST SP 800-53 SC-8",
    rationale="Transmission security: an HTTP listener that serves content sends PHI and session "
    "cookies in clear text.",
    console="EC2 > Load Balancers > (lb) > Listeners: add an HTTPS listener with an ACM "
    "certificate and change the HTTP listener's action to 'Redirect to HTTPS'.",
    cli="aws elbv2 modify-listener --listener-arn ARN --default-actions "
    "'Type=redirect,RedirectConfig={Protocol=HTTPS,Port=443,StatusCode=HTTP_301}'",
    resource_type="AwsElbv2Listener",
    empty="no load balancer listeners",
    apis=("elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeListeners"),
)
def elb_tls(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    out = []
    for lb in load_balancers(ctx, region):
        for lst in listeners(ctx, region, lb["LoadBalancerArn"]):
            rid = f"{lb['LoadBalancerName']}:{lst.get('Port')}"
            proto = lst.get("Protocol")
            if proto in {"HTTPS", "TLS"}:
                out.append(ok(rid, f"{proto} listener", lst["ListenerArn"]))
            elif proto == "HTTP" and _redirects_to_https(lst):
                out.append(ok(rid, "HTTP listener redirects to HTTPS", lst["ListenerArn"]))
            elif proto in {"HTTP", "TCP", "UDP", "TCP_UDP"}:
                out.append(bad(rid, f"{proto} listener serves without TLS", lst["ListenerArn"]))
    return out


@check(
    id="elb_classic_listeners_use_tls",
    title="Classic load balancer listeners use HTTPS/SSL",
    service="elasticloadbalancing",
    severity=Severity.HIGH,
    sections=TRANSIT,
    practice="NIST SP 800-53 SC-8",
    rationale="Transmission security: a Classic Load Balancer HTTP or TCP listener carries PHI "
    "in clear text between the client and AWS.",
    console="EC2 > Load Balancers > (classic lb) > Listeners > Edit: change HTTP/TCP listeners to "
    "HTTPS/SSL with an ACM certificate (or migrate to an ALB with an HTTP->HTTPS redirect).",
    cli="aws elb create-load-balancer-listeners --load-balancer-name LB --listeners "
    "Protocol=HTTPS,LoadBalancerPort=443,InstanceProtocol=HTTP,InstancePort=80,"
    "SSLCertificateId=CERT_ARN",
    resource_type="AwsElbLoadBalancer",
    empty="no classic load balancers",
    apis=("elasticloadbalancing:DescribeLoadBalancers",),
)
def elb_classic_tls(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    out = []
    for lb in ctx.paginate("elb", region, "describe_load_balancers", "LoadBalancerDescriptions"):
        name = lb["LoadBalancerName"]
        arn = ctx.arn("elasticloadbalancing", region, f"loadbalancer/{name}")
        plain = sorted(
            f"{d['Listener']['Protocol']}:{d['Listener']['LoadBalancerPort']}"
            for d in lb.get("ListenerDescriptions", [])
            if str(d["Listener"].get("Protocol", "")).upper() in {"HTTP", "TCP"}
        )
        if plain:
            out.append(bad(name, "listeners without TLS: " + ", ".join(plain), arn))
        else:
            out.append(ok(name, "all listeners use HTTPS/SSL", arn))
    return out


@check(
    id="elbv2_tls_policy_modern",
    title="HTTPS/TLS listeners use a TLS 1.2+ security policy",
    service="elasticloadbalancing",
    severity=Severity.MEDIUM,
    sections=TRANSIT,
    practice="NIST SP 800-52r2",
    rationale="TLS 1.0/1.1 are deprecated (RFC 8996); NIST SP 800-52r2 requires TLS 1.2 or later.",
    console="EC2 > Load Balancers > (lb) > Listeners > (listener) > Edit > Security policy: "
    "ELBSecurityPolicy-TLS13-1-2-2021-06.",
    cli="aws elbv2 modify-listener --listener-arn ARN --ssl-policy "
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    resource_type="AwsElbv2Listener",
    empty="no HTTPS/TLS listeners",
    apis=("elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeListeners"),
)
def elb_policy(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    out = []
    for lb in load_balancers(ctx, region):
        for lst in listeners(ctx, region, lb["LoadBalancerArn"]):
            if lst.get("Protocol") not in {"HTTPS", "TLS"}:
                continue
            rid = f"{lb['LoadBalancerName']}:{lst.get('Port')}"
            policy = str(lst.get("SslPolicy") or "")
            if policy in LEGACY_TLS_POLICIES or not policy:
                out.append(
                    bad(rid, f"policy {policy or 'none'} allows TLS < 1.2", lst["ListenerArn"])
                )
            else:
                out.append(ok(rid, f"policy {policy}", lst["ListenerArn"]))
    return out


@check(
    id="cloudfront_viewer_https_only",
    title="CloudFront distributions require HTTPS from viewers",
    service="cloudfront",
    severity=Severity.HIGH,
    sections=TRANSIT,
    practice="NIST SP 800-53 SC-8",
    rationale="Viewer protocol 'allow-all' serves patient portals over plain HTTP.",
    console="CloudFront > (distribution) > Behaviors > Edit > Viewer protocol policy: Redirect "
    "HTTP to HTTPS (every behavior).",
    terraform='viewer_protocol_policy = "redirect-to-https"',
    resource_type="AwsCloudFrontDistribution",
    empty="no CloudFront distributions",
    regional=False,
    apis=("cloudfront:ListDistributions",),
)
def cloudfront_https(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    answer = ctx.client("cloudfront").list_distributions().get("DistributionList", {})
    out = []
    for dist in answer.get("Items", []) or []:
        behaviors = [dist.get("DefaultCacheBehavior", {})]
        behaviors += (dist.get("CacheBehaviors") or {}).get("Items", []) or []
        weak = [b for b in behaviors if b.get("ViewerProtocolPolicy") == "allow-all"]
        if weak:
            out.append(bad(dist["Id"], "a behavior allows plain HTTP", dist.get("ARN", "")))
        else:
            out.append(ok(dist["Id"], "HTTPS required", dist.get("ARN", "")))
    return out


@check(
    id="acm_certificate_not_expiring",
    title=f"ACM certificates are valid for more than {CERT_DAYS} days",
    service="acm",
    severity=Severity.HIGH,
    sections=TRANSIT,
    practice="NIST SP 800-53 SC-17",
    rationale="An expired certificate breaks TLS and trains users to click through warnings.",
    console="ACM > (certificate): fix DNS validation so managed renewal can run, or re-import a "
    "renewed certificate.",
    cli="aws acm describe-certificate --certificate-arn ARN  # check RenewalSummary",
    resource_type="AwsCertificateManagerCertificate",
    empty="no ACM certificates",
    apis=("acm:ListCertificates", "acm:DescribeCertificate"),
)
def acm_expiry(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    acm = ctx.client("acm", region)
    out = []
    now = datetime.now(UTC)
    for cert in ctx.paginate("acm", region, "list_certificates", "CertificateSummaryList"):
        arn = cert["CertificateArn"]
        detail = acm.describe_certificate(CertificateArn=arn)["Certificate"]
        name = detail.get("DomainName", arn)
        expires = parse_time(detail.get("NotAfter"))
        if expires is None:
            out.append(bad(name, f"no validity date (status {detail.get('Status')})", arn))
            continue
        days = (expires - now).total_seconds() / 86400
        if days <= CERT_DAYS:
            out.append(bad(name, f"expires in {int(days)} days", arn))
        else:
            out.append(ok(name, f"valid {int(days)} more days", arn))
    return out


def _web_acl_for(ctx: ScanContext, region: str, arn: str) -> bool:
    try:
        answer = ctx.client("wafv2", region).get_web_acl_for_resource(ResourceArn=arn)
    except ClientError as exc:
        if error_code(exc) == "WAFNonexistentItemException":
            return False
        raise
    return bool(answer.get("WebACL"))


@check(
    id="wafv2_internet_facing_alb_protected",
    title="Internet-facing application load balancers have a WAF web ACL",
    service="wafv2",
    severity=Severity.MEDIUM,
    sections=("164.308(a)(5)(ii)(B)", "164.312(e)(1)"),
    practice="NIST SP 800-53 SC-7, SI-3",
    rationale="A web ACL with the AWS managed rule groups blocks common injection and bot attacks "
    "before they reach the application holding PHI.",
    console="WAF & Shield > Web ACLs > Create web ACL (AWSManagedRulesCommonRuleSet) > add the ALB "
    "as an associated resource.",
    cli="aws wafv2 associate-web-acl --web-acl-arn ACL --resource-arn ALB",
    resource_type="AwsElbv2LoadBalancer",
    empty="no internet-facing application load balancers",
    apis=("elasticloadbalancing:DescribeLoadBalancers", "wafv2:GetWebACLForResource"),
)
def waf_alb(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    out = []
    for lb in load_balancers(ctx, region):
        if lb.get("Type") != "application" or lb.get("Scheme") != "internet-facing":
            continue
        arn = lb["LoadBalancerArn"]
        if _web_acl_for(ctx, region, arn):
            out.append(ok(lb["LoadBalancerName"], "web ACL associated", arn))
        else:
            out.append(bad(lb["LoadBalancerName"], "no web ACL", arn))
    return out


@check(
    id="apigateway_stage_waf_enabled",
    title="API Gateway REST API stages have a WAF web ACL",
    service="apigateway",
    severity=Severity.MEDIUM,
    sections=("164.308(a)(5)(ii)(B)", "164.312(e)(1)"),
    practice="NIST SP 800-53 SC-7, SI-3",
    rationale="Public APIs that serve PHI are the most probed entry point of a health app.",
    console="API Gateway > (API) > Stages > (stage) > Web ACL: choose a web ACL.",
    cli="aws wafv2 associate-web-acl --web-acl-arn ACL --resource-arn "
    "arn:aws:apigateway:REGION::/restapis/ID/stages/STAGE",
    resource_type="AwsApiGatewayStage",
    empty="no REST API stages",
    apis=("apigateway:GET",),
)
def waf_apigw(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    client = ctx.client("apigateway", region)
    out = []
    for api in ctx.paginate("apigateway", region, "get_rest_apis", "items"):
        for stage in client.get_stages(restApiId=api["id"]).get("item", []):
            rid = f"{api.get('name', api['id'])}/{stage['stageName']}"
            arn = f"arn:aws:apigateway:{region}::/restapis/{api['id']}/stages/{stage['stageName']}"
            if stage.get("webAclArn"):
                out.append(ok(rid, "web ACL associated", arn))
            else:
                out.append(bad(rid, "no web ACL", arn))
    return out
