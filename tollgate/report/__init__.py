"""Report: findings -> table | json | sarif | junit | markdown. Reports never see secret values: snapshots hold none.

Every format has one shape (after conftest's Outputter): a module of this package whose
`render(report, options) -> str` writes it, named in FORMATS; `render(report, format, options)` is the one
way in. `tollgate cost` has the same shape: `render_cost(estimate, format, options)` over COST_FORMATS.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional

from ..model import Finding, Snapshot

FAIL_ON = ("mandatory", "advisory", "never")
# format -> the module of this package that renders it, in the order `--format` lists them
FORMATS = {"table": "table", "json": "json_report", "sarif": "sarif", "junit": "junit", "markdown": "markdown"}
# `tollgate cost --format` -> the function of cost_table.py that renders the estimate
COST_FORMATS = {"table": "render_table", "json": "render_json"}


@dataclass(frozen=True)
class RuleMeta:
    """What a report says about a rule that ran (sarif rules[], junit passing cases), findings or not."""

    name: str          # required-tags
    id: str            # TG001
    title: str
    description: str
    severity: str
    enforcement: str   # the rule's default level; a finding carries the level in force
    source: str = "rego"
    file: str = ""     # the rule's file name, e.g. required_tags.rego

    @classmethod
    def of(cls, rule: Any, source: str = "rego") -> "RuleMeta":
        """From a rego.Rule (or anything with its attributes): the report stage never loads rules itself."""
        return cls(rule.name, rule.id, rule.title, rule.description, rule.severity, rule.enforcement, source,
                   str(getattr(rule, "file", "")).replace("\\", "/").rsplit("/", 1)[-1])


def plural(n: int, word: str) -> str:
    """One wording for counts in every format: `1 resource`, `2 resources`."""
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def finding_order(f: Finding) -> tuple[Any, ...]:
    """The order every format lists findings in: mandatory first, then by resource, rule ID and message."""
    level = "waived" if f.waiver is not None else f.enforcement
    return ({"mandatory": 0, "remediate": 1, "advisory": 2, "waived": 3}[level], f.urn, f.id, f.message)


def failing(findings: Iterable[Finding], fail_on: str = "mandatory") -> list[Finding]:
    """The findings that fail the run under `--fail-on`: blocking ones, plus unwaived advisories for `advisory`."""
    if fail_on == "never":
        return []
    return [f for f in findings
            if f.blocking or (fail_on == "advisory" and f.enforcement == "advisory" and f.waiver is None)]


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
    rules: list[RuleMeta] = field(default_factory=list)      # every rule that ran
    cost: Any = None  # the stack's tollgate.cost.Estimate, when it was priced

    def cost_summary(self) -> Optional[dict[str, Any]]:
        """The estimate in a line: what every format shows of it."""
        if self.cost is None:
            return None
        c = self.cost
        saving = c.baseline_monthly_usd - c.monthly_usd
        return {"monthly_usd": round(c.monthly_usd, 2), "baseline_monthly_usd": round(c.baseline_monthly_usd, 2),
                "saving_usd": round(saving, 2),
                "saving_percent": round(100 * saving / c.baseline_monthly_usd, 1) if c.baseline_monthly_usd else 0.0,
                "not_priced": len(c.not_priced), "price_date": c.price_date}

    def location(self, urn: str) -> Optional[str]:
        return self.locations.get(urn)

    def position(self, urn: str) -> tuple[Optional[str], Optional[int]]:
        """(file, line) of the program line that declared the resource, or (None, None)."""
        file, _, line = (self.locations.get(urn) or "").rpartition(":")
        return (file, int(line)) if file and line.isdigit() else (None, None)


def build_report(snapshot: Snapshot, rule_count: int, findings: list[Finding], rules: Iterable[Any] = (),
                 cost: Any = None) -> Report:
    def count(level: str) -> int:
        return sum(1 for f in findings if f.enforcement == level and f.waiver is None)

    locations = {r.urn: f"{r.source.file}:{r.source.line}" for r in snapshot.resources if r.source}
    summary = Summary(resources=len(snapshot.resources), rules=rule_count, mandatory=count("mandatory"),
                      advisory=count("advisory"), remediate=count("remediate"),
                      waived=sum(1 for f in findings if f.waiver is not None))
    metas = [r if isinstance(r, RuleMeta) else RuleMeta.of(r) for r in rules]
    return Report(snapshot.project, snapshot.stack, findings, summary, locations, metas, cost)


@dataclass(frozen=True)
class RenderOptions:
    """What a format may need beyond the report; every format takes them all and reads what it uses."""

    fail_on: str = "mandatory"  # --fail-on: the verdicts of junit and the status line of markdown
    # The base branch's estimate (--base-snapshot), for markdown's cost change. A function, called only by a
    # format that shows the change: no other format pays for reading the base, or fails on a bad one.
    base: Optional[Callable[[], Any]] = None
    width: Optional[int] = None  # columns the prose of a text format wraps at; None: the format's own


def _module(name: str) -> Any:
    """A format's module, imported when a report is written in it: a run imports only its own."""
    return importlib.import_module(f"{__name__}.{name}")


def render(report: Report, format: str, options: RenderOptions = RenderOptions()) -> str:
    """The report in `format` (a key of FORMATS)."""
    return _module(FORMATS[format]).render(report, options)


def render_cost(estimate: Any, format: str, options: RenderOptions = RenderOptions()) -> str:
    """`tollgate cost`: a tollgate.cost Estimate in `format` (a key of COST_FORMATS)."""
    return getattr(_module("cost_table"), COST_FORMATS[format])(estimate, options)
