"""The rule catalog checks itself (after Regula's check-naming and gatekeeper-library's require-suites).

Every rule file (`rego/<stem>.rego` with a deny_/warn_/stack_deny_/stack_warn_ head) must have:
- METADATA with title, description, custom.id (TG + 3 digits, unique), custom.severity
  (low|medium|high|critical) and custom.enforcement (mandatory|advisory|remediate);
- head names of lowercase letters, digits and underscores (pulumi-policy-opa ignores other names), one rule
  per file, named like the file (required_tags.rego -> deny_required_tags -> rule required-tags);
- `<stem>_test.rego` beside it whose tests are named `test_<stem>_<kind>_<case>`, kind one of
  allow / deny / warn, with at least one allow case and one case per kind of head the rule has
  (a deny case for deny_/stack_deny_, a warn case for warn_/stack_warn_).
Test names must be unique: Rego merges rules of the same name, so a failing test body could hide
behind a passing one.
A file without heads is a library (lib.rego, k8s_lib.rego): no METADATA; and what more than one rule file
reads lives in a library, so a rule file holds its rule and only its own helpers.
A fast path (`<rule>_ok`) holds only where none of the rule's heads, evaluated without it, reports.
rego/policy-config.schema.json describes every policy and every setting of rego/data.json.
"""

from __future__ import annotations

import copy
import json
import re
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import pytest

from bench import generate
from tollgate.errors import TollgateError
from tollgate.evaluate import RuleSet, known_policies, resource_input
from tollgate.evaluate.policy_config import json_type
from tollgate.evaluate.policy_config import parse as parse_policy_config

ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = ROOT / "rego"

