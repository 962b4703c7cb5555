"""`--format junit`: JUnit XML for CI test dashboards (GitLab, Jenkins, Azure, test-reporter actions).

<testsuites> holds one <testsuite name="tollgate.<source>"> per source that ran a rule or reported a
finding (rego, crossguard, cost, checkov). Test cases:

* one per (rule, resource) with findings, named "<id> <rule>: <resource> (<type>)", classname
  "tollgate.<source>.<rule>", with the program's file and line when known. Its verdict follows the
  run's exit code (`--fail-on`): a finding that fails the run is a <failure type="<id>"> (all of the
  pair's messages in the body); an advisory or remediate finding that does not fail the run passes
  with its message in <system-out> (a dashboard must not count it as skipped, i.e. not run); a pair
  whose findings are all waived is <skipped message="waived by <owner> until <date>: <reason>">.
  engine-error is an <error>: the rule could not be run, which is neither a pass nor a finding.
* one passing case "<id> <rule>: stack <stack>" per rule that ran and found nothing on the whole
  stack, so a dashboard lists every rule that ran, not only the ones that fired.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..model import SOURCES, Finding
from . import RenderOptions, Report, RuleMeta, failing

ENGINE_ERROR = "engine-error"
# Characters XML 1.0 cannot hold at all (not even escaped), e.g. the control characters a resource name may carry,
# each written as `#xNN` instead (pytest's junitxml does the same).
NOT_XML = {c: f"#x{c:02X}" for c in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0xD800, 0xE000),
                                      0xFFFE, 0xFFFF)}


def _waived_text(f: Finding) -> str:
    w = f.waiver
    return f"waived by {w.owner} until {w.expires}: {w.reason}" if w else ""


def _case(suite: ET.Element, report: Report, findings: list[Finding], fails: set[Finding]) -> None:
    first = findings[0]
    resource = f"{first.name} ({first.type})" if first.name else f"stack {report.stack}"
    case = ET.SubElement(suite, "testcase", name=f"{first.id} {first.rule}: {resource}",
                         classname=f"tollgate.{first.source}.{first.rule}")
    file, line = report.position(first.urn)
    if file:
        case.set("file", file)
        case.set("line", str(line))
    failed = [f for f in findings if f in fails or f.rule == ENGINE_ERROR]  # an engine error is never a pass
    rest = [f for f in findings if f not in failed]
    if failed:
        tag = "error" if first.rule == ENGINE_ERROR else "failure"
        body = "\n".join(f"{f.enforcement}: {f.message}" for f in failed) + f"\n{first.urn}\n"
        ET.SubElement(case, tag, message=failed[0].message.splitlines()[0] if failed[0].message else first.rule,
                      type=first.id).text = body
    elif all(f.waiver for f in findings):
        ET.SubElement(case, "skipped", message=_waived_text(first)).text = "\n".join(
            f"{f.enforcement} (waived): {f.message}" for f in findings)
        rest = []
    if rest:
        ET.SubElement(case, "system-out").text = "\n".join(
            f"{f.enforcement}{' (' + _waived_text(f) + ')' if f.waiver else ''}: {f.message}" for f in rest)


def _errored(meta: RuleMeta, findings: list[Finding]) -> bool:
    """A rule that failed to run has no passing case: its engine-error case says so (evaluate's wording)."""
    prefix = f"rule {meta.name} ({meta.id}) failed"
    return any(f.rule == ENGINE_ERROR and f.message.startswith(prefix) for f in findings)


def render(report: Report, options: RenderOptions = RenderOptions()) -> str:
    metas = report.rules
    fails = set(failing(report.findings, options.fail_on))
    pairs: dict[tuple[str, str, str], list[Finding]] = {}
    for f in report.findings:
        pairs.setdefault((f.source, f.rule, f.urn), []).append(f)
    fired = {f.rule for f in report.findings}
    sources = [s for s in SOURCES if any(m.source == s for m in metas) or any(f.source == s for f in report.findings)]
    root = ET.Element("testsuites", name=f"tollgate {report.project}/{report.stack}")
    for source in sources:
        suite = ET.SubElement(root, "testsuite", name=f"tollgate.{source}")
        props = ET.SubElement(suite, "properties")
        for key, value in (("project", report.project), ("stack", report.stack)):
            ET.SubElement(props, "property", name=key, value=value)
        for (src, _, _), findings in sorted(pairs.items(), key=lambda kv: (kv[1][0].id, kv[0][1], kv[0][2])):
            if src == source:
                _case(suite, report, findings, fails)
        for meta in sorted(metas, key=lambda m: (m.id, m.name)):
            if meta.source == source and meta.name not in fired and not _errored(meta, report.findings):
                ET.SubElement(suite, "testcase", name=f"{meta.id} {meta.name}: stack {report.stack}",
                              classname=f"tollgate.{source}.{meta.name}")
        _count(suite)
    _count(root)
    _xml_safe(root)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _xml_safe(root: ET.Element) -> None:
    """Text and attributes as XML can hold them (see NOT_XML)."""
    for element in root.iter():
        if element.text:
            element.text = element.text.translate(NOT_XML)
        for key, value in element.attrib.items():
            element.set(key, value.translate(NOT_XML))


def _count(element: ET.Element) -> None:
    """tests/failures/errors/skipped on a suite (from its cases) or on <testsuites> (from its suites)."""
    cases = list(element.iter("testcase"))
    element.set("tests", str(len(cases)))
    for tag, attr in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
        element.set(attr, str(sum(1 for c in cases if c.find(tag) is not None)))
