"""Property-based tests (issue 8): hostile snapshots through every rule, the cost estimate and every format.

Each example is a snapshot document of 60-100 resources (tests/strategies.py: every type a rule or a pricer
reads, invented types, inputs plausible or hostile), read as `tollgate preview --snapshot` reads a file, then
run through the stages as tollgate/cli.py runs them: estimate, judge (with a policy config), waive (with a
waivers file), and every format of `tollgate preview` and `tollgate cost`. Properties:

* nothing raises, and no rule fails to evaluate: no engine-error finding, since a well-formed snapshot holds
  no input a rule may refuse (Snapshot.from_dict refuses a malformed one with a TollgateError, exit 2);
* no output contains a secret's plaintext (each secret carries one, see strategies.SECRET_PREFIX);
* the findings are deterministic: the same snapshot judged twice, and with its resources in reverse order,
  gives the same findings and the same estimate (nat-gateway-sprawl's findings compared by count: it reports
  the gateways after the first in declaration order, so reversing the order moves them to other gateways);
* every output parses: json, sarif and the cost json as strict JSON (no NaN), sarif against its schema
  (one example in four: it is slow) with URI references, junit as XML; Markdown tables keep their columns.

The examples are derandomized: the same ones on every run and in CI. TOLLGATE_PROPERTY_SEED=<n> explores
others, TOLLGATE_PROPERTY_EXAMPLES=<n> runs more, TOLLGATE_PROPERTY_SHRINK=1 shrinks a failure (minutes).
A failing example is written to failing-case.json in the test's work directory.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Optional

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

import strategies as S
from conftest import ROOT
from tollgate import cli
from tollgate.cost import Estimate, Usage, estimate
from tollgate.errors import TollgateError
from tollgate.evaluate import ENGINE_ERROR, RULES_DIR, RuleSet, judge, known_policies, policy_config, stack_urn
from tollgate.evaluate.remediate import POLICY as REMEDIATION, RULE_ID as REMEDIATION_ID
from tollgate.evaluate.waive import apply_waivers, load_waivers
from tollgate.model import Finding, ProviderRef, Resource, Snapshot
from tollgate.report import FAIL_ON, RenderOptions, build_report, json_report, junit, markdown, sarif, table
from tollgate.report.cost_table import render_json, render_table

RULES = RuleSet(RULES_DIR)
RULE_NAMES = [r.name for r in RULES.rules] + [r.id for r in RULES.rules] + [REMEDIATION, "cost-within-budget"]
SARIF_SCHEMA = json.loads((Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json").read_text())
MIN_RESOURCES = 10_000  # the floor for the resources fed through the whole pipeline
DEFAULT_EXAMPLES = 150  # of about 75 resources each
EXAMPLES = int(os.environ.get("TOLLGATE_PROPERTY_EXAMPLES", DEFAULT_EXAMPLES))
SEED = os.environ.get("TOLLGATE_PROPERTY_SEED")
# Shrinking a 100-resource example takes minutes: off unless asked for (a failure is reported as drawn).
PHASES = tuple(Phase) if os.environ.get("TOLLGATE_PROPERTY_SHRINK") else (Phase.explicit, Phase.generate)
# Resources fed per test, checked by the last test of the module: the count is what ran, not what was asked.
FED: Counter[str] = Counter()


def examples(n: int):
    """Reproducible by default (CI), exploring with TOLLGATE_PROPERTY_SEED; no example database in the tree."""
    base = settings(max_examples=n, deadline=None, database=None, derandomize=SEED is None, print_blob=True,
                    phases=PHASES, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                          HealthCheck.large_base_example, HealthCheck.filter_too_much])

    def apply(test):
        test = base(test)
        return seed(int(SEED))(test) if SEED is not None else test
    return apply


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("properties")


# --- the pipeline, stage by stage as tollgate/cli.py runs it ---

POLICIES = (
    {}, {REMEDIATION: "remediate"}, {"all": "advisory"}, {"all": "disabled"},
    {REMEDIATION: "remediate", "required-tags": "advisory", "gpu-approval": "disabled",
     "cost-within-budget": "advisory", "instance-size-cap": {"enforcementLevel": "mandatory", "max_vcpu": {"qa": 2}},
     "nat-gateway-sprawl": {"max_gateways": 0, "exempt_environments": []}},
)


def policy_of(doc: dict[str, Any]):
    return policy_config.parse(doc, known_policies(RULES))


def read(doc: dict[str, Any]) -> Snapshot:
    """The document as `--snapshot FILE` reads it: through JSON text (NaN and all), then Snapshot.from_dict."""
    return Snapshot.from_dict(json.loads(json.dumps(doc)), "<generated>")


def waivers_of(entries: list[Any], path: Path):
    path.write_text(yaml.safe_dump({"waivers": entries}), encoding="utf-8")
    return load_waivers(path)


def waive(snapshot: Snapshot, findings: list[Finding], waivers: list) -> list[Finding]:
    """tollgate/cli.py preview between evaluate and report: context-only resources out, then the waivers."""
    context = set(snapshot.context_only)
    findings = [f for f in findings if f.urn not in context]
    known = {r.name: r.id for r in RULES.rules} | {REMEDIATION: REMEDIATION_ID} | {f.rule: f.id for f in findings}
    return apply_waivers(findings, waivers, S.TODAY, known, stack_urn(snapshot))


def render(snapshot: Snapshot, findings: list[Finding], costs: Estimate, base: Estimate,
           fail_on: str) -> dict[str, str]:
    """Every format of `tollgate preview` and `tollgate cost`, as tollgate/cli.py builds them."""
    report = build_report(snapshot, len(RULES.rules), findings, RULES.rules, costs)
    return {
        "table": table.render(report), "json": json_report.render(report), "sarif": sarif.render(report),
        "junit": junit.render(report, RenderOptions(fail_on=fail_on)),
        "markdown": markdown.render(report, RenderOptions(fail_on=fail_on, base=lambda: base)),
        "cost-table": render_table(costs), "cost-json": render_json(costs),
    }


# --- what every output must satisfy ---

def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON (RFC 8259)")


def strict_json(text: str) -> Any:
    return json.loads(text, parse_constant=_no_constant)


TABLE_PIPE = re.compile(r"(?<!\\)\|")
URI = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*")


def check_outputs(outputs: dict[str, str], findings: list[Finding], snapshot: Snapshot, validate: bool) -> None:
    for fmt, text in outputs.items():
        assert S.SECRET_PREFIX not in text, f"{fmt} output prints a secret's plaintext"
    doc = strict_json(outputs["json"])
    assert len(doc["findings"]) == len(findings) and doc["summary"]["resources"] == len(snapshot.resources)
    log = strict_json(outputs["sarif"])
    assert len(log["runs"][0]["results"]) == len(findings)
    for result in log["runs"][0]["results"]:  # a URI reference (RFC 3986), whatever the file's name
        assert URI.fullmatch(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
    if validate:
        jsonschema.validate(log, SARIF_SCHEMA)
    root = ET.fromstring(outputs["junit"].encode("utf-8"))
    assert root.tag == "testsuites" and int(root.get("tests")) >= len({(f.source, f.rule, f.urn) for f in findings})
    cost = strict_json(outputs["cost-json"])
    assert len(cost["resources"]) == len(snapshot.resources)
    assert all(math.isfinite(x) for x in (cost["monthly_usd"], cost["baseline_monthly_usd"]))
    columns = None
    for line in re.split(r"\r\n|\r|\n", outputs["markdown"]):  # Markdown's line ends; a cell never adds a column
        if line.startswith("| "):
            count = len(TABLE_PIPE.findall(line))
            if columns is None or line.startswith(("| ID ", "| Resource ")):  # a table's header
                columns = count
            assert count == columns, f"markdown table row broken by a cell: {line[:200]!r}"
        else:
            columns = None


def comparable(findings: list[Finding]) -> tuple[set[Finding], Counter]:
    """Findings as a set; nat-gateway-sprawl's by count only (it names gateways by declaration order)."""
    order_bound = Counter((f.rule, f.enforcement) for f in findings if f.rule == "nat-gateway-sprawl")
    return {f for f in findings if f.rule != "nat-gateway-sprawl"}, order_bound


