"""The HIPAA framework file: requirements of the Security Rule mapped to checks (data, not code)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

FRAMEWORK_FILE = "data/hipaa_aws.json"


@dataclass(frozen=True, slots=True)
class Requirement:
    """One paragraph of 45 CFR Part 164 Subpart C.

    ``checks`` are evaluated automatically; ``manual`` says what a person must verify (for 164.310
    physical safeguards that is all there is: AWS runs the data centres, you run the offices).
    """

    id: str
    section: str
    title: str
    kind: str
    description: str
    checks: tuple[str, ...]
    manual: str

    @property
    def citation(self) -> str:
        return f"45 CFR {self.id}"


@dataclass(frozen=True, slots=True)
class Framework:
    name: str
    version: str
    source: str
    requirements: tuple[Requirement, ...]

    def by_id(self) -> dict[str, Requirement]:
        return {r.id: r for r in self.requirements}


def _parse(data: dict[str, Any]) -> Framework:
    reqs = tuple(
        Requirement(
            id=r["id"],
            section=r["section"],
            title=r["title"],
            kind=r["kind"],
            description=r.get("description", ""),
            checks=tuple(r.get("checks", [])),
            manual=r.get("manual", ""),
        )
        for r in data["requirements"]
    )
    return Framework(
        name=data["name"], version=data["version"], source=data["source"], requirements=reqs
    )


@cache
def load_framework() -> Framework:
    """The shipped ``hipaa_aws`` framework."""
    text = resources.files("phiward.cloud").joinpath(FRAMEWORK_FILE).read_text(encoding="utf-8")
    return _parse(json.loads(text))
