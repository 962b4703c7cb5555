"""Run the Rego unit tests: one pytest case per `test_*` rule in rego/*_test.rego and engine, named after both.

Two engines: the embedded one (regorus), compiled the way Tollgate compiles the rules (RuleSet, with
data.config, data.instance_types and data.aws.taggable_types), plus the test files; and OPA's own engine
(opa-golib-python-bindings), holding each rule file as its own module, as an OPA server or bundle does.
Each case must evaluate to exactly `true` on both.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from opa_bindings.engine import OpaEngine, OpaError

from tollgate.evaluate import RuleSet
from tollgate.evaluate.rules import PACKAGE, reference_data

ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = ROOT / "rego"
TEST_RULE = re.compile(r"^test_[a-zA-Z0-9_]+", re.M)


def rego_tests(rules_dir: Path) -> list[tuple[str, str]]:
    """(file name, test name) for every test rule, in file order. A test written as several bodies
    (or duplicated) is listed once; tests/test_rule_catalog.py reports duplicates."""
    found: dict[str, str] = {}
    for path in sorted(rules_dir.glob("*_test.rego")):
        for name in TEST_RULE.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, path.name)
    return [(file, name) for name, file in found.items()]


CASES = rego_tests(RULES_DIR)


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return RuleSet(RULES_DIR, with_tests=True)


def test_rego_tests_exist():
    assert CASES, f"no test_* rules found in {RULES_DIR}/*_test.rego"


@pytest.fixture(scope="module")
def opa(rules: RuleSet) -> OpaEngine:
    engine = OpaEngine()
    for path in sorted(RULES_DIR.glob("*.rego")):
        engine.add_policy(f"{PACKAGE}/{path.name}", path.read_text(encoding="utf-8"))
    engine.add_data({**reference_data(), "config": rules.config})
    return engine


@pytest.mark.parametrize(("file", "name"), CASES, ids=[name for _, name in CASES])
def test_rego_on_opa(opa: OpaEngine, file: str, name: str):
    try:
        rows = opa.eval_query(f"x = data.{PACKAGE}.{name}")
    except OpaError as exc:
        pytest.fail(f"{file}: Rego test {name} raised an error on OPA: {exc}")
    if not rows:
        pytest.fail(f"{file}: Rego test {name} failed on OPA: undefined (an expression in its body is false or undefined)")
    assert rows[0]["x"] is True, f"{file}: Rego test {name} evaluated to {rows[0]['x']!r} on OPA, expected true"


@pytest.mark.parametrize(("file", "name"), CASES, ids=[name for _, name in CASES])
def test_rego(rules: RuleSet, file: str, name: str):
    engine = rules.engine.clone()  # a test must not see another's state
    try:
        raw = json.loads(engine.eval_query_as_json(f"data.{PACKAGE}.{name}"))
    except RuntimeError as exc:  # regorus appends a Rust stack trace that says nothing about the test
        pytest.fail(f"{file}: Rego test {name} raised an error: {str(exc).split('Stack backtrace:')[0].strip()}")
    results = raw.get("result") or []
    if not results:
        pytest.fail(f"{file}: Rego test {name} failed: undefined (an expression in its body is false or undefined)")
    value = results[0]["expressions"][0]["value"]
    assert value is True, f"{file}: Rego test {name} evaluated to {value!r}, expected true"