def line_items(costs: Estimate) -> list[tuple]:
    return sorted((i.urn, i.type, i.name, i.monthly_usd, i.baseline_monthly_usd, i.priced, i.basis)
                  for i in costs.resources)


# --- the properties ---

class Case(dict):
    """One example. Its repr is a line: Hypothesis prints a failing example, and these run to megabytes
    (the document is written to a file instead, see failing_case)."""

    def __repr__(self) -> str:
        what = (f"a snapshot file with {self['kind']} damage" if "kind" in self else
                f"a snapshot of {len(self['doc']['resources'])} resources")
        return (f"<{what}, {len(json.dumps(self, default=repr))} characters; "
                "the failing case is written to failing-case.json in the test's work directory>")

    _repr_pretty_ = lambda self, p, cycle: p.text(repr(self))  # noqa: E731 - Hypothesis's printer asks this first


@contextlib.contextmanager
def failing_case(case: Case, workdir: Path):
    try:
        yield
    except BaseException:
        (workdir / "failing-case.json").write_text(json.dumps(case, default=str, indent=1), encoding="utf-8")
        raise


@st.composite
def cases(draw: st.DrawFn) -> Case:
    doc = draw(S.snapshot_docs())
    names = [r["name"] for r in doc["resources"]] + [r["urn"] for r in doc["resources"]]
    return Case(doc=doc, policy=draw(st.sampled_from(POLICIES)), usage=draw(S.usage_entries(names)),
                waivers=draw(S.waiver_entries(RULE_NAMES, [r["name"] for r in doc["resources"]])),
                fail_on=draw(st.sampled_from(FAIL_ON)), base_cut=draw(st.integers(0, len(doc["resources"]))))


