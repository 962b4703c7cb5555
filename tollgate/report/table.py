"""`--format table`: findings grouped by resource, mandatory first, then a one-line summary."""

from __future__ import annotations

import textwrap

from . import RenderOptions, Report, finding_order, plural

MARK = {"mandatory": "✖", "remediate": "✎", "advisory": "!", "waived": "~"}
ORDER = {"mandatory": 0, "remediate": 1, "advisory": 2, "waived": 3}
WIDTH = 100  # columns a message wraps at


def _level(f) -> str:
    """A waived finding is listed (never removed) but ranks and reads as waived."""
    return "waived" if f.waiver is not None else f.enforcement


def render(report: Report, options: RenderOptions = RenderOptions()) -> str:
    width = options.width or WIDTH
    s = report.summary
    lines = [f"Tollgate preview of {report.project}/{report.stack}: {plural(s.resources, 'resource')}, "
             f"{plural(s.rules, 'rule')}", ""]
    groups: dict[str, list] = {}
    for finding in report.findings:
        groups.setdefault(finding.urn, []).append(finding)
    ranked = sorted(groups.items(), key=lambda kv: (min(ORDER[_level(f)] for f in kv[1]), kv[0]))
    for urn, findings in ranked:
        first = findings[0]
        worst = min((_level(f) for f in findings), key=ORDER.get)
        where = report.location(urn)
        lines.append(f"{MARK[worst]} {first.name or '(stack)'}  {first.type}" + (f"  at {where}" if where else ""))
        for f in sorted(findings, key=finding_order):
            w = f.waiver
            named = f.id if f.rule == f.id else f"{f.id} {f.rule}"  # a checkov check's rule is its ID
            lines.append(f"    {_level(f).upper():<9} {named}" + (
                f"  ({f.enforcement}; waived by {w.owner} until {w.expires}: {w.reason})" if w else ""))
            lines += textwrap.wrap(f.message, width=width, initial_indent=" " * 8, subsequent_indent=" " * 8)
        lines.append("")
    cost = report.cost_summary()
    if cost:
        unpriced = f", {plural(cost['not_priced'], 'resource')} not priced" if cost["not_priced"] else ""
        lines.append(f"Estimated cost: ${cost['monthly_usd']:,.2f}/month (naive twin ${cost['baseline_monthly_usd']:,.2f}, "
                     f"{cost['saving_percent']:.1f}% saved; prices as of {cost['price_date']}{unpriced}); "
                     "details: tollgate cost")
    verdict = "FAIL" if not s.passed else "PASS"
    touched = len(groups)
    counts = f"{s.mandatory} mandatory, {s.advisory} advisory, {s.remediate} remediate"
    lines.append(f"{verdict}: {counts}{f', {s.waived} waived' if s.waived else ''} "
                 f"{'finding' if s.mandatory + s.advisory + s.remediate + s.waived == 1 else 'findings'} "
                 f"on {touched:,} of {plural(s.resources, 'resource')}")
    return "\n".join(lines) + "\n"
