"""Waive: Findings -> Findings'. Approved exceptions come from one file, waivers.yaml, reviewed like code.

    waivers:
      - rule: gpu-approval              # rule name or id (TG003)
        resource: pool-gpu-*            # name pattern (fnmatch), or a urn / urn pattern (contains "::")
        owner: ml-lead@example.com
        reason: quarterly training run, approved in PLAT-123
        expires: 2027-01-31             # YYYY-MM-DD; the waiver holds through this day (UTC)

A waiver never removes a finding: a covered finding keeps its place and carries `waiver`, so it no longer
blocks. Decisions, with the reason a demanding reviewer would ask for:

* Only this file waives. Nothing on a resource (a tag such as `tollgate-waiver: gpu-approval`, an input, a
  stack config key) can silence a rule: the code under review must not approve itself. The CLI also reads
  the file before the program runs, so a program cannot write its own waiver either.
* Problems with the file itself are findings of rule `waiver`, id TG090: not a catalog id (TG001-TG016 are
  stable and grow upwards) and not TG000 (engine-error); TG09x is kept for findings about Tollgate's inputs.
  A malformed file (not YAML, not `waivers: [...]`) is an error instead (exit 2): nothing can be judged.
* An entry missing rule/resource/owner/reason/expires, with an expiry not written YYYY-MM-DD (a timestamp's
  zone would move the day), or naming an unknown rule waives nothing and is a mandatory finding naming
  file:line: a broken approval is a broken input. A file that cannot be read as written (a repeated key, a
  YAML alias, too large) is refused whole: waivers_file.py.
* Blanket waivers are refused (mandatory): a pattern whose name part is only wildcards and character classes
  (`*`, `[a-z]*`, `urn:...::*[!:]`) names no resource, nor does a wildcard pattern that matches every resource
  (two or more) of the types its rule reported in the stack; that is turning a rule off, which belongs in the
  per-stack policy config, reviewed as such.
* engine-error findings are never waived (a rule that failed has not judged anything), nor TG090 findings.
* Expiry is inclusive: `expires: 2027-01-31` covers findings on that day and none from 2027-02-01.
  An expired waiver waives nothing. If a finding it matches is now uncovered, a TG090 finding sits next to it
  (mandatory when that finding blocks), saying who owned the approval and when it lapsed: the build fails
  either way, and whoever reads the failure learns why an approved resource blocks again and that renewing
  means a new review.
  An expired waiver that matches nothing uncovered is advisory: delete it.
* An active waiver that matches no finding is advisory ("stale"): left in place it would silently approve
  a future regression of the same resource.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import replace
from datetime import date
from typing import Optional, Sequence

from ..model import Finding, Resource, Waiver
from .findings import ENGINE_ERROR, sort_findings
from .waivers_file import DEFAULT_FILE, FIELDS, FIX_FILE, WaiverEntry, load_waivers, read_waivers, short

__all__ = ["DEFAULT_FILE", "FIELDS", "RULE", "RULE_ID", "WaiverEntry", "apply_waivers", "load_waivers",
           "read_waivers"]

RULE = "waiver"
RULE_ID = "TG090"
SOURCE = "waivers"  # findings about the waivers file itself
_ENGINE = "an engine failure cannot be waived (a rule that failed judged nothing); fix the rule that failed"
_SELF = "a problem with a waiver cannot be waived; fix the waiver entry"
UNWAIVABLE = {ENGINE_ERROR: _ENGINE, "TG000": _ENGINE, RULE: _SELF, RULE_ID: _SELF}  # rule names and ids
# checkov has ~1,000 checks and only runs with --checkov: a waiver for one is accepted by the shape of its id,
# so the same waivers file works with and without --checkov (where it then matches nothing: stale, advisory).
CHECKOV_ID = re.compile(r"^CKV2?_[A-Z0-9]+_\d+$")
_CLASS = re.compile(r"\[!?\]?[^\]]*\]")  # an fnmatch character class: [a-z], [!:], []x]
WILDCARD = re.compile(r"[*?\[]")


def apply_waivers(findings: list[Finding], waivers: list[WaiverEntry], today: date, known_rules: dict[str, str],
                  stack_urn: str = "", resources: Sequence[Resource] = ()) -> list[Finding]:
    """Attach the covering waiver to each finding an active waiver matches; add TG090 findings for the file.

    `known_rules` maps rule name -> id; `stack_urn` is where findings about the file itself attach;
    `resources` are the stack's, against which a pattern that matches every resource of its rule's types is
    refused as blanket.
    """
    usable, out = [], []
    for entry in waivers:
        refusal = _refusal(entry, known_rules) or _covers_every(entry, findings, resources)
        if refusal:
            out.append(_finding(stack_urn, "", "pulumi:pulumi:Stack", "mandatory", f"{entry.where}: {refusal}"))
        else:
            usable.append(entry)
    hits: dict[int, list[Finding]] = {id(e): [] for e in usable}
    for finding in findings:
        matching = [e for e in usable if _matches(e, finding)]
        for entry in matching:
            hits[id(entry)].append(finding)
        active = next((e for e in matching if today <= e.expires), None)
        out.append(replace(finding, waiver=_waiver(active, finding)) if active else finding)
    covered = {(f.urn, f.rule, f.message) for f in out if f.waiver}
    for entry in usable:
        out += _lifecycle(entry, hits[id(entry)], covered, today, stack_urn)
    return sort_findings(out)


def _refusal(entry: WaiverEntry, known_rules: dict[str, str]) -> Optional[str]:
    """Why an entry waives nothing, or None when it is usable."""
    if entry.problems:
        return f"waiver entry is incomplete: {'; '.join(entry.problems)}; {FIX_FILE}"
    if entry.rule in UNWAIVABLE:
        return f"{entry.describe()} refused: {UNWAIVABLE[entry.rule]}"
    known = entry.rule in known_rules or entry.rule in known_rules.values() or CHECKOV_ID.match(entry.rule)
    if not known:
        return (f"waiver names rule `{short(entry.rule)}`, which is not a Tollgate rule; use a rule name or id "
                f"(e.g. gpu-approval or TG003) or a checkov check id (e.g. CKV_AWS_79)")
    if _blanket(entry.resource):
        return (f"blanket {entry.describe()} refused: the pattern names no resource; name the resources "
                f"(a urn or a name pattern such as pool-gpu-*), or disable the rule for the stack in --policy-config")
    return None


def _blanket(pattern: str) -> bool:
    """Only wildcards where a resource name should be: `*`, `?*`, `[a-z]*`, `urn:pulumi:prod::p::aws:...::*[!:]`
    (a character class matches any of many names: it counts as a wildcard)."""
    return not _CLASS.sub("", pattern.rsplit("::", 1)[-1]).strip("*?")


def _covers_every(entry: WaiverEntry, findings: list[Finding], resources: Sequence[Resource]) -> Optional[str]:
    """A wildcard pattern that matches every resource (two or more) of the types its rule reported in the stack
    names none of them: it is the rule turned off for those types, however it is spelled (`*o*`, `*-*`)."""
    if not WILDCARD.search(entry.resource):
        return None
    types = {f.type for f in findings if entry.rule in (f.rule, f.id)}
    population = [r for r in resources if r.type in types]
    uses_urn = "::" in entry.resource
    if len(population) < 2 or not all(fnmatch.fnmatchcase(r.urn if uses_urn else r.name, entry.resource)
                                      for r in population):
        return None
    return (f"blanket {entry.describe()} refused: the pattern matches every {', '.join(sorted(types))} in the "
            f"stack ({len(population)} resources); name the resources it approves (a urn or a name pattern such "
            f"as pool-gpu-*), or disable the rule for the stack in --policy-config")


def _matches(entry: WaiverEntry, finding: Finding) -> bool:
    if finding.rule in UNWAIVABLE or finding.id in UNWAIVABLE or entry.rule not in (finding.rule, finding.id):
        return False
    subject = finding.urn if "::" in entry.resource else finding.name
    return fnmatch.fnmatchcase(subject, entry.resource)


def _waiver(entry: WaiverEntry, finding: Finding) -> Waiver:
    return Waiver(rule=finding.rule, resource=entry.resource, owner=entry.owner, reason=entry.reason,
                  expires=entry.expires.isoformat())


def _lifecycle(entry: WaiverEntry, hits: list[Finding], covered: set, today: date, stack_urn: str) -> list[Finding]:
    """Expired and stale waivers: see the module docstring for why each is mandatory or advisory."""
    if today <= entry.expires:
        if hits:
            return []
        return [_finding(stack_urn, "", "pulumi:pulumi:Stack", "advisory",
                         f"{entry.where}: {entry.describe()} matches no finding; delete it (a stale waiver "
                         f"would silently approve a future regression)")]
    lapsed = f"{entry.where}: {entry.describe()} expired on {entry.expires.isoformat()}"
    uncovered = {f.urn: f for f in hits if (f.urn, f.rule, f.message) not in covered}
    if not uncovered:
        return [_finding(stack_urn, "", "pulumi:pulumi:Stack", "advisory",
                         f"{lapsed} and covers no finding; delete it")]
    return [_finding(f.urn, f.name, f.type, "mandatory" if f.blocking else "advisory",
                     f"{lapsed}; {f.rule} on `{f.name or f.urn}` {'blocks' if f.blocking else 'is reported'} again: "
                     f"renew the waiver (a new review) or fix the resource") for f in uncovered.values()]


def _finding(urn: str, name: str, type_: str, enforcement: str, message: str) -> Finding:
    return Finding(rule=RULE, id=RULE_ID, urn=urn, type=type_, name=name, enforcement=enforcement,
                   severity="high" if enforcement == "mandatory" else "low", message=message, source=SOURCE)
