"""`--format table`: findings grouped by resource, mandatory first, then a one-line summary."""

from __future__ import annotations

import textwrap

from . import Report

MARK = {"mandatory": "✖", "remediate": "✎", "advisory": "!"}
ORDER = {"mandatory": 0, "remediate": 1, "advisory": 2}


def render(report: Report, width: int = 100) -> str:
    s = report.summary
    lines = [f"Tollgate preview of {report.project}/{report.stack}: {s.resources} resources, {s.rules} rules", ""]
    groups: dict[str, list] = {}
    for finding in report.findings:
        groups.setdefault(finding.urn, []).append(finding)
    ranked = sorted(groups.items(), key=lambda kv: (min(ORDER[f.enforcement] for f in kv[1]), kv[0]))
    for urn, findings in ranked:
        first = findings[0]
        worst = min((f.enforcement for f in findings), key=ORDER.get)
        where = report.location(urn)
        lines.append(f"{MARK[worst]} {first.name or '(stack)'}  {first.type}" + (f"  at {where}" if where else ""))
        for f in sorted(findings, key=lambda f: (ORDER[f.enforcement], f.id, f.message)):
            lines.append(f"    {f.enforcement.upper():<9} {f.id} {f.rule}")
            lines += textwrap.wrap(f.message, width=width, initial_indent=" " * 8, subsequent_indent=" " * 8)
        lines.append("")
    verdict = "FAIL" if not s.passed else "PASS"
    touched = len(groups)
    lines.append(f"{verdict}: {s.mandatory} mandatory, {s.advisory} advisory, {s.remediate} remediate finding(s) "
                 f"on {touched} of {s.resources} resources")
    return "\n".join(lines) + "\n"
