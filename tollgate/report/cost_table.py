"""`tollgate cost`: the estimate as a table a person reads (most expensive first) or as JSON.

Both have the shape of every format, `(estimate, options) -> str`, and are named in COST_FORMATS.
Amounts keep full precision until here; both renderings round to cents.
"""

from __future__ import annotations

import json
import textwrap

from ..cost import Estimate, LineItem
from ..cost.estimate import PRICERS
from . import RenderOptions, plural

COLUMNS = ("RESOURCE", "TYPE", "MONTHLY", "NAIVE", "SAVING", "%")
WIDTH = 110  # columns a pricing basis wraps at


def _usd(x: float) -> str:
    return f"-${-x:,.2f}" if round(x, 2) < 0 else f"${x:,.2f}"


def _saving(monthly: float, baseline: float) -> tuple[str, str]:
    """Saving as the reader would subtract the two printed amounts, and its share of the naive cost."""
    saving = round(baseline, 2) - round(monthly, 2)
    return _usd(saving), (f"{saving / baseline:.1%}" if baseline > 0 and round(saving, 2) else "")


def _short_type(token: str) -> str:
    """aws:eks/nodeGroup:NodeGroup -> eks/NodeGroup."""
    parts = token.split(":")
    return f"{parts[1].split('/')[0]}/{parts[2]}" if len(parts) == 3 else token


def shown(item: LineItem) -> bool:
    """Rows: what can cost money. Free-by-nature lines (IAM, configuration, components) stay in the JSON."""
    return item.priced and (item.type in PRICERS or not item.free)


def _wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    return textwrap.wrap(text, width=width, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False)


def render_table(estimate: Estimate, options: RenderOptions = RenderOptions()) -> str:
    width = options.width or WIDTH
    rows = sorted((i for i in estimate.resources if shown(i)), key=lambda i: (-i.monthly_usd, i.name))
    cells = [(i.name, _short_type(i.type), _usd(i.monthly_usd), _usd(i.baseline_monthly_usd),
              *_saving(i.monthly_usd, i.baseline_monthly_usd)) for i in rows]
    total = (f"TOTAL ({plural(len(rows), 'resource')})", "", _usd(estimate.monthly_usd), _usd(estimate.baseline_monthly_usd),
             *_saving(estimate.monthly_usd, estimate.baseline_monthly_usd))
    widths = [max(len(c[k]) for c in [COLUMNS, *cells, total]) for k in range(len(COLUMNS))]

    def line(c: tuple[str, ...]) -> str:
        return "  ".join([c[0].ljust(widths[0]), c[1].ljust(widths[1])] +
                         [c[k].rjust(widths[k]) for k in range(2, len(c))]).rstrip()

    out = [f"Monthly cost estimate: AWS list prices as of {estimate.price_date} (730 h/month); "
           "naive = every cost lever off (on-demand, always on, STANDARD storage, gp2)", "", line(COLUMNS)]
    for item, c in zip(rows, cells):
        out.append(line(c))
        out += _wrap(item.basis, width, " " * 4, " " * 6)
    out += ["-" * len(line(total)), line(total), ""]
    hidden = sum(1 for i in estimate.resources if i.priced and not shown(i))
    out.append(f"{plural(hidden, 'resource')} cost nothing by {'itself' if hidden == 1 else 'themselves'} (IAM, "
               "configuration, components, ...); --format json lists every one with the reason.")
    missing = estimate.not_priced
    if missing:  # a resource not priced is listed, never counted as $0
        out.append(f"{plural(len(missing), 'resource')} not priced, in neither total:")
    for i in missing:
        out += _wrap(f"{i.name} ({_short_type(i.type)}): {i.basis}", width, "  ", "      ")
    out += [f"Note: {n}" for n in estimate.notes]
    return "\n".join(out) + "\n"


def _cents(x: float) -> float:
    return round(x, 2) + 0.0  # + 0.0: no "-0.0" in the output


def render_json(estimate: Estimate, options: RenderOptions = RenderOptions()) -> str:
    doc = {
        "monthly_usd": _cents(estimate.monthly_usd),
        "baseline_monthly_usd": _cents(estimate.baseline_monthly_usd),
        "price_date": estimate.price_date,
        "resources": [{"urn": i.urn, "type": i.type, "name": i.name, "monthly_usd": _cents(i.monthly_usd),
                       "baseline_monthly_usd": _cents(i.baseline_monthly_usd), "priced": i.priced, "basis": i.basis}
                      for i in estimate.resources],
    }
    if estimate.notes:
        doc["notes"] = list(estimate.notes)
    return json.dumps(doc, indent=2) + "\n"