# Loose on purpose: finds misnamed heads (deny_Foo, warn_size2) that the loader's stricter pattern skips.
HEAD_LIKE = re.compile(r"^((?:stack_)?(?:deny|warn)_[^\s(\[{:=]*)", re.M)
HEAD_NAME = re.compile(r"^(?:stack_)?(?:deny|warn)_[a-z0-9_]+$")
TEST_RULE = re.compile(r"^test_[a-zA-Z0-9_]+", re.M)
RULE_ID = re.compile(r"^TG\d{3}$")
SEVERITIES = {"low", "medium", "high", "critical"}
ENFORCEMENTS = {"mandatory", "advisory", "remediate"}
KINDS = ("allow", "deny", "warn")
# A rule's own names: a rule, function or head defined at the start of a line.
DEFINED = re.compile(r"^(?:default\s+)?([a-z_][a-z0-9_]*)\s*(?:\(|\[|:=|=|if\b|contains\b|else\b)", re.M)
COMMENT_OR_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|`[^`]*`|#[^\n]*')


def catalog_problems(rules_dir: Path) -> list[str]:
    """Everything wrong with a rules directory, one sentence each; empty when the catalog is sound."""
    problems: list[str] = []
    rule_files = {}
    for path in sorted(rules_dir.glob("*.rego")):
        if path.name.endswith("_test.rego"):
            continue
        text = path.read_text(encoding="utf-8")
        heads = HEAD_LIKE.findall(text)
        if heads:
            rule_files[path] = sorted(set(heads))
        elif "# METADATA" in text:
            problems.append(f"{path.name}: METADATA but no deny_/warn_ head; a rule file needs heads, a library "
                            "(like lib.rego) has neither")
    for path, heads in rule_files.items():
        problems += _head_problems(path, heads)
        problems += _test_file_problems(path, heads)
    problems += _shared_helper_problems(list(rule_files))
    problems += _test_name_problems(rules_dir)
    problems += _metadata_problems(rules_dir)
    return problems


def _code(text: str) -> str:
    """Rego text without comments and string literals, so only names in code are found."""
    return COMMENT_OR_STRING.sub(lambda m: "" if m[0].startswith("#") else '""', text)


def _shared_helper_problems(rule_files: list[Path]) -> list[str]:
    """A name one rule file defines and another reads belongs in a library (lib.rego, k8s_lib.rego)."""
    code = {path: _code(path.read_text(encoding="utf-8")) for path in rule_files}
    problems = []
    for path, text in code.items():
        for name in sorted(set(DEFINED.findall(text))):
            readers = [other.name for other, body in code.items()
                       if other != path and re.search(rf"(?<![\w.]){name}\b", body)]
            if readers:
                problems.append(f"{path.name}: `{name}` is read by {', '.join(readers)}; move it to a library "
                                "(lib.rego, or k8s_lib.rego for Kubernetes helpers)")
    return problems


def _head_problems(path: Path, heads: list[str]) -> list[str]:
    return [f"{path.name}: rule head `{head}` must be deny_/warn_/stack_deny_/stack_warn_ followed by lowercase "
            "letters, digits and underscores (pulumi-policy-opa ignores other names)"
            for head in heads if not HEAD_NAME.match(head)]


def _test_file_problems(path: Path, heads: list[str]) -> list[str]:
    stem = path.stem
    test_path = path.with_name(f"{stem}_test.rego")
    if not test_path.exists():
        return [f"{path.name}: no {test_path.name} beside it; add allow and deny cases"]
    problems = []
    case = re.compile(rf"^test_{re.escape(stem)}_({'|'.join(KINDS)})_[a-z0-9_]+$")
    kinds = set()
    for name in TEST_RULE.findall(test_path.read_text(encoding="utf-8")):
        match = case.match(name)
        if match:
            kinds.add(match[1])
        else:
            problems.append(f"{test_path.name}: test `{name}` must be named test_{stem}_<allow|deny|warn>_<case>")
    needed = {"allow"}
    needed |= {"deny" for head in heads if "deny_" in head}
    needed |= {"warn" for head in heads if "warn_" in head}
    problems += [f"{test_path.name}: no {kind} case (a test named test_{stem}_{kind}_<case>)"
                 for kind in KINDS if kind in needed - kinds]
    return problems


def _test_name_problems(rules_dir: Path) -> list[str]:
    problems = []
    where: dict[str, list[str]] = defaultdict(list)
    for test_path in sorted(rules_dir.glob("*_test.rego")):
        if not test_path.with_name(test_path.name.removesuffix("_test.rego") + ".rego").exists():
            problems.append(f"{test_path.name}: tests a file that does not exist")
        for name in TEST_RULE.findall(test_path.read_text(encoding="utf-8")):
            where[name].append(test_path.name)
    problems += [f"test `{name}` is defined {len(files)} times ({', '.join(files)}); Rego merges same-named "
                 "rules, so one failing body can hide behind a passing one: rename" for name, files in where.items()
                 if len(files) > 1]
    return problems


def _metadata_problems(rules_dir: Path) -> list[str]:
    try:
        rules = RuleSet(rules_dir).rules
    except TollgateError as exc:
        return [f"rule set does not load: {exc}"]
    problems = []
    by_id: dict[str, list[str]] = defaultdict(list)
    by_name: dict[str, list[str]] = defaultdict(list)
    for rule in rules:
        file = Path(rule.file).name
        by_id[rule.id].append(file)
        by_name[rule.name].append(file)
        if not RULE_ID.match(rule.id):
            problems.append(f"{file}: id {rule.id!r} must be TG followed by three digits")
        if rule.severity not in SEVERITIES:
            problems.append(f"{file}: severity {rule.severity!r} must be one of {', '.join(sorted(SEVERITIES))}")
        if rule.enforcement not in ENFORCEMENTS:
            problems.append(f"{file}: enforcement {rule.enforcement!r} must be one of {', '.join(sorted(ENFORCEMENTS))}")
        if Path(rule.file).stem.replace("_", "-") != rule.name:
            problems.append(f"{file}: defines rule {rule.name}; name the file {rule.name.replace('-', '_')}.rego")
        problems += [f"{file}: head {head!r} must match ^[a-z0-9_]+$" for head in rule.heads
                     if not re.fullmatch(r"[a-z0-9_]+", head)]
        ok = f"{Path(rule.file).stem}_ok"
        if re.search(rf"^{ok}\b", Path(rule.file).read_text(encoding="utf-8"), re.M) and rule.fast_path != ok:
            problems.append(f"{file}: {ok} is not taken for the rule's fast path (the engine's heads run where it "
                            f"holds, and no check holds the heads to it); define it as `{ok} if {{ ... }}`")
    problems += [f"id {rule_id} is used by {', '.join(files)}; IDs are never shared or reused"
                 for rule_id, files in by_id.items() if len(files) > 1]
    problems += [f"rule name {name} is used by {', '.join(files)}" for name, files in by_name.items() if len(files) > 1]
    return problems


def test_catalog_is_sound():
    assert catalog_problems(RULES_DIR) == []


def test_catalog_has_rules():
    assert len(RuleSet(RULES_DIR).rules) >= 2


def test_shipped_resource_rules_name_their_types():
    """Each resource rule says which types it judges, so the engine spares it every other resource
    (tests/test_differential.py checks the list hides no verdict)."""
    loose = [r.name for r in RuleSet(RULES_DIR).rules if r.scope == "resource" and "*" in r.types]
    assert loose == []


def test_shipped_libraries_are_lib_and_k8s_lib():
    """The files without heads are the two libraries, each with its own tests; every other file is a rule."""
    files = [p for p in RULES_DIR.glob("*.rego") if not p.name.endswith("_test.rego")]
    libraries = sorted(p.name for p in files if not HEAD_LIKE.search(p.read_text(encoding="utf-8")))
    assert libraries == ["k8s_lib.rego", "lib.rego"]
    assert all((RULES_DIR / name.replace(".rego", "_test.rego")).exists() for name in libraries)
    rule_files = {Path(rule.file).name for rule in RuleSet(RULES_DIR).rules}
    assert rule_files == {p.name for p in files} - set(libraries)


def test_resource_types_must_be_a_list_of_types(rules_dir: Path):
    write_rule(rules_dir, "old_disk", "TG102")
    path = rules_dir / "old_disk.rego"
    path.write_text(path.read_text().replace("#   enforcement: mandatory\n",
                                             "#   enforcement: mandatory\n#   resource_types: aws\n"))
    with pytest.raises(TollgateError, match="resource_types must be a list"):
        RuleSet(rules_dir)


# --- the checker itself, on small broken catalogs ---

RULE = """package tollgate

import rego.v1

{metadata}deny_{name} contains msg if {{
	input.{name}
	msg := "{name}"
}}
"""

METADATA = """# METADATA
# title: {title}
# description: Reports {name}.
# custom:
#   id: {id}
#   severity: {severity}
#   enforcement: mandatory
"""

TESTS = """package tollgate

import rego.v1

test_{name}_allow_absent if {{
	count(deny_{name}) == 0 with input as {{}}
}}

test_{name}_deny_present if {{
	deny_{name} == {{"{name}"}} with input as {{"{name}": true}}
}}
"""


def write_rule(rules_dir: Path, name: str, rule_id: str = "TG101", severity: str = "low",
               metadata: bool = True, tests: str | None = TESTS) -> None:
    meta = METADATA.format(title=name.title(), name=name, id=rule_id, severity=severity) if metadata else ""
    (rules_dir / f"{name}.rego").write_text(RULE.format(metadata=meta, name=name), encoding="utf-8")
    if tests is not None:
        (rules_dir / f"{name}_test.rego").write_text(tests.format(name=name), encoding="utf-8")


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    (tmp_path / "data.json").write_text('{"config": {}}', encoding="utf-8")
    write_rule(tmp_path, "big_disk", "TG101")
    return tmp_path


def test_sound_small_catalog(rules_dir: Path):
    write_rule(rules_dir, "old_disk", "TG102")
    assert catalog_problems(rules_dir) == []


def test_rule_without_metadata(rules_dir: Path):
    write_rule(rules_dir, "old_disk", metadata=False)
    problems = catalog_problems(rules_dir)
    assert len(problems) == 1
    assert problems[0].startswith("rule set does not load: ")
    assert "old_disk.rego" in problems[0] and "METADATA" in problems[0]


def test_rules_sharing_an_id(rules_dir: Path):
    write_rule(rules_dir, "old_disk", "TG101")
    assert catalog_problems(rules_dir) == [
        "id TG101 is used by big_disk.rego, old_disk.rego; IDs are never shared or reused"]


def test_bad_id_and_severity(rules_dir: Path):
    write_rule(rules_dir, "old_disk", "TG12", severity="urgent")
    assert catalog_problems(rules_dir) == [
        "old_disk.rego: id 'TG12' must be TG followed by three digits",
        "old_disk.rego: severity 'urgent' must be one of critical, high, low, medium"]


def test_rule_without_tests(rules_dir: Path):
    write_rule(rules_dir, "old_disk", "TG102", tests=None)
    assert catalog_problems(rules_dir) == ["old_disk.rego: no old_disk_test.rego beside it; add allow and deny cases"]


def test_tests_without_deny_case(rules_dir: Path):
    only_allow = TESTS.split("test_{name}_deny")[0]
    write_rule(rules_dir, "old_disk", "TG102", tests=only_allow)
    assert catalog_problems(rules_dir) == [
        "old_disk_test.rego: no deny case (a test named test_old_disk_deny_<case>)"]


def test_tests_not_following_the_naming_convention(rules_dir: Path):
    write_rule(rules_dir, "old_disk", "TG102", tests=TESTS.replace("test_{name}_allow_absent", "test_absent"))
    assert catalog_problems(rules_dir) == [
        "old_disk_test.rego: test `test_absent` must be named test_old_disk_<allow|deny|warn>_<case>",
        "old_disk_test.rego: no allow case (a test named test_old_disk_allow_<case>)"]


def test_warn_head_needs_a_warn_case(rules_dir: Path):
    path = rules_dir / "big_disk.rego"
    path.write_text(path.read_text() + '\nwarn_big_disk contains "unknown" if input.big_disk == "?"\n')
    assert catalog_problems(rules_dir) == [
        "big_disk_test.rego: no warn case (a test named test_big_disk_warn_<case>)"]


def test_misnamed_head(rules_dir: Path):
    path = rules_dir / "big_disk.rego"
    path.write_text(path.read_text() + '\ndeny_bigDisk contains "x" if input.x\n')
    assert catalog_problems(rules_dir) == [
        "big_disk.rego: rule head `deny_bigDisk` must be deny_/warn_/stack_deny_/stack_warn_ followed by "
        "lowercase letters, digits and underscores (pulumi-policy-opa ignores other names)"]


def test_file_not_named_after_its_rule(rules_dir: Path):
    write_rule(rules_dir, "old_disk", "TG102")
    (rules_dir / "stale_disk.rego").write_text((rules_dir / "old_disk.rego").read_text())
    (rules_dir / "old_disk.rego").unlink()
    (rules_dir / "old_disk_test.rego").rename(rules_dir / "stale_disk_test.rego")
    problems = catalog_problems(rules_dir)
    assert "stale_disk.rego: defines rule old-disk; name the file old_disk.rego" in problems


def test_duplicate_test_name(rules_dir: Path):
    path = rules_dir / "big_disk_test.rego"
    path.write_text(path.read_text() + "\ntest_big_disk_deny_present if false\n")
    assert catalog_problems(rules_dir) == [
        "test `test_big_disk_deny_present` is defined 2 times (big_disk_test.rego, big_disk_test.rego); Rego merges "
        "same-named rules, so one failing body can hide behind a passing one: rename"]


def test_library_with_metadata(rules_dir: Path):
    """A file whose heads were renamed away would otherwise vanish from the catalog as a 'library'."""
    path = rules_dir / "big_disk.rego"
    path.write_text(path.read_text().replace("deny_big_disk contains", "big_disk_findings contains"))
    (rules_dir / "big_disk_test.rego").unlink()
    assert catalog_problems(rules_dir) == [
        "big_disk.rego: METADATA but no deny_/warn_ head; a rule file needs heads, a library (like lib.rego) has neither"]


def test_helper_read_by_another_rule_file(rules_dir: Path):
    write_rule(rules_dir, "old_disk", "TG102")
    path = rules_dir / "big_disk.rego"
    path.write_text(path.read_text() + '\n# old_disk_age is in comments and "old_disk_age" in strings: not a read\n'
                    'big_disk_size := input.size\n')
    old = rules_dir / "old_disk.rego"
    old.write_text(old.read_text() + "\nold_disk_age := big_disk_size\n")
    assert catalog_problems(rules_dir) == [
        "big_disk.rego: `big_disk_size` is read by old_disk.rego; move it to a library (lib.rego, or k8s_lib.rego "
        "for Kubernetes helpers)"]


# --- fast paths: `<rule>_ok` vouches only for resources none of the rule's heads would report ---

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # a value unknown at preview (rego/lib.rego unknown_sentinels)
REMOVED = object()
FLAWS = (UNKNOWN, "", " ", None, 0, 7, True, [], {}, "x9.unlisted", REMOVED)
STACKS = ({"name": "bench", "environment": "dev"}, {"name": "prod"})


def _paths(value: Any, path: tuple) -> Iterator[tuple]:
    """Every path below `value` (objects and lists included), depth first."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        yield (*path, key)
        yield from _paths(item, (*path, key))


def _replaced(doc: dict[str, Any], path: tuple, flaw: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    if flaw is not REMOVED:
        parent[path[-1]] = flaw
    elif isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent.pop(path[-1])
    return out


def _mutants(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The resource with each value in its properties (always an object), and its provider's default tags,
    flawed in each way in turn."""
    paths = list(_paths(doc["properties"], ("properties",)))
    default_tags = (doc.get("provider") or {}).get("properties", {}).get("defaultTags")
    if default_tags is not None:
        root = ("provider", "properties", "defaultTags")
        paths += [root, *_paths(default_tags, root)]
    for path in paths:
        for flaw in FLAWS:
            yield _replaced(doc, path, flaw)


@cache
def fast_path_cases() -> tuple[dict[str, list[dict[str, Any]]], dict[str, int]]:
    """Per fast-path rule, the inputs it may see: the generated estate (with its flawed resources), then every
    flaw of the first resource of each type it judges; and how many of them are the estate's."""
    rules = RuleSet(RULES_DIR)
    snapshot = generate.snapshot(600)
    providers: dict[str, Any] = {}
    docs = [resource_input(r, providers) for r in snapshot.resources]
    cases: dict[str, list[dict[str, Any]]] = {}
    estate: dict[str, int] = {}
    for rule in rules.rules:
        if rule.fast_path:
            mine = [d for d in docs if rule.applies_to(d["__type"])]
            firsts = {d["__type"]: d for d in reversed(mine)}.values()
            cases[rule.fast_path] = mine + [m for d in firsts for m in _mutants(d)]
            estate[rule.fast_path] = len(mine)
    return cases, estate


def fast_path_verdicts(stack: dict[str, Any]) -> dict[str, Any]:
    """For each fast-path rule and case: where the fast path holds, and where a head, evaluated with the fast
    path set aside, reports."""
    rules = RuleSet(RULES_DIR)
    lines = ["package tollgate_fast_paths", "import rego.v1"]
    for rule in rules.rules:
        if rule.fast_path:
            ok = rule.fast_path
            lines.append(f"taken[\"{ok}\"] contains i if {{\n\tsome i, r in input[\"{ok}\"]\n"
                         f"\tdata.tollgate.{ok} with input as r\n}}")
            lines += [f"reported[\"{ok}\"] contains i if {{\n\tsome i, r in input[\"{ok}\"]\n"
                      f"\tcount(data.tollgate.{head}) > 0 with input as r with data.tollgate.{ok} as false\n}}"
                      for head in rule.heads]
    engine = rules.engine.clone()
    engine.add_policy("tollgate_fast_paths.rego", "\n".join(lines) + "\n")
    engine.add_data({"stack": stack})
    engine.set_input(fast_path_cases()[0])
    return json.loads(engine.eval_query_as_json("data.tollgate_fast_paths"))["result"][0]["expressions"][0]["value"]


@pytest.mark.parametrize("stack", STACKS, ids=[s["name"] for s in STACKS])
def test_fast_paths_vouch_only_for_what_the_heads_pass(stack):
    """A fast path duplicates its rule's verdict for the usual resource; it must never hold where a head,
    evaluated without it, reports (the embedded engine would then drop a finding the pack and OPA make), and
    it must hold for the estate's usual resource, or it buys nothing."""
    (cases, estate), verdicts = fast_path_cases(), fast_path_verdicts(stack)
    assert set(verdicts["taken"]) == set(cases)
    for ok, docs in cases.items():
        taken, reported = set(verdicts["taken"][ok]), set(verdicts["reported"].get(ok, []))
        wrong = sorted(taken & reported)
        assert not wrong, f"{ok} holds where a head reports: {json.dumps(docs[wrong[0]])[:2000]}"
        assert reported, f"no case of {ok} reaches a head: the cases test nothing"
        passed = [i for i in range(estate[ok]) if i not in reported]
        assert len(taken & set(passed)) >= 0.5 * len(passed), f"{ok} is rarely taken where nothing is reported"


# --- the policy config's schema ---

SCHEMA_FILE = RULES_DIR / "policy-config.schema.json"


@cache
def policy_config_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def _settings_schema(entry: dict[str, Any]) -> dict[str, Any]:
    """A policy entry's settings: the properties of its object form, without enforcementLevel."""
    objects = [s for s in entry["anyOf"] if s.get("type") == "object"]
    return {k: v for k, v in (objects[0]["properties"] if objects else {}).items() if k != "enforcementLevel"}


def test_policy_config_schema_is_a_json_schema():
    jsonschema.Draft202012Validator.check_schema(policy_config_schema())


def test_policy_config_schema_describes_every_policy_and_setting():
    """One property per policy a config may name (and `all`), described from the rule's METADATA; one per
    setting of rego/data.json, with its type, its default and a description that says it."""
    rules = RuleSet(RULES_DIR)
    schema = policy_config_schema()
    properties = schema["properties"]
    assert schema["additionalProperties"] is False
    assert set(properties) == {"all", *known_policies(rules)}
    assert all(entry["description"].strip() for entry in properties.values())
    for rule in rules.rules:
        assert properties[rule.name]["description"] == f"{rule.title} ({rule.id}): {rule.description}", rule.name
    for name, entry in properties.items():
        defaults = rules.defaults["config"].get(name, {})
        settings = _settings_schema(entry)
        assert set(settings) == set(defaults), name
        for key, default in defaults.items():
            setting = settings[key]
            assert setting["type"] == json_type(default) and setting["default"] == default, f"{name}.{key}"
            assert "Default: " in setting["description"], f"{name}.{key}: say the default"
            if isinstance(default, list) and default:
                assert setting["items"] == {"type": json_type(default[0])}, f"{name}.{key}"
            if isinstance(default, dict) and default:
                assert setting["additionalProperties"] == {"type": json_type(next(iter(default.values())))}, f"{name}.{key}"


@pytest.mark.parametrize("path", sorted((ROOT / "stacks").glob("policy-config.*.json")), ids=lambda p: p.name)
def test_stack_policy_configs_validate_against_the_schema(path: Path):
    jsonschema.validate(json.loads(path.read_text(encoding="utf-8")), policy_config_schema(),
                        cls=jsonschema.Draft202012Validator)


POLICY_CONFIGS = [
    ({"all": "advisory", "instance-size-cap": {"max_vcpu": {"dev": 8, "qa": 6}}}, True),
    ({"required-tags": {"enforcementLevel": "mandatory", "tags": ["team"]}, "cost-within-budget": "disabled"}, True),
    ({"required-tags-remediation": {"enforcementLevel": "remediate"}}, True),
    ({"gpu-approval": {"large_gpus": 2}, "budget-required": {"max_threshold_percent": 80}}, True),
    ({"instance-size-cap": {"max_vcpu": {"dev": "eight"}}}, False),
    ({"instance-size-cap": {"max_vcpus": {"dev": 8}}}, False),
    ({"gpu-approval": {"large_gpus": 2.5}}, False),
    ({"required-tags": {"tags": "team"}}, False),
    ({"all": {"enforcementLevel": "advisory", "tags": ["team"]}}, False),
    ({"no-such-policy": "advisory"}, False),
    ({"ebs-gp3": "blocking"}, False),
]


@pytest.mark.parametrize(("doc", "valid"), POLICY_CONFIGS, ids=[json.dumps(d)[:60] for d, _ in POLICY_CONFIGS])
def test_the_schema_accepts_what_the_policy_config_accepts(doc: dict[str, Any], valid: bool):
    rules = RuleSet(RULES_DIR)
    errors = list(jsonschema.Draft202012Validator(policy_config_schema()).iter_errors(doc))
    assert (not errors) == valid, errors
    try:
        parse_policy_config(doc, known_policies(rules))
        parsed = True
    except TollgateError:
        parsed = False
    assert parsed == valid


def test_fast_path_the_loader_does_not_see(rules_dir: Path):
    path = rules_dir / "big_disk.rego"
    text = path.read_text().replace("\tinput.big_disk\n", "\tnot big_disk_ok\n\tinput.big_disk\n")
    path.write_text(text + "\nbig_disk_ok := true if input.small\n")
    assert catalog_problems(rules_dir) == [
        "big_disk.rego: big_disk_ok is not taken for the rule's fast path (the engine's heads run where it holds, "
        "and no check holds the heads to it); define it as `big_disk_ok if { ... }`"]
