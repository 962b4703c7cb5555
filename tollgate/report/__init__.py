"""Report: findings -> table | json. Reports never see secret values: snapshots hold none."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ..model import Finding, Snapshot


@dataclass
class Summary:
    resources: int
    rules: int
    mandatory: int   # blocking: mandatory and not waived
    advisory: int
    remediate: int
    waived: int = 0

    @property
    def passed(self) -> bool:
        return self.mandatory == 0


@dataclass
class Report:
    project: str
    stack: str
    findings: list[Finding]
    summary: Summary
    locations: dict[str, str] = field(default_factory=dict)  # urn -> "file:line"

    def location(self, urn: str) -> Optional[str]:
        return self.locations.get(urn)


def build_report(snapshot: Snapshot, rule_count: int, findings: list[Finding]) -> Report:
    def count(level: str) -> int:
        return sum(1 for f in findings if f.enforcement == level and f.waiver is None)

    locations = {r.urn: f"{r.source.file}:{r.source.line}" for r in snapshot.resources if r.source}
    summary = Summary(resources=len(snapshot.resources), rules=rule_count, mandatory=count("mandatory"),
                      advisory=count("advisory"), remediate=count("remediate"),
                      waived=sum(1 for f in findings if f.waiver is not None))
    return Report(snapshot.project, snapshot.stack, findings, summary, locations)
