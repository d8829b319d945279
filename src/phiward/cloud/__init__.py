"""AWS HIPAA configuration checks (``phiward check aws``).

One *check* is a small function with metadata (:mod:`phiward.cloud.registry`); a *framework* file
(``data/hipaa_aws.json``) maps each 45 CFR Security Rule requirement to checks or to manual
guidance; the *runner* evaluates checks across regions with a bounded thread pool and rolls their
results up so that every requirement gets an explicit status — nothing silently disappears.
"""

from phiward.cloud.framework import Framework, Requirement, load_framework
from phiward.cloud.model import CheckMeta, CheckResult, Report, RequirementResult, Severity, Status
from phiward.cloud.registry import all_checks, get_check
from phiward.cloud.runner import ScanOptions, run_scan

__all__ = [
    "CheckMeta",
    "CheckResult",
    "Framework",
    "Report",
    "Requirement",
    "RequirementResult",
    "ScanOptions",
    "Severity",
    "Status",
    "all_checks",
    "get_check",
    "load_framework",
    "run_scan",
]
