"""What every pricer returns, and the few ways it reads and prints numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional


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
    """A number from engine inputs (which may be unknown at preview, or a numeric string); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


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
