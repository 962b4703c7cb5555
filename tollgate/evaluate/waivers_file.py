"""waivers.yaml read into WaiverEntry values (tollgate.evaluate.waive judges them): the file, refused whole when
it cannot be read as written, and each entry with its line and what makes it unusable.

Refused whole (a TollgateError, exit 2, file:line): not YAML, not `waivers: [...]`, over MAX_BYTES (unread),
a YAML anchor or alias (before any document is built: no alias bomb; and no entry edited through another),
a key repeated in a mapping (a later `expires: 2999-12-31` would silently replace the reviewed one).
Kept with its problems (a TG090 finding): a missing field, an unknown key, an expiry not written YYYY-MM-DD.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Optional

import yaml

from ..errors import YAML_LOADER, TollgateError, read_text

DEFAULT_FILE = "waivers.yaml"
FIELDS = ("rule", "resource", "owner", "reason", "expires")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_BYTES = 1 << 20
QUOTE = 200  # characters of a value quoted back in a finding or an error
FIX_FILE = "write `waivers:` followed by a list of entries with rule, resource, owner, reason, expires (YYYY-MM-DD)"


@dataclass(frozen=True)
class WaiverEntry:
    """One entry of waivers.yaml as written, with where it is and what makes it unusable (if anything)."""

    file: str
    line: int
    rule: str = ""
    resource: str = ""
    owner: str = ""
    reason: str = ""
    expires: Optional[date] = None
    problems: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def describe(self) -> str:
        return f"waiver for {short(self.rule)} on `{short(self.resource)}` owned by {short(self.owner)}"


def read_waivers(explicit: Optional[Path], project_dir: Path) -> list[WaiverEntry]:
    """`--waivers FILE` (must exist), else waivers.yaml in the project directory if there is one."""
    if explicit is not None:
        return load_waivers(explicit)
    default = project_dir / DEFAULT_FILE
    return load_waivers(default) if default.exists() else []


def load_waivers(path: Path) -> list[WaiverEntry]:
    """Parse the file; a malformed file is a TollgateError (file, line), a bad entry is kept with its problems."""
    text = _read(path)
    try:
        _refuse_aliases(text, str(path))  # before any document is built: an alias bomb builds nothing
        root = yaml.compose(text, Loader=YAML_LOADER)
        if root is not None:
            _refuse_duplicate_keys(root, str(path))
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise TollgateError(f"waivers file is not valid YAML: {getattr(exc, 'problem', exc)}", str(path),
                            mark.line + 1 if mark else None, FIX_FILE) from exc
    if data is None:
        return []
    if not isinstance(data, dict) or set(data) != {"waivers"}:
        raise TollgateError("waivers file must be a mapping with one key, `waivers:`", str(path),
                            root.start_mark.line + 1, FIX_FILE)
    entries, items = data["waivers"] or [], _value_node(root, "waivers")
    if not isinstance(entries, list):
        raise TollgateError("`waivers:` must be a list of entries", str(path), items.start_mark.line + 1, FIX_FILE)
    return [_entry(raw, str(path), node) for raw, node in zip(entries, items.value)]


class _Loader(YAML_LOADER):  # type: ignore[misc, valid-type]
    """Timestamps stay text: an expiry is judged as written (and `2099-02-30` is refused, not a crash)."""


_Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


def _read(path: Path) -> str:
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise TollgateError("waivers file not found", str(path), fix="pass an existing file to --waivers") from exc
    if size > MAX_BYTES:  # read nothing of it: hundreds of entries fit in a small fraction of this
        raise TollgateError(f"waivers file is {size:,} bytes, over the {MAX_BYTES:,} bytes a waivers file may hold",
                            str(path), fix="a waivers file holds approvals only: remove what is not one")
    return read_text(path, "waivers file", FIX_FILE)


def _refuse_aliases(text: str, file: str) -> None:
    """Anchors and aliases (&a, *a) let a few bytes stand for a huge document, and let one entry's reviewed
    text be changed by editing another's: a waivers file spells every entry out."""
    for event in yaml.parse(text, Loader=YAML_LOADER):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise TollgateError("waivers file uses a YAML anchor or alias (& or *): refused, every entry is "
                                "written out in full", file, event.start_mark.line + 1,
                                "write each entry's values out; quote a resource pattern that starts with * "
                                "(resource: \"*-gpu\")")


def _refuse_duplicate_keys(root: yaml.Node, file: str) -> None:
    """A repeated key silently replaces the reviewed value before it (a later `expires: 2999-12-31`)."""
    nodes = [root]
    while nodes:
        node = nodes.pop()
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else repr(key.value)
                if name in first:
                    raise TollgateError(f"duplicate key `{short(name)}` (first on line {first[name]}): the later "
                                        f"value would silently replace the reviewed one", file,
                                        key.start_mark.line + 1, "keep one of them")
                first[name] = key.start_mark.line + 1
                nodes.append(value)
        elif isinstance(node, yaml.SequenceNode):
            nodes.extend(node.value)


def short(value: Any) -> str:
    """A value quoted back in a message: at most a short prefix of it."""
    text = str(value)
    return text if len(text) <= QUOTE else text[:QUOTE] + "..."


def _value_node(root: yaml.Node, key: str) -> yaml.Node:
    return next(value for k, value in root.value if k.value == key)


def _entry(raw: Any, file: str, node: yaml.Node) -> WaiverEntry:
    line = node.start_mark.line + 1
    if not isinstance(raw, dict):
        return WaiverEntry(file, line, problems=(f"entry is not a mapping of {', '.join(FIELDS)}",))
    # Lists and mappings are not a name, an owner or a reason: they count as missing.
    text = {k: str(raw[k]).strip() if isinstance(raw.get(k), (str, int, float)) else "" for k in FIELDS[:-1]}
    missing = [k for k in FIELDS[:-1] if not text[k]] + (["expires"] if raw.get("expires") is None else [])
    problems = [f"missing {', '.join(missing)}"] if missing else []
    written = next((v for k, v in node.value if k.value == "expires"), None)
    expires = _date(written)
    if raw.get("expires") is not None and expires is None:
        shown = written.value if isinstance(written, yaml.ScalarNode) else raw["expires"]
        problems.append(f"expires `{short(shown)}` is not a date (YYYY-MM-DD)")
    unknown = sorted(str(k) for k in raw if k not in FIELDS)
    if unknown:
        problems.append(f"unknown key {', '.join(f'`{short(k)}`' for k in unknown)}")
    return WaiverEntry(file, line, **text, expires=expires, problems=tuple(problems))


def _date(node: Optional[yaml.Node]) -> Optional[date]:
    """Only a calendar date as written (YYYY-MM-DD): a timestamp's zone or a bare number would move the day."""
    if not isinstance(node, yaml.ScalarNode) or not DATE.fullmatch(node.value):
        return None
    try:
        return date.fromisoformat(node.value)
    except ValueError:
        return None
