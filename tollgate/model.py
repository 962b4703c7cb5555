"""The plain data that moves one way between stages: Snapshot (capture) and Finding (evaluate)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

from .errors import TollgateError, read_json

# Pulumi's own wire conventions, kept as-is so a snapshot reads like engine data.
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
# A secret in a snapshot is the secret signature with no value: nothing downstream can print it.
SECRET_MARKER = {SIG_KEY: SECRET_SIG}

ENFORCEMENTS = ("mandatory", "advisory", "remediate")
SOURCES = ("rego", "crossguard", "cost", "checkov", "waivers")  # waivers: findings about the waivers file


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


@dataclass
class Position:
    file: str
    line: int


@dataclass
class ProviderRef:
    urn: str
    inputs: dict[str, Any]


@dataclass
class Resource:
    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    parent: Optional[str] = None
    provider: Optional[ProviderRef] = None
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    source: Optional[Position] = None


@dataclass
class Snapshot:
    project: str
    stack: str
    resources: list[Resource]
    # The stack's configured environment (config `<project>:environment` or `tollgate:environment`).
    environment: Optional[str] = None
    # The stack's tag set (config `<project>:tags` or `tollgate:tags`), for tag remediation.
    tags: dict[str, str] = field(default_factory=dict)
    # Resources present only as context (unchanged in a `pulumi preview --json`): stack rules and the cost
    # estimate see them, but findings about them are not reported.
    context_only: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=False)

    def write(self, path: Path) -> None:
        path.write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "<snapshot>") -> "Snapshot":
        try:
            resources = [_resource_from_dict(r) for r in data["resources"]]
            return cls(data["project"], data["stack"], resources, data.get("environment"), dict(data.get("tags") or {}),
                       list(data.get("context_only") or []))
        except (KeyError, TypeError) as exc:
            raise TollgateError(f"not a Tollgate snapshot: missing or malformed {exc}", origin,
                                fix="write snapshots with `tollgate preview --snapshot-out FILE`") from exc

    @classmethod
    def read(cls, path: Path) -> "Snapshot":
        return cls.from_dict(read_json(path, "snapshot file"), str(path))


def _resource_from_dict(r: dict[str, Any]) -> Resource:
    provider = r.get("provider")
    source = r.get("source")
    return Resource(
        urn=r["urn"], type=r["type"], name=r["name"], custom=bool(r["custom"]),
        inputs=r.get("inputs") or {}, parent=r.get("parent"),
        provider=ProviderRef(provider["urn"], provider.get("inputs") or {}) if provider else None,
        dependencies=list(r.get("dependencies") or []),
        property_dependencies=dict(r.get("property_dependencies") or {}),
        options=dict(r.get("options") or {}),
        source=Position(source["file"], int(source["line"])) if source else None,
    )


@dataclass(frozen=True)
class Waiver:
    """An approved exception (waivers.yaml), reviewed like code: who, why, until when."""

    rule: str
    resource: str   # urn or name pattern it matched
    owner: str
    reason: str
    expires: str    # ISO date; the waiver is void after it


@dataclass(frozen=True)
class Finding:
    rule: str
    id: str
    urn: str
    type: str
    name: str
    enforcement: str
    severity: str
    message: str
    source: str
    waiver: Optional[Waiver] = None  # set when a waiver covers it: reported as waived, never removed

    @property
    def blocking(self) -> bool:
        """A mandatory finding no waiver covers: what fails a preview."""
        return self.enforcement == "mandatory" and self.waiver is None

    def __post_init__(self) -> None:
        if self.enforcement not in ENFORCEMENTS:
            raise ValueError(f"finding enforcement {self.enforcement!r} not in {ENFORCEMENTS}")
        if self.source not in SOURCES:
            raise ValueError(f"finding source {self.source!r} not in {SOURCES}")

    def to_dict(self) -> dict[str, str]:
        return asdict(self)
