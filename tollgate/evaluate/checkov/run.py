"""Run checkov (its own virtualenv: it pins packaging==23.2, pulumi needs >=26) on the written plan and
manifests, and map its failed checks back to the Pulumi urns as findings with `source: checkov`.

Checkov's semantics are kept: it runs in the Pulumi project's directory, so the project's `.checkov.yaml`
(skip-check, check, ...) applies as it would to a Terraform project, and skip annotations on a Kubernetes
object (`checkov.io/skip1: CKV_K8S_8=reason`) put that check under checkov's skipped checks, not its failures.

Severity and enforcement: checkov's open-source checks report no severity (`null`); a check that declares
one (custom policies, or results enriched by the vendor platform) keeps it, lower-cased (INFO -> low).
A failed check with severity high or critical is `mandatory`; every other failure is `advisory` with
severity `medium` when checkov gave none: a generic scanner's hundreds of checks inform, the Rego
guardrails gate, and a team that wants a checkov check to gate states its severity in a custom policy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Optional

from ...bundled import PACKAGE_DIR
from ...errors import TollgateError
from ...model import Finding, Snapshot
from .manifests import build_manifests
from .plan import build_plan

REPO_ROOT = PACKAGE_DIR.parent  # a checkout's, where .venv-checkov is
SEVERITY = {"critical": "critical", "high": "high", "medium": "medium", "low": "low", "info": "low"}
GATING = ("high", "critical")
PLAN_FILE = "plan.json"
MANIFEST_DIR = "manifests"
INSTALL_FIX = "run the README set-up (creates .venv-checkov), or set TOLLGATE_CHECKOV to a checkov executable"


def locate_checkov() -> str:
    """TOLLGATE_CHECKOV, else <repo>/.venv-checkov/bin/checkov, else `checkov` on PATH."""
    configured = os.environ.get("TOLLGATE_CHECKOV")
    if configured:
        if Path(configured).is_file() or shutil.which(configured):
            return configured
        raise TollgateError(f"TOLLGATE_CHECKOV={configured} is not an executable", fix=INSTALL_FIX)
    for candidate in (REPO_ROOT / ".venv-checkov" / "bin" / "checkov",
                      REPO_ROOT / ".venv-checkov" / "Scripts" / "checkov.exe"):
        if candidate.is_file():
            return str(candidate)
    found = shutil.which("checkov")
    if found:
        return found
    raise TollgateError("checkov not installed; run the README set-up (creates .venv-checkov)", fix=INSTALL_FIX)


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run_checkov(snapshot: Snapshot, cwd: Optional[Path] = None, timeout: float = 600) -> list[Finding]:
    """Findings of checkov on the snapshot's AWS resources (as a plan) and Kubernetes resources (as manifests).

    `cwd` is the Pulumi project directory: checkov runs there, so its `.checkov.yaml` applies."""
    executable = locate_checkov()
    cwd = Path(cwd or Path.cwd())
    if not cwd.is_dir():
        raise TollgateError("not a directory (checkov runs in the project directory)", str(cwd))
    plan, manifests = build_plan(snapshot), build_manifests(snapshot)
    if not plan.urns and not manifests.urns:
        return []
    with tempfile.TemporaryDirectory(prefix="tollgate-checkov-") as tmp:
        out = Path(tmp)
        command = [executable, "-o", "json", "--quiet", "--compact", "--skip-download", "--framework"]
        frameworks, targets = [], []
        if plan.urns:
            (out / PLAN_FILE).write_text(json.dumps(plan.document, indent=1), encoding="utf-8")
            frameworks.append("terraform_plan")
            targets += ["-f", str(out / PLAN_FILE)]
        if manifests.urns:
            manifests.write(out / MANIFEST_DIR)
            frameworks.append("kubernetes")
            targets += ["-d", str(out / MANIFEST_DIR)]
        # Unknowns are "known after apply" (see plan.py); nothing is fetched from the vendor's platform; and
        # checkov's interpreter sees its own virtualenv only (it pins packaging==23.2, ours is >=26).
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        env.update(EVAL_TF_PLAN_AFTER_UNKNOWN="true", BC_SKIP_MAPPING="TRUE")
        try:
            proc = subprocess.run(command + frameworks + targets, cwd=cwd, env=env,
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise TollgateError(f"checkov did not finish within {timeout:.0f} s") from exc
        except OSError as exc:
            raise TollgateError(f"checkov could not be started: {exc}", executable, fix=INSTALL_FIX) from exc
        if proc.returncode not in (0, 1):
            raise TollgateError(f"checkov failed (exit {proc.returncode}):\n{_tail(proc.stderr or proc.stdout)}")
        try:
            reports = json.loads(proc.stdout)   # checkov always prints a report, even with nothing failed
        except json.JSONDecodeError as exc:
            raise TollgateError(f"checkov's output is not JSON (exit {proc.returncode}):\n"
                                f"{_tail(proc.stderr or proc.stdout)}") from exc
    return map_results(reports, snapshot, plan.urns, manifests.files, manifests.urns)


def map_results(reports: Any, snapshot: Snapshot, plan_urns: dict[str, str], manifest_files: dict[str, str],
                manifest_keys: Optional[dict[str, str]] = None) -> list[Finding]:
    """checkov's JSON (one report, or a list with one per framework) -> findings on the snapshot's urns."""
    if isinstance(reports, dict):
        reports = [reports]
    if not isinstance(reports, list) or not reports:
        raise TollgateError(f"checkov's output is not a report: {json.dumps(reports)[:200]}")
    resources = {r.urn: r for r in snapshot.resources}
    findings: list[Finding] = []
    for report in reports:
        if isinstance(report, dict) and "results" not in report and _empty_run(report):
            continue   # checkov's empty-run summary: nothing was scanned by that framework
        if not isinstance(report, dict) or not isinstance(report.get("results"), dict):
            # anything else (garbage, another tool's JSON) would read as "no failed check": never a pass
            raise TollgateError(f"checkov's output is not a report: {json.dumps(report)[:200]}")
        parsing_errors = report.get("summary", {}).get("parsing_errors") or report["results"].get("parsing_errors")
        if parsing_errors:
            raise TollgateError(f"checkov could not parse what tollgate wrote for {report.get('check_type')}: "
                                f"{parsing_errors}; this is a bug in tollgate's checkov bridge")
        for check in report["results"].get("failed_checks") or []:
            if report.get("check_type") == "terraform_plan":
                urn = plan_urns.get(check.get("resource_address") or check.get("resource") or "")
            else:
                urn = _manifest_urn(check, manifest_files, manifest_keys or {})
            if urn is None:
                raise TollgateError(f"checkov reported {check.get('check_id')} on {check.get('resource')} "
                                    f"({check.get('file_path')}), which tollgate did not write")
            findings.append(_finding(check, resources.get(urn), urn))
    return findings


def _empty_run(report: dict[str, Any]) -> bool:
    """checkov's summary when a framework scanned nothing: {"passed": 0, "failed": 0, ...}, no `results`."""
    return {"passed", "failed"} <= report.keys() and report["failed"] == 0


