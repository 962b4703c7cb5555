"""`--format markdown`: a pull-request comment.

A status line (whether the change is blocked under `--fail-on`) and the counts; a table of the
unwaived mandatory findings; advisory, remediate and waived findings folded in <details>; and, when the
report carries an estimate (Report.cost), the monthly cost against its naive twin and, with a base
estimate (options.base: the target branch's snapshot, `--base-snapshot`), the change
("+$312.00/month (from $1,000.00 to $1,312.00)") with the resources that changed most.

Estimates are duck-typed (tollgate.cost's Estimate: monthly_usd, baseline_monthly_usd, price_date,
resources: [LineItem: urn, type, name, monthly_usd, baseline_monthly_usd, priced, basis]).
Cells are escaped: a resource name or message cannot break the table or open HTML.
"""

from __future__ import annotations

from typing import Any, Optional

from ..model import Finding
from . import RenderOptions, Report, failing, finding_order, plural

TOP_CHANGES = 5
HEADER = ("ID", "Rule", "Resource", "Location", "Message")


def cell(text: Any) -> str:
    """One table cell: pipes escaped, newlines as <br>, no raw HTML."""
    s = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
    return "<br>".join(s.splitlines()) if ("\n" in s or "\r" in s) else s


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]], align: str = "") -> list[str]:
    rule = [align[i] if i < len(align) else "---" for i in range(len(header))] if align else ["---"] * len(header)
    return ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |",
            *("| " + " | ".join(cell(c) for c in row) + " |" for row in rows)]


def _row(report: Report, f: Finding) -> tuple[str, ...]:
    return (f.id, "" if f.rule == f.id else f.rule, f"{f.name} ({f.type})" if f.name else f"stack {report.stack}",
            report.location(f.urn) or "", f.message)


def status(report: Report, fail_on: str = "mandatory") -> str:
    if any(f.rule == "engine-error" for f in report.findings):
        return "**Tollgate: incomplete: a rule failed to evaluate (see the engine-error finding)**"
    blocking = failing(report.findings, fail_on)
    if blocking:
        kinds = [f"{sum(1 for f in blocking if f.enforcement == k)} {k}" for k in ("mandatory", "advisory")
                 if any(f.enforcement == k for f in blocking)]
        verb = "blocks" if len(blocking) == 1 else "block"
        return f"**Tollgate: {' and '.join(kinds)} finding{'' if len(blocking) == 1 else 's'} {verb} this change**"
    unblocked = sum(1 for f in report.findings if f.blocking)
    if unblocked:  # --fail-on never
        found = plural(unblocked, "mandatory finding")
        return f"**Tollgate: passed with {found} (not blocking: --fail-on {fail_on})**"
    return "**Tollgate: passed**"


def _folded(title: str, lines: list[str]) -> list[str]:
    return ["<details>", f"<summary>{title}</summary>", "", *lines, "", "</details>", ""]


def _findings(report: Report, fail_on: str) -> list[str]:
    live = sorted((f for f in report.findings if f.waiver is None), key=finding_order)
    out: list[str] = []
    mandatory = [f for f in live if f.enforcement == "mandatory"]
    if mandatory:
        out += ["### Mandatory findings", "", *_table(HEADER, [_row(report, f) for f in mandatory]), ""]
    for level, note in (("advisory", " (blocking: --fail-on advisory)" if fail_on == "advisory" else ""),
                        ("remediate", " (filled in by tag remediation)")):
        found = [f for f in live if f.enforcement == level]
        if found:
            out += _folded(f"{plural(len(found), level + ' finding')}{note}",
                           _table(HEADER, [_row(report, f) for f in found]))
    waived = sorted((f for f in report.findings if f.waiver is not None), key=finding_order)
    if waived:
        rows = [(*_row(report, f)[:4], f.enforcement, f.waiver.owner, f.waiver.expires, f.waiver.reason, f.message)
                for f in waived]
        header = ("ID", "Rule", "Resource", "Location", "Level", "Waived by", "Until", "Reason", "Message")
        out += _folded(plural(len(waived), "waived finding"), _table(header, rows))
    return out


def money(usd: float) -> str:
    return f"${usd:,.2f}" if usd >= 0 else f"-${-usd:,.2f}"


def signed(usd: float) -> str:
    return ("+" if usd >= 0 else "-") + f"${abs(usd):,.2f}"


def _changes(estimate: Any, base: Any) -> list[tuple[str, str, Optional[float], Optional[float], float]]:
    """Per resource (by URN): (name, type, before, after, change), the largest changes first."""
    before = {i.urn: i for i in base.resources}
    after = {i.urn: i for i in estimate.resources}
    rows = []
    for urn in {**before, **after}:
        b, a = before.get(urn), after.get(urn)
        item = a or b
        old = b.monthly_usd if b else None
        new = a.monthly_usd if a else None
        delta = (new or 0.0) - (old or 0.0)
        if abs(delta) >= 0.005:
            rows.append((item.name, item.type, old, new, delta))
    return sorted(rows, key=lambda r: (-abs(r[4]), r[0]))


def _cost(estimate: Any, base: Any = None) -> list[str]:
    total, naive = estimate.monthly_usd, estimate.baseline_monthly_usd
    line = f"Estimated **{money(total)}/month**"
    if getattr(estimate, "price_date", None):
        line += f" at prices of {estimate.price_date}"
    if naive and naive > 0:
        line += (f"; its naive twin (every cost lever off) would cost {money(naive)}/month: "
                 f"{(naive - total) / naive * 100:.1f}% saved")
    out = ["### Cost", "", line + "."]
    unpriced = [i for i in estimate.resources if not i.priced]
    if unpriced:
        out += ["", f"{plural(len(unpriced), 'resource')} not priced (not counted as $0): "
                    + ", ".join(cell(i.name) for i in unpriced[:10]) + (", ..." if len(unpriced) > 10 else "") + "."]
    if base is not None:
        delta = total - base.monthly_usd
        change = (f"{signed(delta)}/month (from {money(base.monthly_usd)} to {money(total)})"
                  if abs(delta) >= 0.005 else f"no change ({money(total)}/month)")
        out += ["", f"Change against the base: **{change}**"]
        rows = _changes(estimate, base)
        if rows:
            shown = [(name, type_, "new" if old is None else money(old), "removed" if new is None else money(new),
                      signed(delta)) for name, type_, old, new, delta in rows[:TOP_CHANGES]]
            out += ["", *_table(("Resource", "Type", "Base", "This change", "Change"), shown,
                                ["---", "---", "--:", "--:", "--:"])]
    return out + [""]


def render(report: Report, options: RenderOptions = RenderOptions()) -> str:
    fail_on, s = options.fail_on, report.summary
    lines = [f"<!-- tollgate:{report.project}/{report.stack} -->", status(report, fail_on), "",
             f"`{cell(report.project)}/{cell(report.stack)}`: {s.resources} resources, {s.rules} rules; "
             f"{s.mandatory} mandatory, {s.advisory} advisory, {s.remediate} remediate, {s.waived} waived.", ""]
    lines += _findings(report, fail_on)
    if report.cost is not None:
        lines += _cost(report.cost, options.base() if options.base else None)
    return "\n".join(lines).rstrip("\n") + "\n"