@examples(EXAMPLES)
@given(case=cases())
def test_hostile_snapshots_through_every_rule_and_format(case, workdir):
    with failing_case(case, workdir):
        check_pipeline(case, workdir)


def check_pipeline(case: dict[str, Any], workdir: Path) -> None:
    snapshot = read(case["doc"])  # well formed by construction: it must be accepted
    FED["pipeline"] += len(snapshot.resources)
    policy, usage = policy_of(case["policy"]), Usage(case["usage"], "usage.test.yaml")

    costs = estimate(snapshot, usage)
    findings = judge(snapshot, RULES, policy, costs=costs)
    errors = [f.message for f in findings if f.rule == ENGINE_ERROR]
    assert not errors, errors
    again = judge(snapshot, RULES, policy, costs=estimate(snapshot, usage))
    assert set(again) == set(findings)
    reverse = replace(snapshot, resources=snapshot.resources[::-1])
    reverse_costs = estimate(reverse, usage)
    assert line_items(reverse_costs) == line_items(costs)
    assert (reverse_costs.monthly_usd, reverse_costs.baseline_monthly_usd) == (costs.monthly_usd,
                                                                              costs.baseline_monthly_usd)
    assert comparable(judge(reverse, RULES, policy, costs=reverse_costs)) == comparable(findings)

    waivers = waivers_of(case["waivers"], workdir / "waivers-under-test.yaml")
    waived = waive(snapshot, findings, waivers)
    assert waive(snapshot, again, waivers) == waived  # in the same order too: the renderers print the same
    base = estimate(replace(snapshot, resources=snapshot.resources[:case["base_cut"]]), usage)
    outputs = render(snapshot, waived, costs, base, case["fail_on"])
    FED["examples"] += 1
    check_outputs(outputs, waived, snapshot, validate=FED["examples"] % 4 == 1)  # the schema: slow, 1 in 4


# Damage a well-formed document the ways a hand-edited or foreign file can be damaged.
DAMAGE = ("wrong-type", "drop-key", "deep", "very-deep", "huge-int", "surrogate", "duplicate-urn", "two-stacks",
          "provider-urn", "provider-inputs", "source-line", "not-an-object", "inputs-list")
