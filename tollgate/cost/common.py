"""What every pricer returns, and the few ways it reads and prints numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

from ..model import is_secret


@dataclass(frozen=True)
class Cost:
    """One resource's monthly cost as declared and as its naive twin (every cost lever off), full precision."""

    monthly: float
    baseline: float
    basis: str
    priced: bool = True


def same(monthly: float, basis: str) -> Cost:
    """A resource with no cost lever: the naive twin pays the same."""
    return Cost(monthly, monthly, basis)


def not_priced(basis: str) -> Cost:
    """Listed, never counted as $0: the basis says why and what would price it."""
    return Cost(0.0, 0.0, basis, priced=False)


def num(value: Any) -> Optional[float]:
    """A finite number from engine inputs (which may be unknown at preview, or a numeric string); None otherwise."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value) if isinstance(value, (int, float, str)) else None
    except (ValueError, OverflowError):
        return None
    return number if number is not None and math.isfinite(number) else None


def amount(value: Any) -> Optional[float]:
    """A quantity (GB, nodes, IOPS, days): a finite number that is not negative; None otherwise."""
    n = num(value)
    return n if n is not None and n >= 0 else None


# Inputs are whatever the program (or a snapshot file) passed: a pricer reads them through these, so a value of
# the wrong type reads as absent, and a secret (an object) is never read, let alone printed in a basis.

def obj(value: Any) -> dict[str, Any]:
    """An object input; {} for anything else, a secret included."""
    return value if isinstance(value, dict) and not is_secret(value) else {}


def items(value: Any) -> list[Any]:
    """A list input; [] for anything else."""
    return value if isinstance(value, list) else []


def text(value: Any) -> Optional[str]:
    """A string input; None for anything else."""
    return value if isinstance(value, str) else None


def shown(value: Any) -> str:
    """An input as a basis may print it: a string as is, anything else (a secret, an object) as `unknown`."""
    return value if isinstance(value, str) else "unknown"


def money(usd: float) -> str:
    return f"${usd:,.2f}"


def rate(usd: float, digits: int = 4) -> str:
    """A unit price: enough decimals to be read back ($0.1656, $0.0037, $0.0000166667)."""
    text = f"{usd:.{digits}f}"
    if float(text) == 0 and usd:
        text = f"{usd:.10f}".rstrip("0")
    return "$" + text


def quantity(value: float) -> str:
    """1,000 or 282.4: whole numbers without decimals, others with one."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def share(fraction: float) -> str:
    return f"{fraction * 100:.1f}%".replace(".0%", "%")
