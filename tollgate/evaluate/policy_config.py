"""Per-stack policy config, in Pulumi's `--policy-pack-config` format, checked against the rules' defaults.

A file maps a policy name (or "all") to an enforcement level or to {"enforcementLevel": ..., <props>}.
Props override the rule's defaults from rego/data.json; objects merge key by key (so `max_vcpu:
{"dev": 8}` keeps the staging and prod caps), anything else replaces. Anything unknown or of the wrong
type is an error naming the key: a typo must never silently leave the default in force.
"""

from __future__ import annotations

import copy
import json
import json.scanner
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ..errors import TollgateError, parse_json, read_text

LEVELS = ("advisory", "mandatory", "remediate", "disabled")
JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}


@dataclass
class PolicyConfig:
    enforcement: dict[str, str] = field(default_factory=dict)  # rule (or "all") -> level
    props: dict[str, dict[str, Any]] = field(default_factory=dict)

    def level(self, rule: str, default: str) -> str:
        return self.enforcement.get(rule, self.enforcement.get("all", default))

    def data(self, defaults: dict[str, Any]) -> dict[str, Any]:
        """data.config for the rules: the defaults with this file's props merged in."""
        merged = copy.deepcopy(defaults)
        for rule, props in self.props.items():
            merged[rule] = merge(merged.get(rule, {}), props)
        return merged


def merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        return {**base, **{k: merge(base.get(k), v) for k, v in override.items()}}
    return copy.deepcopy(override)


def json_type(value: Any) -> str:
    return JSON_TYPES.get(type(value), "null")


def _check_value(where: str, value: Any, default: Any, origin: str) -> None:
    want, got = json_type(default), json_type(value)
    if want != got and not (want == "number" and got == "integer"):
        raise TollgateError(f"`{where}` must be {want} (like the default {json.dumps(default)}), got {json.dumps(value)}",
                            origin, fix=f"correct `{where}` or remove it to keep the default")
    if isinstance(default, dict) and default:
        sample = next(iter(default.values()))
        for key, item in value.items():
            _check_value(f"{where}.{key}", item, default.get(key, sample), origin)
    elif isinstance(default, list) and default:
        for i, item in enumerate(value):
            _check_value(f"{where}[{i}]", item, default[0], origin)


def parse(doc: Any, rules: dict[str, dict[str, Any]], origin: str = "<policy config>") -> PolicyConfig:
    """`rules` maps each rule name to its defaults (its data.config entry)."""
    if not isinstance(doc, dict):
        raise TollgateError("policy config must be a JSON object of policy name -> level or settings", origin)
    config = PolicyConfig()
    for name, value in doc.items():
        if name != "all" and name not in rules:
            raise TollgateError(f"unknown policy `{name}`", origin, fix=f"use one of: all, {', '.join(sorted(rules))}")
        settings = {"enforcementLevel": value} if isinstance(value, str) else value
        if not isinstance(settings, dict):
            raise TollgateError(f"`{name}` must be an enforcement level or an object", origin)
        level = settings.get("enforcementLevel")
        if level is not None:
            if level not in LEVELS:
                raise TollgateError(f"`{name}.enforcementLevel` is {level!r}", origin, fix=f"use one of {', '.join(LEVELS)}")
            config.enforcement[name] = level
        props = {k: v for k, v in settings.items() if k != "enforcementLevel"}
        if props and name == "all":
            raise TollgateError("`all` takes only an enforcement level", origin)
        for key, item in props.items():
            if key not in rules[name]:
                known = ", ".join(sorted(rules[name])) or "none"
                raise TollgateError(f"`{name}` has no setting `{key}`", origin, fix=f"settings of {name}: {known}")
            _check_value(f"{name}.{key}", item, rules[name][key], origin)
        if props:
            config.props[name] = props
    return config


def load(path: Optional[Path], rules: dict[str, dict[str, Any]]) -> PolicyConfig:
    if path is None:
        return PolicyConfig()
    text = read_text(path, "policy config file")
    doc = parse_json(text, path, "policy config file")
    _refuse_duplicate_keys(text, str(path))
    return parse(doc, rules, str(path))


def _refuse_duplicate_keys(text: str, origin: str) -> None:
    """JSON keeps the last of two equal keys: a later `"gpu-approval": "disabled"` would silently win."""
    decoder = json.JSONDecoder()
    plain = decoder.parse_object

    def parse_object(s_and_end: tuple[str, int], *args: Any) -> tuple[Any, int]:
        pairs, end = plain(s_and_end, args[0], args[1], None, lambda p: p, *args[4:])
        first: dict[str, int] = {}
        at = s_and_end[1]
        for key, _ in pairs:
            # Where this key is written, after the one before it (as json.dumps spells it: else the object's start).
            found = re.compile(re.escape(json.dumps(key)) + r"\s*:").search(text, at)
            line = text.count("\n", 0, found.start() if found else at) + 1
            at = found.end() if found else at
            if key in first:
                raise TollgateError(f"duplicate key `{key[:200]}` (first on line {first[key]}): JSON keeps only "
                                    f"the last, silently", origin, line, fix="keep one of them")
            first[key] = line
        return dict(pairs), end

    decoder.parse_object = parse_object
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # the C scanner would not call parse_object
    try:
        decoder.decode(text)
    except RecursionError as exc:  # no policy config nests like this
        raise TollgateError("policy config is nested too deeply", origin, fix="write it as documented") from exc


def schema(defaults: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """JSON-schema properties for a rule's settings (CrossGuard `config_schema`), derived from its defaults."""
    return {key: _schema_of(value) for key, value in defaults.items()}


def _schema_of(value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": json_type(value), "default": value}
    if isinstance(value, list) and value:
        out["items"] = {"type": json_type(value[0])}
    if isinstance(value, dict) and value:
        out["additionalProperties"] = {"type": json_type(next(iter(value.values())))}
    return out