# Damage no stage can judge safely (or in one way whatever the order): always refused.
REFUSED = {"very-deep", "huge-int", "surrogate", "duplicate-urn", "two-stacks", "provider-urn", "not-an-object",
           "inputs-list"}
PROVIDER = "urn:pulumi:s::p::pulumi:providers:aws::p"
WRONG = st.one_of(st.none(), st.integers(), st.floats(), S.nasty_text, st.lists(st.integers(), max_size=2),
                  st.dictionaries(S.nasty_text, st.integers(), max_size=2), st.booleans())


@st.composite
def damaged(draw: st.DrawFn, kind: str = "") -> Case:
    """The kind of damage (`kind`, or any) and the file's text."""
    doc = draw(S.snapshot_docs(min_resources=20, max_resources=40))
    kind = kind or draw(st.sampled_from(DAMAGE))
    resources = doc["resources"]
    some = st.integers(0, len(resources) - 1).map(resources.__getitem__)  # not sampled_from: see snapshot_docs
    r = draw(some)
    marker = None
    if kind == "wrong-type":
        choice = draw(st.integers(0, 3))
        target = (doc, r, r.setdefault("provider", {"urn": PROVIDER}) if choice == 2 else None,
                  r.setdefault("source", {"file": "a.py", "line": 1}) if choice == 3 else None)[choice]
        target[draw(st.sampled_from(sorted(target)))] = draw(WRONG)
    elif kind == "drop-key":
        target = (doc, r)[draw(st.integers(0, 1))]
        del target[draw(st.sampled_from(sorted(target)))]
    elif kind in ("deep", "very-deep", "huge-int", "surrogate"):
        marker = "__DAMAGE_%d__" % draw(st.integers(0, 10 ** 6))
        r["inputs"][draw(st.sampled_from(("tags", "size", "spec", "x")))] = marker
        if kind == "surrogate" and draw(st.booleans()):
            r["name"] = marker
    elif kind == "duplicate-urn":
        resources.append(dict(draw(some)))
    elif kind == "two-stacks":
        resources += [{"urn": f"urn:pulumi:s::p::pulumi:pulumi:Stack::p-{i}", "type": "pulumi:pulumi:Stack",
                       "name": f"p-{i}", "custom": False, "inputs": {}} for i in range(2)]
    elif kind == "provider-urn":
        r["provider"] = {"urn": draw(st.sampled_from(("default", "a::b", "urn:pulumi:x::y::z", ""))), "inputs": {}}
    elif kind == "provider-inputs":  # one provider URN, two sets of inputs
        for region, target in (("us-east-1", r), ("eu-west-1", draw(some))):
            target["provider"] = {"urn": PROVIDER, "inputs": {"region": region}}
    elif kind == "source-line":
        r["source"] = {"file": "a.py", "line": draw(st.sampled_from(("12x", "", "\u00b2", 1.5, "1_0", " 7 ", True)))}
    elif kind == "not-an-object":
        doc = ([], "snapshot", 3, None, {"resources": resources})[draw(st.integers(0, 4))]
    elif kind == "inputs-list":
        r["inputs"] = draw(st.sampled_from(([1, 2], "tags", 7, True)))
    text = json.dumps(doc)
    if marker:
        depth = {"deep": draw(st.integers(150, 400)), "very-deep": draw(st.integers(400, 5000))}.get(kind, 0)
        value = {"huge-int": "1" + "0" * draw(st.integers(309, 2000)), "surrogate": '"a\\ud800b"'}.get(
            kind, "[" * depth + "0" + "]" * depth)
        text = text.replace(f'"{marker}"', value)
    return Case(kind=kind, text=text)


