"""Property-based tests (issue 23): waiver patterns, expiries and damaged `pulumi preview --json` files.

* a waiver never approves every resource of its rule's types in the stack (two or more), nor with a pattern
  whose name part is only wildcards and character classes; every entry either waives or is a TG090 finding;
* an expiry is a date exactly when it is written YYYY-MM-DD (plain, quoted or tagged as text): anything else
  is refused, naming the entry; nothing raises but a TollgateError;
* a damaged preview file is refused naming the step, or read into a snapshot whose urns are unique, whose
  types are their urns', and which chose no resource's state among several that differ.

Derandomized like test_properties.py: TOLLGATE_PROPERTY_SEED=<n> explores others.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import os
import re
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

import strategies as S
from tollgate.capture.pulumi_json import GONE_OPS, KNOWN_OPS, read_preview_json
from tollgate.errors import TollgateError
from tollgate.evaluate.waive import _blanket, apply_waivers, load_waivers
from tollgate.model import Finding, Resource

SEED = os.environ.get("TOLLGATE_PROPERTY_SEED")
EXAMPLES = int(os.environ.get("TOLLGATE_PROPERTY_EXAMPLES", 150))


def examples(n: int = EXAMPLES):
    base = settings(max_examples=n, deadline=None, database=None, derandomize=SEED is None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

    def apply(test):
        test = base(test)
        return seed(int(SEED))(test) if SEED is not None else test
    return apply


P = "urn:pulumi:prod::p::"
POOL = "aws:eks/nodeGroup:NodeGroup"
NAMES = ["pool-gpu-a", "pool-gpu-b", "pool-system", "web", "a", "gpu", "pool-[x]", "we*b"]
ENTRY = ("waivers:\n  - rule: gpu-approval\n    resource: {resource}\n    owner: lead@example.com\n"
         "    reason: r\n    expires: {expires}\n")


@examples()
@given(pools=st.lists(S.one_of_them(NAMES), min_size=1, max_size=5, unique=True),
       pattern=S.waiver_patterns(NAMES))
def test_no_waiver_approves_a_whole_type_or_by_wildcards_alone(tmp_path, pools, pattern):
    resources = [Resource(P + f"{POOL}::{n}", POOL, n, True, {}) for n in pools]
    resources.append(Resource(P + "aws:s3/bucket:Bucket::pool-gpu-bucket", "aws:s3/bucket:Bucket", "pool-gpu-bucket",
                              True, {}))
    findings = [Finding("gpu-approval", "TG003", r.urn, r.type, r.name, "mandatory", "high", "gpu", "rego")
                for r in resources[:-1]]
    path = tmp_path / "waivers.yaml"
    path.write_text(ENTRY.format(resource=json.dumps(pattern, ensure_ascii=False), expires="2031-12-31"),
                    encoding="utf-8")
    try:
        waivers = load_waivers(path)
    except TollgateError as exc:  # a character YAML does not take: the file is refused, naming it
        assert exc.file == str(path)
        return
    out = apply_waivers(findings, waivers, S.TODAY, {"gpu-approval": "TG003"}, P + "s::s", resources)
    waived = [f for f in out if f.waiver]
    about_file = [f for f in out if f.id == "TG090"]
    assert waived or about_file  # an entry waives, or is reported (refused: mandatory; stale: advisory)
    if waived:
        subject = (lambda r: r.urn) if "::" in pattern else (lambda r: r.name)
        matched = [r for r in resources[:-1] if fnmatch.fnmatchcase(subject(r), pattern)]
        assert not _blanket(pattern) and (len(pools) < 2 or len(matched) < len(pools)), (pattern, pools)
        assert {f.name for f in waived} == {r.name for r in matched}
        assert not [f for f in about_file if f.enforcement == "mandatory"]


def _written_date(text: str):
    """The date an `expires:` value holds when it is written YYYY-MM-DD, else None."""
    text = re.sub(r"^!!(str|timestamp) ", "", text.strip())  # YAML drops a plain value's outer spaces
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@examples()
@given(expires=S.expiries())
def test_an_expiry_is_a_date_only_as_written_yyyy_mm_dd(tmp_path, expires):
    path = tmp_path / "waivers.yaml"
    path.write_text(ENTRY.format(resource="pool-gpu-a", expires=expires), encoding="utf-8")
    try:
        [entry] = load_waivers(path)
    except TollgateError as exc:  # not YAML at all (a bare `[`): the file is refused, naming it
        assert exc.file == str(path)
        return
    expected = _written_date(expires)
    if expected is not None:
        assert (entry.expires, entry.problems) == (expected, ()), expires
    else:
        assert entry.expires is None and entry.problems, expires
        assert any("is not a date (YYYY-MM-DD)" in p or p == "missing expires" for p in entry.problems)


def _preview() -> dict:
    def state(name: str, type_: str, size: str) -> dict:
        return {"urn": P + f"{type_}::{name}", "type": type_, "custom": True, "inputs": {"instanceType": size}}

    stack = {"urn": P + "pulumi:pulumi:Stack::p-prod", "type": "pulumi:pulumi:Stack", "custom": False}
    steps = [{"op": "same", "urn": stack["urn"], "oldState": stack, "newState": stack}]
    for op, name, type_ in (("create", "web", "aws:ec2/instance:Instance"), ("update", "db", "aws:rds/instance:Instance"),
                            ("same", "logs", "aws:s3/bucket:Bucket"), ("delete", "old", "aws:sqs/queue:Queue")):
        step = {"op": op, "urn": P + f"{type_}::{name}"}
        if op != "create":
            step["oldState"] = state(name, type_, "t3.micro")
        if op != "delete":
            step["newState"] = state(name, type_, "t3.small")
        steps.append(step)
    return {"steps": steps}


def _damage(doc: dict, kind: str, i: int, value) -> bool:
    """Damage step i; whether the result must be refused."""
    step = doc["steps"][i]
    new, old = step.get("newState"), step.get("oldState")
    if kind in ("duplicate", "duplicate-replacement", "same-state-replacement"):
        if new is None:
            return False
        twin = copy.deepcopy(step)
        if kind != "same-state-replacement":
            twin["newState"]["inputs"] = {"instanceType": value}
        if kind == "duplicate":
            doc["steps"].append(twin)
            return True
        step["op"], twin["op"] = "create-replacement", "replace"
        doc["steps"].append(twin)
        return kind == "duplicate-replacement" and twin["newState"] != new
    if kind == "type-lie" and new is not None:
        new["type"] = value
        return value != step["urn"].split("::")[2]
    if kind == "old-type-lie" and old is not None:
        old["type"] = value
        return value != step["urn"].split("::")[2]
    if kind == "step-urn":
        step["urn"] = P + f"aws:ec2/instance:Instance::{value}"
        return step["urn"] != (new or old)["urn"]
    if kind == "unknown-op":
        step["op"] = value
        return value not in KNOWN_OPS or (value not in GONE_OPS and new is None)
    if kind == "no-new-state" and new is not None:
        del step["newState"]
        return step["op"] not in GONE_OPS
    return False


@examples()
@given(damage=S.preview_damage(5))
def test_a_damaged_preview_is_refused_naming_the_step_or_read_whole(tmp_path, damage):
    kind, i, value = damage
    doc = _preview()
    must_refuse = _damage(doc, kind, i, value)
    path = tmp_path / "preview.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    try:
        after, _ = read_preview_json(path, include_unchanged=True)
    except TollgateError as exc:
        assert exc.file == str(path) and ("steps[" in exc.message or "no resources to judge" in exc.message), exc
        assert len(str(exc)) < 2000
        return
    assert not must_refuse, (kind, i, value)
    urns = [r.urn for r in after.resources]
    assert len(urns) == len(set(urns))
    assert all(r.urn.split("::")[2].rsplit("$", 1)[-1] == r.type for r in after.resources)
    for r in after.resources:
        states = [s["newState"] for s in doc["steps"] if s.get("newState", {}).get("urn") == r.urn
                  and s["op"] not in GONE_OPS]
        assert all(s == states[0] for s in states), r.urn