def _manifest_urn(check: dict[str, Any], manifest_files: dict[str, str], manifest_keys: dict[str, str]) -> Optional[str]:
    """By file (one object per file; checkov also reports the Pod it derives from a workload's template as
    `Pod.<ns>.<name>.<labels>`, in the workload's file), else by checkov's `Kind.namespace.name`."""
    file_name = Path(str(check.get("file_path") or "")).name
    return manifest_files.get(file_name) or manifest_keys.get(str(check.get("resource") or ""))


def _finding(check: dict[str, Any], resource: Any, urn: str) -> Finding:
    checkov_severity = str(check.get("severity") or "").lower()
    severity = SEVERITY.get(checkov_severity, "medium")
    enforcement = "mandatory" if checkov_severity in GATING else "advisory"
    message = f"{check.get('check_name') or check['check_id']} (checkov {check['check_id']} on {check.get('resource')})"
    if check.get("guideline"):
        message += f"; fix: {check['guideline']}"
    return Finding(rule=check["check_id"], id=check["check_id"], urn=urn,
                   type=resource.type if resource else urn.split("::")[-2].rsplit("$", 1)[-1],
                   name=resource.name if resource else urn.rsplit("::", 1)[-1],
                   enforcement=enforcement, severity=severity, message=message, source="checkov")