@examples(max(20, EXAMPLES // 4))
@given(case=damaged())
def test_damaged_snapshot_files_are_refused_or_judged(case, workdir):
    """A damaged file is refused with a TollgateError (exit 2, naming the problem) or judged like any other."""
    with failing_case(case, workdir):
        check_damaged(case, workdir)


def check_damaged(case: dict[str, Any], workdir: Path) -> None:
    text = case["text"]
    path = workdir / "damaged.json"
    path.write_text(text, encoding="utf-8")
    try:
        snapshot = Snapshot.read(path)
    except TollgateError as exc:
        assert "not a Tollgate snapshot" in str(exc) and S.SECRET_PREFIX not in str(exc)
        return
    assert case["kind"] not in REFUSED, f"a snapshot file with {case['kind']} damage was judged"
    FED["damaged"] += len(snapshot.resources)
    costs = estimate(snapshot)
    findings = judge(snapshot, RULES, costs=costs)
    errors = [f.message for f in findings if f.rule == ENGINE_ERROR]
    assert not errors, errors
    check_outputs(render(snapshot, findings, costs, costs, "mandatory"), findings, snapshot, validate=False)


@pytest.mark.parametrize("kind", DAMAGE)
def test_the_loads_fast_path_takes_only_what_its_checks_take(kind, workdir):
    """Snapshot.parse walks text and numbers only where the file's text could hold what the engine cannot
    take: on each kind of damage it gives the snapshot every check gives (Snapshot.from_dict) or refuses what
    they refuse, and a forked child's build of the same text (Snapshot.from_checked, no check) is that
    snapshot. Each kind of damage on its own, so that each is drawn."""
    examples(max(8, EXAMPLES // 15))(given(case=damaged(kind))(_fast_load_agrees))(workdir=workdir)


FIELD_DAMAGE = [("parent", 7), ("parent", ["p"]), ("dependencies", [1]), ("dependencies", "urn:a"),
                ("property_dependencies", {"bucket": [1]}), ("property_dependencies", {"bucket": "urn:a"}),
                ("property_dependencies", ["urn:a"]), ("source", {"file": 3, "line": 1}), ("source", {"line": 1}),
                ("source", {"file": "a.py", "line": " 7 "}), ("source", {"file": "a.py", "line": True}),
                ("source", {"file": "a.py", "line": 1.5}), ("source", "a.py:1"), ("provider", "p"),
                ("provider", {"urn": "urn:pulumi:s::p::pulumi:providers:aws::p", "inputs": [1]}),
                ("provider", {"urn": "a::b::c", "inputs": {}}), ("provider", {"inputs": {}}), ("options", [1]),
                ("inputs", [1]), ("inputs", "x"), ("urn", None), ("type", 3), ("name", ["n"]), ("custom", None),
                ("parent", None), ("dependencies", None), ("source", None), ("provider", None), ("options", None)]


@pytest.mark.parametrize("field, value", FIELD_DAMAGE + [(f, "DROP") for f in (
    "urn", "type", "name", "custom", "inputs", "parent", "provider", "dependencies", "property_dependencies",
    "options", "source")])
def test_the_loads_fast_path_on_each_field(field, value):
    """The same agreement, field by field, for the resource check without the value walk (values=False) and
    the build without checks (model._built); each takes the usual resource."""
    from tollgate import model

    good = {"urn": "urn:pulumi:s::p::aws:s3/bucket:Bucket::b", "type": "aws:s3/bucket:Bucket", "name": "b",
            "custom": True, "inputs": {"tags": {"team": "t"}}, "parent": "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s",
            "provider": {"urn": "urn:pulumi:s::p::pulumi:providers:aws::p", "inputs": {"region": "us-east-1"}},
            "dependencies": ["urn:a"], "property_dependencies": {"bucket": ["urn:a"]}, "options": {"protect": False},
            "source": {"file": "a.py", "line": 3}}
    assert model._resource(good, values=False) == model._resource(good, values=True) == model._built(good) is not None
    r = {k: v for k, v in good.items() if k != field} if value == "DROP" else {**good, field: value}
    try:
        checked = model._resource(r, values=True)
    except (KeyError, TypeError, ValueError) as exc:
        with pytest.raises(type(exc)) as fast:
            model._resource(r, values=False)
        assert str(fast.value) == str(exc)  # the same message too
        return
    assert model._resource(r, values=False) == checked == model._built(r)


def _loaded(load: Callable[[], Snapshot]) -> Optional[Snapshot]:
    try:
        return load()
    except TollgateError:
        return None


def _fast_load_agrees(case, workdir):
    text = case["text"]
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return  # not JSON, or nested past what json reads: no document reaches either
    with failing_case(case, workdir):
        checked = _loaded(lambda: Snapshot.from_dict(doc, "<text>"))
        fast = _loaded(lambda: Snapshot.parse(text, workdir / "damaged.json"))
        assert fast == checked, f"{case['kind']}: the load's fast path and the checks disagree"
        if checked is not None:
            assert Snapshot.from_checked(json.loads(text)) == checked, case["kind"]
            FED["fast-load"] += len(checked.resources)


@examples(6)
@given(case=st.builds(lambda doc: Case(doc=doc), S.snapshot_docs(min_resources=50, max_resources=60)))
def test_the_cli_on_hostile_snapshot_files(case, workdir):
    """`tollgate preview --snapshot` (every format) and `tollgate cost --snapshot` (both): exit 0 or 1, never
    2 (an engine error, an internal error), and no secret on stdout's file or stderr."""
    doc, cwd = case["doc"], workdir / "cli"  # its own directory: no waivers.yaml there
    cwd.mkdir(exist_ok=True)
    path, out = cwd / "snapshot.json", cwd / "out"
    path.write_text(json.dumps(doc), encoding="utf-8")
    FED["cli"] += len(doc["resources"])
    runs = [["preview", "--format", fmt] for fmt in sorted(cli.FORMATS)] + [["cost", "--format", "table"],
                                                                             ["cost", "--format", "json"]]
    with failing_case(case, workdir):
        for argv in runs:
            out.unlink(missing_ok=True)
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                code = cli.main(argv + [f"--stack={doc['stack']}", "--snapshot", str(path), "--cwd", str(cwd),
                                        "--output", str(out)])
            assert code in (0, 1), f"{argv}: exit {code}: {err.getvalue()[:500]}"
            assert S.SECRET_PREFIX not in out.read_text(encoding="utf-8") + err.getvalue()


# --- the smallest cases of what hostile inputs broke, judged in memory as capture and the pulumi file adapters
# (snapshot_from_export, snapshot_from_preview_json) build snapshots, without Snapshot.from_dict's checks. ---

VOLUME = "aws:ebs/volume:Volume"


def judged_in_memory(type_: str, inputs: dict[str, Any], provider: ProviderRef | None = None) -> list[Finding]:
    r = Resource(f"urn:pulumi:dev::p::{type_}::r", type_, "r", True, inputs, provider=provider)
    snapshot = Snapshot("p", "dev", [r])
    return judge(snapshot, RULES, costs=estimate(snapshot))


def engine_errors(findings: list[Finding]) -> list[str]:
    return [f.message for f in findings if f.rule == ENGINE_ERROR]


@pytest.mark.parametrize("instance_type", [5, 1.5, True, None, [1], {"a": 1}, float("inf"), float("nan")],
                         ids=repr)
def test_an_instance_type_of_any_json_type_is_judged(instance_type):
    """instance-size-cap names an unknown instance type with sprintf %q, which takes strings only: any other
    JSON value made the rule fail (engine-error, exit 2) and inf/NaN made the engine panic (an exception out of
    judge). It is a type Tollgate does not know: a finding."""
    findings = judged_in_memory("aws:ec2/instance:Instance", {"instanceType": instance_type})
    assert not engine_errors(findings)
    assert any(f.rule == "instance-size-cap" for f in findings)


@pytest.mark.parametrize("type_, inputs", [
    ("aws:ec2/launchTemplate:LaunchTemplate", {"blockDeviceMappings": [[1], "sda"]}),
    ("aws:budgets/budget:Budget", {"budgetType": "COST", "notifications": [[1], "x"]}),
], ids=["ebs-gp3", "budget-required"])
def test_a_list_element_that_is_not_an_object_is_judged(type_, inputs):
    """ebs_gp3.rego:123 `object.get(d, "ebs", null)` and budget_required.rego:80 `object.get(n, field, null)`
    take each element of a list input as an object: any other element makes the rule fail (engine-error)."""
    findings = judged_in_memory(type_, inputs)
    assert not engine_errors(findings), engine_errors(findings)


def test_a_provider_input_of_brackets_is_judged():
    """decode_provider_inputs JSON-decodes a provider string that starts with `[` or `{`: ten thousand
    brackets exhaust json's recursion (RecursionError out of judge) instead of staying a string."""
    provider = ProviderRef("urn:pulumi:dev::p::pulumi:providers:aws::default", {"region": "[" * 10_000})
    findings = judged_in_memory(VOLUME, {"size": 10, "type": "gp3"}, provider)
    assert not engine_errors(findings) and any(f.rule == "required-tags" for f in findings)


def test_a_provider_reference_that_is_not_a_urn_is_judged():
    """adapters.snapshot_from_export turns a state's provider `x::id` into the provider urn `x`;
    inputs.provider_input unpacks urn.split("::")[2:4] (ValueError out of judge)."""
    findings = judged_in_memory(VOLUME, {"size": 10, "type": "gp3"}, ProviderRef("x", {"region": "us-east-1"}))
    assert not engine_errors(findings) and any(f.rule == "required-tags" for f in findings)


def test_a_secret_beside_a_deeply_nested_input_is_judged():
    """inputs._redact_secrets recurses once per level: 600 levels with a secret anywhere in the resource is a
    RecursionError out of judge (a snapshot file may hold at most MAX_DEPTH levels; `--from-export` any)."""
    value: Any = "x"
    for _ in range(600):
        value = {"a": value}
    findings = judged_in_memory(VOLUME, {"size": 10, "type": "gp3", "tags": value, "kmsKeyId": S.SECRET_MARKER})
    assert not engine_errors(findings) and any(f.rule == "required-tags" for f in findings)


def test_a_number_beyond_a_float_is_judged_or_refused():
    """A JSON integer beyond a 64-bit float (10**400) cannot become a Rego value: TypeError out of judge."""
    try:
        findings = judged_in_memory(VOLUME, {"size": 10 ** 400, "type": "gp3"})
    except TollgateError:
        return
    assert not engine_errors(findings)


def test_a_lone_surrogate_does_not_crash_the_interpreter():
    """A lone surrogate (a JSON file's "\\ud800" escape) in an input crashed the process in the Rego engine's
    input conversion (SIGSEGV); it is now refused before the engine. Run in a child so a crash cannot take the
    test session with it."""
    code = ("from tollgate.cost import estimate\nfrom tollgate.evaluate import RULES_DIR, judge\n"
            "from tollgate.model import Resource, Snapshot\nfrom tollgate.evaluate import RuleSet\n"
            "r = Resource('urn:pulumi:dev::p::aws:ebs/volume:Volume::v', 'aws:ebs/volume:Volume', 'v', True,"
            " {'size': 10, 'type': 'gp3', 'tags': {'team': 'a\\ud800b'}})\n"
            "from tollgate.errors import TollgateError\n"
            "s = Snapshot('p', 'dev', [r])\ntry:\n    judge(s, RuleSet(RULES_DIR), costs=estimate(s))\n"
            "    print('judged')\nexcept TollgateError as exc:\n    print('refused', exc.message)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    # judged, or refused with a clear error (exit 2 from the CLI): never a crash of the process
    assert proc.returncode == 0 and ("judged" in proc.stdout or "refused" in proc.stdout), (proc.returncode,
                                                                                           proc.stderr[-800:])


def test_the_resource_count_fed_through_the_pipeline():
    """Runs last: the examples of test_hostile_snapshots_through_every_rule_and_format really fed at least
    MIN_RESOURCES hostile resources through every stage (counted as they ran, not as asked for)."""
    if FED["examples"] < EXAMPLES or EXAMPLES < DEFAULT_EXAMPLES:
        pytest.skip(f"the property test ran {FED['examples']} of its {EXAMPLES} examples "
                    f"(of {DEFAULT_EXAMPLES} by default): it failed, was deselected or asked for fewer")
    assert FED["pipeline"] >= MIN_RESOURCES, FED
