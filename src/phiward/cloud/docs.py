"""Generate ``docs/cloud-checks.md`` and the read-only IAM policy from the registry.

Run ``python -m phiward.cloud.docs DOCS_DIR`` after changing a check; a test fails when the
committed files differ from what the registry produces, so the documentation cannot drift.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from phiward.cloud.framework import load_framework
from phiward.cloud.registry import all_checks

#: API calls the runner itself makes (identity and region discovery), beyond the checks'.
RUNNER_APIS = ("sts:GetCallerIdentity", "ec2:DescribeRegions")


def required_actions() -> list[str]:
    actions = set(RUNNER_APIS)
    for check in all_checks().values():
        actions.update(check.meta.apis)
    return sorted(actions)


def readonly_policy() -> str:
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PhiwardHipaaChecksReadOnly",
                "Effect": "Allow",
                "Action": required_actions(),
                "Resource": "*",
            }
        ],
    }
    return json.dumps(doc, indent=2) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def checks_markdown() -> str:
    checks = all_checks()
    fw = load_framework()
    lines = [
        "# phiward AWS checks and their HIPAA mapping",
        "",
        "Generated from the check registry by `python -m phiward.cloud.docs docs`; do not edit.",
        f"{len(checks)} checks, {len(fw.requirements)} requirements "
        f"({sum(1 for r in fw.requirements if r.checks)} with automated checks).",
        "",
        "## Checks",
        "",
        "| Check | Service | Severity | 45 CFR | Practice | Title |",
        "|---|---|---|---|---|---|",
    ]
    for cid, c in checks.items():
        m = c.meta
        lines.append(
            f"| `{cid}` | {m.service} | {m.severity.value} | {', '.join(m.sections)} | "
            f"{_cell(m.practice)} | {_cell(m.title)} |"
        )
    lines += [
        "",
        "## Requirements",
        "",
        "| 45 CFR | Requirement | Checks | Manual |",
        "|---|---|---|---|",
    ]
    for req in fw.requirements:
        checks_cell = ", ".join(f"`{c}`" for c in req.checks) or "—"
        lines.append(f"| {req.id} | {_cell(req.title)} | {checks_cell} | {_cell(req.manual)} |")
    lines += ["", "## Remediation", ""]
    for cid, c in checks.items():
        m = c.meta
        lines += [
            f"### `{cid}`",
            "",
            _cell(m.rationale),
            "",
            f"Console: {_cell(m.remediation.console)}",
            "",
        ]
        if m.remediation.cli:
            lines += ["```sh", m.remediation.cli, "```", ""]
        if m.remediation.terraform:
            lines += ["```hcl", m.remediation.terraform, "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str]) -> None:
    out = Path(argv[0]) if argv else Path("docs")
    (out / "cloud-checks.md").write_text(checks_markdown(), encoding="utf-8")
    (out / "cloud-readonly-policy.json").write_text(readonly_policy(), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
