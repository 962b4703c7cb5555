"""The embedded engine runs the rule files of package tollgate as one module (tollgate.evaluate.driver.merge_modules):
each file keeps its lines there, and every error still names the file and line it is in."""

from __future__ import annotations

from pathlib import Path

import pytest

from tollgate.errors import TollgateError
from tollgate.evaluate import RuleSet
from tollgate.evaluate.driver import MERGED, merge_modules

from conftest import rules_with

ROOT = Path(__file__).resolve().parent.parent
HEADER = "package tollgate\n\nimport rego.v1\n\n"


def rule_texts() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((ROOT / "rego").glob("*.rego"))
            if not p.name.endswith("_test.rego")}


def test_each_rule_file_keeps_its_lines_in_the_merged_module():
    texts = rule_texts()
    merged, starts, alone = merge_modules(texts)
    assert alone == {} and [name for _, name in starts] == list(texts)
    lines = merged.split("\n")
    for start, name in starts:
        own = texts[name].split("\n")[:-1]
        there = lines[start - 1:start - 1 + len(own)]
        header = {i for i, line in enumerate(own) if line in ("package tollgate", "import rego.v1")}
        assert len(header) == 2, name
        assert [line for i, line in enumerate(there) if i not in header] == \
               [line for i, line in enumerate(own) if i not in header], name
        assert all(there[i] == "" for i in header), name


def test_a_file_with_its_own_imports_or_package_is_a_module_of_its_own():
    own_import = HEADER + "import data.tollgate.lib as lib\n\nx := 1\n"
    other_package = "package other\n\nimport rego.v1\n\ny := 2\n"
    _, starts, alone = merge_modules({"a.rego": own_import, "b.rego": other_package, "c.rego": HEADER + "z := 3\n"})
    assert set(alone) == {"a.rego", "b.rego"} and [name for _, name in starts] == ["c.rego"]


def test_a_brace_left_open_is_reported_in_its_own_file_not_the_next(tmp_path):
    # a_broken.rego comes first in the merged module: its open brace would swallow the next file.
    rules = rules_with(tmp_path, "a_broken.rego", 'deny_broken contains msg if {\n\tmsg := "x"\n\nx := 1\n')
    with pytest.raises(TollgateError) as err:
        RuleSet(rules)
    assert err.value.file == str(rules / "a_broken.rego") and "do not compile" in err.value.message
    assert MERGED not in str(err.value)


def test_a_run_time_error_names_its_file_and_line_in_the_middle_of_the_merged_module(tmp_path):
    body = 'deny_broken contains msg if {\n\tx := count(input.__name) - count(input.__name)\n\tmsg := sprintf("%v", [1 / x])\n}\n'
    rules = rules_with(tmp_path, "m_broken.rego", body)  # between k8s_resource_limits and nat_gateway_sprawl
    text = (rules / "m_broken.rego").read_text()
    line = text.split("\n").index('\tmsg := sprintf("%v", [1 / x])') + 1
    ruleset = RuleSet(rules)
    doc = {"__type": "aws:s3/bucket:Bucket", "__name": "b", "__urn": "urn:pulumi:dev::p::aws:s3/bucket:Bucket::b",
           "properties": {}, "options": {}, "provider": {}}
    _, errors = ruleset.evaluate([doc], {"name": "dev"})
    assert [rule.name for rule in errors] == ["broken"]
    assert errors[ruleset.rule("broken")].startswith(f"m_broken.rego:{line}: divide by zero")


# --- fast paths: `<rule>_ok`, which the embedded driver evaluates before the rule's heads ---

GATED = 'gated_ok if input.properties.fine == true\n\ndeny_gated contains msg if {\n\tnot gated_ok\n\tmsg := "not fine"\n}\n'


def test_a_fast_path_must_open_every_head_body(tmp_path):
    """The driver skips a rule's heads where `<rule>_ok` holds; the pack and OPA evaluate the heads themselves.
    Both agree only if every head body begins with `not <rule>_ok`, so a rule file that breaks that is refused."""
    body = GATED + 'deny_gated contains msg if {\n\tinput.properties.bad\n\tmsg := "bad"\n}\n'
    rules = rules_with(tmp_path, "gated.rego", body)
    with pytest.raises(TollgateError, match="not every head body of the rule begins with `not gated_ok`"):
        RuleSet(rules)


def test_a_fast_path_skips_the_heads_only_where_it_holds(tmp_path):
    from tollgate.evaluate import judge
    from tollgate.model import Resource, Snapshot
    from tollgate.evaluate.driver import group_module

    rules = RuleSet(rules_with(tmp_path, "gated.rego", GATED))
    [gated] = [r for r in rules.rules if r.name == "gated"]
    assert gated.fast_path == "gated_ok"
    resources = [Resource(urn=f"urn:pulumi:dev::unit::unit:index:Thing::{name}", type="unit:index:Thing", name=name,
                          custom=True, inputs={"fine": fine}) for name, fine in (("good", True), ("bad", False))]
    found = [(f.rule, f.name, f.message) for f in judge(Snapshot("unit", "dev", resources), rules) if f.rule == "gated"]
    assert found == [("gated", "bad", "not fine")]
    driver = rules.driver_input([{"__type": "unit:index:Thing"}], {"name": "dev"})
    assert "not data.tollgate.gated_ok" in group_module(rules.rules, driver, 0, 1)[0]
