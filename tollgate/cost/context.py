"""What a pricer may ask about the rest of the snapshot: related resources and the usage that applies.

Usage for one resource, key by key, first found wins:
  1. the usage file's entry for the resource (name or URN),
  2. the usage file's entry for an enclosing component (name or URN),
  3. the usage an enclosing component recorded (its `usage` input),
  4. the pricer's documented default (docs/usage.md).
A component's usage is shared equally by its descendants it applies to, so a component with two
buckets does not count its storage twice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

from ..model import Resource, Snapshot
from .common import amount
from .prices import Prices
from .usage import Usage

COMPONENT_PREFIX = "tollgate:components:"
Targets = Callable[[list[Resource]], list[Resource]]


@dataclass
class Resolved:
    values: dict[str, float] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)

    def get(self, key: str) -> Optional[float]:
        return self.values.get(key)

    def origin(self, key: str) -> str:
        return self.origins.get(key, "default")


class Context:
    def __init__(self, snapshot: Snapshot, usage: Usage, prices: Prices):
        self.usage, self.prices = usage, prices
        # What a fix names: the stack's usage file where it is known, else where it goes.
        self.usage_file = _from_here(usage.path) if usage.path else \
            f"usage.{snapshot.stack}.yaml (beside Pulumi.{snapshot.stack}.yaml)"
        self.by_urn = {r.urn: r for r in snapshot.resources}
        self._dependents: dict[str, list[tuple[Resource, str]]] = defaultdict(list)
        self._descendants: dict[str, list[Resource]] = defaultdict(list)
        self.by_type: dict[str, list[Resource]] = defaultdict(list)
        for r in snapshot.resources:
            self.by_type[r.type].append(r)
            for prop, urns in r.property_dependencies.items():
                for urn in urns:
                    self._dependents[urn].append((r, prop))
            for ancestor in self.ancestors(r):
                self._descendants[ancestor.urn].append(r)

    def ancestors(self, r: Resource) -> Iterable[Resource]:
        seen, parent = set(), self.by_urn.get(r.parent or "")
        while parent is not None and parent.urn not in seen:
            seen.add(parent.urn)
            yield parent
            parent = self.by_urn.get(parent.parent or "")

    def component_hint(self, r: Resource, component_type: str, argument: str) -> str:
        """' (or <argument> on its <Component>)' when r sits in that component, so the fix names both places."""
        parent = self.by_urn.get(r.parent or "")
        kind = COMPONENT_PREFIX + component_type
        return f" (or {argument} on its {component_type})" if parent is not None and parent.type == kind else ""

    def related(self, r: Resource, prop: str) -> list[Resource]:
        """The resources r's property `prop` was computed from (its propertyDependencies)."""
        return [self.by_urn[u] for u in r.property_dependencies.get(prop, []) if u in self.by_urn]

    def dependents(self, r: Resource, prop: str, types: tuple[str, ...]) -> list[Resource]:
        """Resources of these types whose property `prop` depends on r."""
        return [d for d, p in self._dependents.get(r.urn, []) if p == prop and d.type in types]

    def attached(self, r: Resource, prop: str, types: tuple[str, ...]) -> list[Resource]:
        """Resources of these types pointing at r through `prop`: by dependency, or by the literal name
        r was given in the same input (e.g. a lifecycle configuration's `bucket`)."""
        found = {d.urn: d for d in self.dependents(r, prop, types)}
        literal = r.inputs.get(prop)
        if isinstance(literal, str) and literal:
            found.update({d.urn: d for t in types for d in self.by_type[t] if d.inputs.get(prop) == literal})
        return list(found.values())

    def resolve(self, r: Resource, keys: tuple[str, ...], targets: Optional[Targets] = None) -> Resolved:
        """The usage that applies to r for these keys (see the module docstring for the order).
        `targets` narrows which of a component's descendants share its usage (default: same type)."""
        out = Resolved()
        self._take(out, self.usage.lookup(r), keys, "usage file")
        components = [a for a in self.ancestors(r) if not a.custom and a.type.startswith(COMPONENT_PREFIX)]
        for component in components:
            self._take(out, self.usage.lookup(component), keys, f"usage file entry {component.name}",
                       self._share(component, r, targets))
        for component in components:
            recorded = component.inputs.get("usage")
            if isinstance(recorded, dict):
                numbers = {k: n for k, v in recorded.items() if not isinstance(v, str) and (n := amount(v)) is not None}
                self._take(out, numbers, keys, f"component {component.name}", self._share(component, r, targets))
        return out

    def _share(self, component: Resource, r: Resource, targets: Optional[Targets]) -> int:
        """How many descendants share the component's usage; 0 when r is not one of them."""
        peers = [d for d in self._descendants[component.urn] if d.type == r.type]
        peers = targets(peers) if targets else peers
        return len(peers) if any(p.urn == r.urn for p in peers) else 0

    @staticmethod
    def _take(out: Resolved, source: dict[str, float], keys: tuple[str, ...], origin: str, share: int = 1) -> None:
        if not share:
            return
        for key in keys:
            if key in source and key not in out.values:
                # Only totals split; a per-resource setting such as data_age_days is taken as is.
                split = share > 1 and key not in ("data_age_days", "duration_ms", "memory_mb", "lcu", "peak_nodes")
                out.values[key] = source[key] / share if split else source[key]
                out.origins[key] = f"{origin}, 1/{share}" if split else origin


def _from_here(path: str) -> str:
    """A path as the user can open it from where they ran tollgate."""
    here, target = Path.cwd(), Path(path)
    return str(target.relative_to(here)) if target.is_absolute() and target.is_relative_to(here) else path
