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
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from tollgate.errors import TollgateError
from tollgate.rego import RuleSet

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


def catalog_problems(rules_dir: Path) -> list[str]:
    """Everything wrong with a rules directory, one sentence each; empty when the catalog is sound."""
    problems: list[str] = []
    rule_files = {}
    for path in sorted(rules_dir.glob("*.rego")):
        if path.name.endswith("_test.rego"):
            continue
        heads = HEAD_LIKE.findall(path.read_text(encoding="utf-8"))
        if heads:
            rule_files[path] = sorted(set(heads))
    for path, heads in rule_files.items():
        problems += _head_problems(path, heads)
        problems += _test_file_problems(path, heads)
    problems += _test_name_problems(rules_dir)
    problems += _metadata_problems(rules_dir)
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
