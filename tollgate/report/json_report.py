"""`--format json`: {"project", "stack", "findings": [...], "summary": {...}}."""

from __future__ import annotations

import json

from . import RenderOptions, Report


def render(report: Report, options: RenderOptions = RenderOptions()) -> str:
    findings = []
    for f in report.findings:
        entry = f.to_dict()
        file, _, line = (report.location(f.urn) or "").rpartition(":")
        entry["file"], entry["line"] = (file, int(line)) if file else (None, None)
        findings.append(entry)
    s = report.summary
    doc = {
        "project": report.project, "stack": report.stack, "findings": findings, "cost": report.cost_summary(),
        "summary": {"resources": s.resources, "rules": s.rules, "mandatory": s.mandatory,
                    "advisory": s.advisory, "remediate": s.remediate, "waived": s.waived, "passed": s.passed},
    }
    return json.dumps(doc, indent=2) + "\n"
