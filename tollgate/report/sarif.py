"""`--format sarif`: SARIF 2.1.0 (one run), as GitHub code scanning and other SARIF viewers read it.

* rules[]: every rule that ran plus any rule a finding names that did not come from the rule set
  (engine-error, cost, checkov, remediation): id = TG-id, name = rule name. Two rules sharing an
  id (required-tags and its remediation are both TG001) get SARIF's hierarchical form `TG001/<name>`.
* level: the finding's enforcement (mandatory error, advisory warning, remediate note). A waived
  finding keeps its level and carries an accepted external suppression: SARIF's word for waived.
* locations: the file that declared the resource, relative to the Pulumi project (%SRCROOT%), with
  the line when the SDK told it; stack-level findings and resources with no position point at
  Pulumi.yaml. logicalLocations carry the URN.
* partialFingerprints: a hash of rule + URN (+ the occurrence among that pair's findings), so a
  result keeps its identity across runs even when lines move.
* No automationDetails: GitHub's upload-sarif `category:` (one per stack) does not override an id
  already in the file, so the uploader, not the report, names the analysis.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import quote

from .. import __version__
from ..model import Finding
from . import RenderOptions, Report, RuleMeta

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# The distribution's page (pyproject name tollgate-iac); the project declares no other home page yet.
INFORMATION_URI = "https://pypi.org/project/tollgate-iac/"
LEVEL = {"mandatory": "error", "advisory": "warning", "remediate": "note"}
# GitHub reads security-severity as a CVSS-like score: > 9 critical, 7-8.9 high, 4-6.9 medium, < 4 low.
SCORE = {"low": "3.0", "medium": "5.0", "high": "8.0", "critical": "9.5"}
PROJECT_FILE = "Pulumi.yaml"  # every Pulumi project has one at its root: where stack-level findings point
FINGERPRINT = "tollgate/v1"


def _meta_from(finding: Finding) -> RuleMeta:
    """A rules[] entry for a finding whose rule is not in the rule set: built from the finding."""
    return RuleMeta(finding.rule, finding.id, finding.rule.replace("-", " ").capitalize(),
                    f"Reported by the {finding.source} source of Tollgate.", finding.severity,
                    finding.enforcement, finding.source)


def _catalog(report: Report) -> tuple[list[RuleMeta], dict[str, str]]:
    """The rules in output order and each rule name's SARIF id (unique, even when TG-ids repeat)."""
    metas: dict[str, RuleMeta] = {}
    for meta in report.rules:
        metas.setdefault(meta.name, meta)
    for finding in report.findings:
        metas.setdefault(finding.rule, _meta_from(finding))
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for meta in metas.values():
        sarif_id = meta.id if meta.id not in taken else f"{meta.id}/{meta.name}"
        taken.add(sarif_id)
        ids[meta.name] = sarif_id
    return list(metas.values()), ids


def _help(meta: RuleMeta) -> str:
    where = f" Rule source: `{meta.file}`." if meta.file else ""
    return (f"{meta.description}\n\nEach finding's message names the resource and the fix.{where} "
            "An approved exception is a waiver (owner, reason, expiry), reviewed like code.")


def _rule(meta: RuleMeta, sarif_id: str) -> dict[str, Any]:
    return {
        "id": sarif_id, "name": meta.name,
        "shortDescription": {"text": meta.title},
        "fullDescription": {"text": meta.description},
        "help": {"text": _help(meta), "markdown": _help(meta)},
        "defaultConfiguration": {"level": LEVEL.get(meta.enforcement, "warning")},
        "properties": {"severity": meta.severity, "security-severity": SCORE.get(meta.severity, "5.0"),
                       "enforcement": meta.enforcement, "source": meta.source,
                       "tags": sorted({"tollgate", "cost", meta.source})},  # SARIF: tags are unique
    }


def _location(report: Report, finding: Finding) -> dict[str, Any]:
    file, line = report.position(finding.urn)
    # A URI reference: a path's spaces, `#`, `%` or control characters percent-encoded.
    uri = quote(file or PROJECT_FILE, safe="/", errors="surrogateescape")  # (a filename that is no UTF-8)
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"}}
    if line:
        physical["region"] = {"startLine": line}
    logical = {"fullyQualifiedName": finding.urn, "name": finding.name or report.stack, "kind": "resource"}
    return {"physicalLocation": physical, "logicalLocations": [logical]}


def _fingerprint(finding: Finding, occurrence: int) -> str:
    return hashlib.sha256(f"{finding.rule}\0{finding.urn}\0{occurrence}".encode()).hexdigest()[:32]


def _result(report: Report, finding: Finding, ids: dict[str, str], index: dict[str, int],
            occurrence: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": ids[finding.rule], "ruleIndex": index[finding.rule], "level": LEVEL[finding.enforcement],
        "message": {"text": finding.message}, "locations": [_location(report, finding)],
        "partialFingerprints": {FINGERPRINT: _fingerprint(finding, occurrence)},
        "properties": {"enforcement": finding.enforcement, "severity": finding.severity, "source": finding.source,
                       "resourceType": finding.type},
    }
    if finding.waiver is not None:
        w = finding.waiver
        result["suppressions"] = [{"kind": "external", "status": "accepted", "justification": w.reason,
                                   "properties": {"owner": w.owner, "expires": w.expires, "waiver": w.resource}}]
    return result


def render(report: Report, options: RenderOptions = RenderOptions()) -> str:
    metas, ids = _catalog(report)
    index = {meta.name: i for i, meta in enumerate(metas)}
    findings = report.findings
    # Occurrences are numbered in message order so the fingerprints do not depend on the findings' order.
    counts: dict[tuple[str, str], int] = {}
    occurrence: dict[int, int] = {}
    for i in sorted(range(len(findings)), key=lambda i: (findings[i].rule, findings[i].urn, findings[i].message)):
        key = (findings[i].rule, findings[i].urn)
        counts[key] = occurrence[i] = counts.get(key, 0) + 1
    complete = not any(f.rule == "engine-error" for f in report.findings)
    run = {
        "tool": {"driver": {"name": "tollgate", "informationUri": INFORMATION_URI, "version": __version__,
                            "semanticVersion": __version__, "rules": [_rule(m, ids[m.name]) for m in metas]}},
        "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The Pulumi project directory."}}},
        "invocations": [{"executionSuccessful": complete}],
        "results": [_result(report, f, ids, index, occurrence[i]) for i, f in enumerate(findings)],
        "properties": {"project": report.project, "stack": report.stack, "resources": report.summary.resources},
    }
    doc = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(doc, indent=2) + "\n"
