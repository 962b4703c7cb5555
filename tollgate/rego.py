"""The Rego rule set: load `rego/`, read each rule's METADATA, evaluate inputs in one pass.

Shared by the engine (`tollgate preview`) and the CrossGuard pack, so both load, configure and run
the rules the same way; each builds its inputs from its own source (snapshot vs analyzer protocol).
Depends only on regorus and PyYAML.

A regorus engine belongs to the thread that built it (using it from another thread panics): a
threaded server must build its RuleSet on one thread and evaluate there (see policy_pack/).
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any, Callable, Optional

# regorus' errors capture a Rust backtrace when RUST_BACKTRACE is set (as on these machines), and a pass
# makes such errors internally: with capture off, a 10,000-resource pass took about 9 % less (measured, perf
# showed the unwinder). The backtrace is never shown (engine_message drops it). Set before the first capture,
# which fixes the choice for the process; an explicit RUST_LIB_BACKTRACE still wins.
os.environ.setdefault("RUST_LIB_BACKTRACE", "0")

import regorus  # noqa: E402  (after the setting above)
import yaml  # noqa: E402

from .capture.wire import SECRET_SIG, SIG_KEY, decode_provider_inputs
from .errors import YAML_LOADER, TollgateError, read_json

PACKAGE = "tollgate"
DATA_DIR = Path(__file__).resolve().parent / "data"
# Rule heads pulumi-policy-opa would also see: ^(deny|warn)(_[a-zA-Z0-9]+)*$, kept lower case here.
HEAD = re.compile(r"^(deny|warn|stack_deny|stack_warn)_([a-z0-9_]+)\s+contains\b", re.M)
METADATA = re.compile(r"^# METADATA\n((?:#.*\n)+)", re.M)
SECRET_TEXT = "[secret]"
PARALLEL_MIN = 2000  # resources: below this a second process costs more than it saves
# Of the (resource, rule) pairs, the share the parent judges besides the stack rules (measured at 10,000
# resources: the stack rules take about a sixth of the one-core time, so both sides end together).
PARENT_SHARE = 0.4
ERROR_POS = re.compile(r"(?P<file>[^\s:]+\.rego):(?P<line>\d+)")
# The embedded engine gets the rule files of package tollgate as one module (RuleSet._compile): on each
# `data` reference it has not resolved in the current `with` context (every `data.config` read), regorus
# walks all modules, so 17 files made each such read dearer (measured: 11 % of the resource-rule pass).
MERGED = "tollgate_rules.rego"
MERGED_POS = re.compile(re.escape(MERGED) + r":(\d+)")
# A file that may join it: `package tollgate` and `import rego.v1` first (comments and blank lines aside),
# and no other import (an alias is file-scoped).
STANDARD_HEADER = re.compile(rf"\A(?:[ \t]*(?:#.*)?\n)*(package {PACKAGE}[ \t]*\n)(?:[ \t]*(?:#.*)?\n)*(import rego\.v1[ \t]*\n)")


@dataclass(frozen=True)
class Rule:
    """One guardrail: a `rego/<name>.rego` file whose deny head carries METADATA."""

    name: str          # kebab-case policy name, e.g. required-tags
    id: str            # TG001
    title: str
    description: str
    severity: str      # low|medium|high|critical
    enforcement: str   # mandatory|advisory|remediate
    scope: str         # resource|stack
    file: str
    heads: tuple[str, ...]  # deny_x / warn_x or stack_deny_x / stack_warn_x
    types: tuple[str, ...] = ()  # resource rules: the types it judges (`*` any text: `aws:*`, `kubernetes:apps/*:Deployment`)
    fast_path: str = ""  # `<name>_ok` when the file defines it: true only where no head reports (README: Rules)

    def applies_to(self, type_: str) -> bool:
        return any(_matches(pattern, type_) for pattern in self.types)


def _matches(pattern: str, type_: str) -> bool:
    head, star, tail = pattern.partition("*")
    return type_ == pattern if not star else (len(type_) >= len(head) + len(tail) and type_.startswith(head)
                                               and type_.endswith(tail))


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    verdict: str                 # deny (rule's enforcement) | warn (advisory: cannot decide)
    message: str
    index: Optional[int] = None  # resource rules: position in the evaluated inputs
    urn: Optional[str] = None    # stack rules: the resource the finding is about
    head: str = ""               # the head that reported it (deny_x, warn_x, ...)


def _parse_metadata(text: str, path: Path) -> dict[str, Any]:
    blocks = METADATA.findall(text)
    if len(blocks) != 1:
        raise TollgateError(f"expected exactly one `# METADATA` block, found {len(blocks)}", str(path),
                            fix="put one METADATA block (title, description, custom: id/severity/enforcement) "
                                "above the rule's deny head")
    body = "\n".join(line[2:] if line.startswith("# ") else line[1:] for line in blocks[0].splitlines())
    try:
        meta = yaml.load(body, Loader=YAML_LOADER) or {}
    except yaml.YAMLError as exc:
        raise TollgateError(f"METADATA is not valid YAML: {exc}", str(path)) from exc
    custom = meta.get("custom") or {}
    missing = [k for k in ("title", "description") if not meta.get(k)]
    missing += [f"custom.{k}" for k in ("id", "severity", "enforcement") if not custom.get(k)]
    if missing:
        raise TollgateError(f"METADATA lacks {', '.join(missing)}", str(path))
    return meta


def _fast_path(text: str, path: Path, name: str) -> str:
    """`<name>_ok` when the rule file defines it, after checking that each of the rule's head bodies begins
    with `not <name>_ok`: the heads then report nothing where it holds, so the embedded driver may skip them
    there (group_module) and the pack or OPA, evaluating the heads themselves, reach the same verdict."""
    ok = f"{name}_ok"
    if not re.search(rf"^{ok}\s+if\b", text, re.M):
        return ""
    bodies = re.findall(rf"^(?:deny|warn)_{name}\s+contains\b[^\n]*\{{\n\s*([^\n]*)", text, re.M)
    # (A body cut off at the end of the file is left to the compiler, whose error says more.)
    if not bodies or any(first.strip() not in (f"not {ok}", "") for first in bodies):
        raise TollgateError(f"{ok} is defined, but not every head body of the rule begins with `not {ok}`", str(path),
                            fix=f"begin each deny_{name}/warn_{name} body with `not {ok}`, or rename {ok}")
    return ok


def _load_rule(path: Path, text: str) -> Rule:
    heads = HEAD.findall(text)
    names = {name for _, name in heads}
    if len(names) != 1:
        raise TollgateError(f"a rule file must define deny_/warn_ heads for one rule, found {sorted(names) or 'none'}",
                            str(path), fix="one rule per file: deny_<rule> (and optional warn_<rule>)")
    meta = _parse_metadata(text, path)
    custom = meta["custom"]
    kinds = {kind for kind, _ in heads}
    # pulumi-policy-opa reads the level from the head: deny = mandatory, warn = advisory.
    if (custom["enforcement"] == "mandatory") != bool(kinds & {"deny", "stack_deny"}):
        raise TollgateError(f"enforcement {custom['enforcement']} does not match heads {sorted(kinds)}", str(path),
                            fix="mandatory rules report with deny_<rule>, advisory ones only with warn_<rule>")
    scope = "stack" if kinds & {"stack_deny", "stack_warn"} else "resource"
    name = names.pop()
    types = custom.get("resource_types", ["*"])  # without the list, a rule judges every resource
    if scope == "resource" and not (isinstance(types, list) and types and all(_type_pattern(t) for t in types)):
        raise TollgateError(f"METADATA custom.resource_types must be a list of resource types, not {types!r}", str(path),
                            fix='e.g. resource_types: ["aws:ec2/instance:Instance"], or a prefix such as "aws:*"; '
                                "the engine hands the rule only resources of these types")
    return Rule(
        fast_path=_fast_path(text, path, name),
        name=name.replace("_", "-"), id=str(custom["id"]), title=meta["title"],
        description=" ".join(str(meta["description"]).split()), severity=str(custom["severity"]),
        enforcement=str(custom["enforcement"]), scope=scope, file=str(path),
        heads=tuple(sorted(f"{kind}_{name}" for kind in kinds)),
        types=tuple(types) if scope == "resource" else (),
    )


def _type_pattern(value: object) -> bool:
    """`pkg:module:Type`, or one with a single `*` standing for any text (`aws:*`, `kubernetes:apps/*:Deployment`, `*`)."""
    return isinstance(value, str) and (value.count("*") == 1 or value.count("*") == 0 and value.count(":") == 2)


def driver_module(rules: list[Rule]) -> str:
    """One query (`results`) that evaluates every rule over every resource (one engine, one pass), plus
    one query per rule (`rule_<name>`) so a rule that fails at run time can be told from the others.

    Input (RuleSet.driver_input): {"resources": [...], "stack": {name, environment}, "config": data.config
    to use, "applicable": {type: [rule_<name>, ...]}}. The stack and the config travel in the input, not
    as data, so one engine (or one OPA server) serves every stack and every policy config at once; the
    rules still read them as data.stack / data.config. A resource rule sees only the resources of its
    METADATA `resource_types` (`applicable`, worked out once per type). In the one pass, the rules of a
    resource are evaluated in one `with` context (`resource_rows`), so what they share about it (tags,
    environment, instance types, containers) is computed once.

    The embedded engine runs `local_stack_results` and a module made for the evaluation (group_module)
    instead, with the stack and the config set as data: each `with data...` in force, and each rule a
    resource's context must consider and skip, makes every resource dearer. It falls back to the queries
    above on an error.
    """
    lines = ["package tollgate_driver", "import rego.v1", ""]
    context = "with input as r with data.stack as stack with data.config as config"
    for rule in rules:
        part = rule_part(rule)
        if rule.scope == "resource":
            for head in rule.heads:
                lines += [f'resource_rows contains ["{head}", msg] if {{\n\t"{part}" in data.tollgate_rules\n'
                          f"\tsome msg in data.{PACKAGE}.{head}\n}}",
                          f'rows_{part} contains ["{head}", msg] if some msg in data.{PACKAGE}.{head}']
            lines += [f"{part} contains [i, row[0], row[1]] if {{", "\tstack := input.stack", "\tconfig := input.config",
                      "\tsome i, r in input.resources", f'\t"{part}" in input.applicable[r.__type]',
                      f"\tsome row in rows_{part} {context}", "}"]
        else:
            lines += [f"results contains x if some x in {part}"]
            lines += [f'{part} contains [-1, "{head}", v] if {{\n\tsome v in data.{PACKAGE}.{head} '
                      "with data.stack as input.stack with data.config as input.config\n}" for head in rule.heads]
    lines += ["results contains x if some x in resource_results",
              "resource_results contains [i, row[0], row[1]] if {", "\tstack := input.stack", "\tconfig := input.config",
              "\tsome i, r in input.resources", "\trules := input.applicable[r.__type]",
              f"\tsome row in resource_rows {context} with data.tollgate_rules as rules", "}"]
    lines += [f"stack_results contains x if some x in {rule_part(rule)}" for rule in rules if rule.scope == "stack"]
    # Embedded: stack and config set as data for the evaluation (the resource rules: group_module).
    lines += [f"local_stack_results contains [-1, \"{head}\", v] if some v in data.{PACKAGE}.{head}"
              for rule in rules if rule.scope == "stack" for head in rule.heads]
    return "\n".join(lines) + "\n"


GROUPS_PACKAGE = "tollgate_groups"
GROUPS_DATA = "tollgate_group_members"


def group_module(rules: list[Rule], driver: dict[str, Any], start: int, end: int) -> tuple[str, dict[str, Any]]:
    """The embedded engine's query for the resource rules of resources[start:end], and the data it reads.

    The resources that the same rules apply to (by type, `applicable`) form a group; each group gets a
    `rows_<k>` rule naming only its rules' heads, and its members are evaluated with it, one `with input`
    context each. Against the driver's `resource_rows`, a resource's context no longer considers (and
    skips) every other rule's heads: about a quarter of the pass at 10,000 resources.
    `data.tollgate_groups.results` holds the rows [index, head, value]."""
    members: dict[tuple[str, ...], list[int]] = {}
    for i in range(start, end):
        parts = _parts_of(driver["resources"][i], driver["applicable"])
        if parts:
            members.setdefault(tuple(parts), []).append(i)
    by_part = {rule_part(rule): rule for rule in rules}
    lines = [f"package {GROUPS_PACKAGE}", "import rego.v1", ""]
    for k, parts in enumerate(members):
        # A rule with a fast path: its heads are not evaluated where it holds (they would report nothing).
        lines += [f'rows_{k} contains ["{head}", msg] if {{\n\tnot data.{PACKAGE}.{rule.fast_path}\n'
                  f'\tsome msg in data.{PACKAGE}.{head}\n}}' if rule.fast_path else
                  f'rows_{k} contains ["{head}", msg] if some msg in data.{PACKAGE}.{head}'
                  for rule in (by_part[part] for part in parts) for head in rule.heads]
        lines += [f"results contains [i, row[0], row[1]] if {{", f'\tsome i in data.{GROUPS_DATA}["{k}"]',
                  f"\tsome row in rows_{k} with input as input.resources[i]", "}"]
    module = "\n".join(lines) + "\n" if members else ""  # no resource any rule applies to: nothing to ask
    return module, {GROUPS_DATA: {str(k): indices for k, indices in enumerate(members.values())}}


def _parts_of(doc: Any, applicable: dict[str, list[str]]) -> list[str]:
    """The driver's per-rule query names (`rule_<name>`) of the resource rules that judge this input."""
    type_ = doc.get("__type") if isinstance(doc, dict) else None
    return applicable.get(type_, []) if isinstance(type_, str) else []


def rule_part(rule: Rule) -> str:
    """The driver's per-rule query name: `rule_<name>`."""
    return "rule_" + rule.name.replace("-", "_")


@cache
def taggable_types() -> frozenset[str]:
    """AWS resource types that accept `tags` (generated from pulumi-aws: scripts/gen_aws_taggable.py)."""
    return frozenset(json.loads((DATA_DIR / "aws-taggable-types.json").read_text(encoding="utf-8"))["types"])


@cache
def reference_data() -> dict[str, Any]:
    """Facts the rules need: every current EC2 type, RDS class and ElastiCache node type (the sourced table
    tollgate/data/aws-instance-types.json, scripts/gen_instance_types.py), taggable AWS types."""
    table = json.loads((DATA_DIR / "aws-instance-types.json").read_text(encoding="utf-8"))
    names = {"instance_types": "EC2 instance types", "db": "RDS instance classes", "cache": "ElastiCache node types"}
    dates = {"instance_types": table["as_of"]["ec2_instance_types"], "db": table["as_of"]["rds_classes"],
             "cache": table["as_of"]["cache_node_types"]}
    return {"instance_types": {t: _rule_spec(spec) for t, spec in table["ec2_instance_types"].items()},
            "database_classes": {"db": _class_specs(table["rds_classes"]), "cache": _class_specs(table["cache_node_types"])},
            "aws": {"taggable_types": {t: True for t in sorted(taggable_types())},
                    "tables": {k: {"name": names[k], "as_of": dates[k]} for k in names}}}


def _rule_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """An EC2 type as the rules read it: vCPU, memory, GPUs and other accelerators; a type with either also has
    `devices` (both counted), `kind` (GPU or accelerator) and `device` (them in words, for a message)."""
    gpus, other = spec["gpus"], spec.get("accelerators", {}).get("count", 0)
    has_gpu = gpus > 0 or "gpu_model" in spec  # a GPU share (g6f) counts no whole GPU, but is a GPU type
    kind = "GPU" if has_gpu else "accelerator" if other else ""
    rule_spec = {"vcpu": spec["vcpu"], "memory_gib": spec["memory_gib"], "gpus": gpus, "accelerators": other,
                 "accelerated": bool(kind)}
    if kind:  # only on such types: each field is data the engine loads, for every type of the table
        rule_spec.update(devices=gpus + other, kind=kind, device=_device_text(spec, kind))
    return rule_spec


def _device_text(spec: dict[str, Any], kind: str) -> str:
    """`1 nvidia a10g GPU`, `0.125 of one nvidia l4 GPU`, `16 aws trainium accelerators`."""
    if kind == "GPU":
        count = spec["gpus"] or f"{spec.get('gpu_share', 'a share')} of one"
        words = (count, spec.get("gpu_manufacturer"), spec.get("gpu_model"), "GPUs" if spec["gpus"] > 1 else "GPU")
    else:
        acc = spec["accelerators"]
        words = (acc["count"], acc.get("manufacturer"), acc["name"], "accelerators" if acc["count"] > 1 else "accelerator")
    return " ".join(str(w) for w in words if w)


def _class_specs(classes: dict[str, Any]) -> dict[str, Any]:
    """RDS classes or ElastiCache node types by name: vCPU and memory where the table gives them."""
    return {name: {k: v for k, v in spec.items() if k in ("vcpu", "memory_gib")} for name, spec in classes.items()}


def engine_message(exc: Exception | str, with_position: bool = True) -> str:
    """regorus errors are a source excerpt, `error: ...` and a Rust stack: keep position and reason."""
    text = str(exc).split("Stack backtrace:")[0]
    reasons = [line.strip()[len("error:"):].strip() for line in text.splitlines() if line.strip().startswith("error:")]
    pos = ERROR_POS.search(text)
    where = f"{pos['file']}:{pos['line']}: " if pos and with_position else ""
    return where + ("; ".join(reasons) if reasons else " ".join(text.split()))


def merge_modules(texts: dict[str, str]) -> tuple[str, list[tuple[int, str]], dict[str, str]]:
    """The rule files (name: text) that may share one module (STANDARD_HEADER), as that module's text, where
    each starts in it ([(first line, name)]), and the files that may not. Each file keeps its own lines
    (its header lines are blanked), so a position maps back by subtraction (RuleSet.relocate)."""
    lines, starts, alone = [f"package {PACKAGE}", "import rego.v1"], [], {}
    for name, text in texts.items():
        header = STANDARD_HEADER.match(text)
        if header is None or len(re.findall(r"^import\b", text, re.M)) != 1:
            alone[name] = text
            continue
        starts.append((len(lines) + 1, name))
        body = text[:header.start(1)] + "\n" + text[header.end(1):header.start(2)] + "\n" + text[header.end(2):]
        lines += body.split("\n")[:-1] if body.endswith("\n") else body.split("\n")
    return "\n".join(lines) + "\n", starts, alone


def _compile_error(exc: Exception | str, files: dict[str, str]) -> TollgateError:
    pos = ERROR_POS.search(str(exc))
    file = pos["file"] if pos else None
    return TollgateError(f"Rego rules do not compile: {engine_message(exc, with_position=False)}", files.get(file, file),
                         int(pos["line"]) if pos else None, fix="fix the rule; `pytest tests/test_rego.py` runs its tests")


class RuleSet:
    """Every rule of a directory, compiled once into one engine with the config as data."""

    def __init__(self, rules_dir: Path, config: Optional[dict[str, Any]] = None, with_tests: bool = False,
                 by_type: bool = True):
        """`by_type=False` hands every resource to every resource rule (tests: the types change no verdict)."""
        self.dir = rules_dir
        if not rules_dir.is_dir():
            raise TollgateError("rules directory not found", str(rules_dir), fix="pass --rules DIR")
        self.files = {p.name: str(p) for p in sorted(rules_dir.glob("*.rego"))}
        self.rules: list[Rule] = []
        texts, tests = {}, {}
        for path in sorted(rules_dir.glob("*.rego")):
            text = path.read_text(encoding="utf-8")
            if path.name.endswith("_test.rego"):
                tests[path.name] = text
                continue
            texts[path.name] = text
            if HEAD.search(text):
                rule = _load_rule(path, text)
                self.rules.append(rule if by_type or rule.scope == "stack" else replace(rule, types=("*",)))
        merged, self._starts, alone = merge_modules(texts)
        base = self._compile({MERGED: merged, **alone, **(tests if with_tests else {})}, {**texts, **tests})
        self.defaults = self._defaults()
        self.config = config if config is not None else self.defaults["config"]
        base.add_data(reference_data())
        self._base = base  # without config: an evaluation sets its own config and stack as data
        self.engine = base.clone()
        self.engine.add_data({"config": self.config})  # the defaults; evaluate() passes the config in force
        self.by_head = {head: rule for rule in self.rules for head in rule.heads}
        # A process that leaves without clean-up (the CLI's fast exit, the forked child) sets a list here: the
        # engines an evaluation is done with are kept in it, not freed. Freeing one that holds a large stack's
        # input goes value by value: 23-35 ms at 10,000 resources (measured), after the verdict is known.
        self.keep_engines: Optional[list[regorus.Engine]] = None

    def _compile(self, modules: dict[str, str], files: dict[str, str]) -> regorus.Engine:
        """An engine with these modules and the driver. When they do not compile, the files as they are (one
        module each) are compiled too, only so that the error names the file it is in: a brace left open in
        one file of the merged module would show up in the next one."""
        try:
            return self._engine(modules)
        except RuntimeError as exc:
            error = exc
        try:
            self._engine({**{name: files[name] for _, name in self._starts},
                          **{name: text for name, text in modules.items() if name != MERGED}})
        except RuntimeError as exc:
            error = exc
        raise _compile_error(self.relocate(str(error)), self.files)

    def _engine(self, modules: dict[str, str]) -> regorus.Engine:
        engine = regorus.Engine()
        for name, text in modules.items():
            engine.add_policy(name, text)
        engine.add_policy("tollgate_driver.rego", driver_module(self.rules))
        return engine

    def relocate(self, text: str) -> str:
        """An engine message with positions in the merged module as positions in the rule files."""
        def position(match: re.Match[str]) -> str:
            line = int(match[1])
            start, name = next(((s, n) for s, n in reversed(self._starts) if s <= line), (1, MERGED))
            return f"{name}:{line - start + 1}"

        return MERGED_POS.sub(position, text)

    def _defaults(self) -> dict[str, Any]:
        return read_json(self.dir / "data.json", "rule defaults file")

    def rule(self, name: str) -> Rule:
        return next(r for r in self.rules if r.name == name)

    def evaluate(self, inputs: list[dict[str, Any]], stack: dict[str, Any],
                 config: Optional[dict[str, Any]] = None, workers: int = 1,
                 meanwhile: Optional[Callable[[], None]] = None,
                 forked: Optional[Forked] = None) -> tuple[list[RuleResult], dict[Rule, str]]:
        """Evaluate all rules over resource inputs in pulumi-policy-opa shape, in one query.

        `stack` is `{"name", "environment"}`: the fallback when a resource has no environment tag.
        `config` replaces data.config (the defaults merged with a policy config) for this evaluation.
        Returns the results and, for each rule that failed at run time, its error: when the one-pass
        query fails, each rule is run on its own so one broken rule cannot hide the others' verdicts.
        `workers` > 1 lets a large stack's resource rules run in a forked copy of this process as well
        (fork_part); the results are the same. `forked` is such a child the caller started already, on the
        same stack (evaluate.fork_judge: before the snapshot was even loaded). `meanwhile` is other work of
        the caller's (the cost estimate), run here while a child evaluates, or first when there is none.
        """
        if forked is None and workers > 1 and fork_allowed(len(inputs)):
            split = self.split_at([doc.get("__type") for doc in inputs], PARENT_SHARE)
            forked = self.fork_part(lambda: (inputs[split:], stack, config, split, len(inputs)), PARENT_SHARE)
        if forked is not None:
            return self._evaluate_forked(self.driver_input(inputs, stack, config), forked, meanwhile)
        if meanwhile is not None:
            meanwhile()
        return self._evaluate(self.driver_input(inputs, stack, config), "results")

    def _local(self, driver: dict[str, Any]) -> regorus.Engine:
        """The embedded engine ready for local_stack_results and group_module: the stack and config as data,
        the resources in (which rules apply to which resource is group_module's data, not input)."""
        local = self._base.clone()
        local.add_data({"stack": driver["stack"], "config": driver["config"]})
        try:
            local.set_input({"resources": driver["resources"]})
        except (TypeError, ValueError, OverflowError) as exc:  # e.g. an integer no engine number can hold
            raise TollgateError(f"the resources cannot be handed to the rule engine: {str(exc)[:160]}",
                                fix="inputs must be JSON values (numbers within a 64-bit float)") from exc
        return local

    def _evaluate(self, driver: dict[str, Any], query: str, local: Optional[regorus.Engine] = None,
                  part: Optional[tuple[int, int]] = None) -> tuple[list[RuleResult], dict[Rule, str]]:
        """One query of the driver (results, resource_results or stack_results); when it fails, each rule
        it covers on its own, so the broken one is named and the others still judge. `local` is the engine
        of _local(driver) when there is one; `part` (start, end) limits the resource rules to those resources."""
        try:
            engine = local or self._local(driver)
            found = []
            if query in ("results", "resource_results"):
                module, members = group_module(self.rules, driver, *(part or (0, len(driver["resources"]))))
                if module:
                    groups = engine.clone()
                    groups.add_policy(f"{GROUPS_PACKAGE}.rego", module)
                    groups.add_data(members)
                    found += self._results(groups, "results", GROUPS_PACKAGE)
                    self._done_with(groups)
            if query in ("results", "stack_results"):
                found += self._results(engine, "local_stack_results")
            if local is None:
                self._done_with(engine)
            return found, {}
        except RuntimeError:
            pass
        start, end = part or (0, len(driver["resources"]))
        served = self.engine.clone()
        served.set_input(dict(driver, resources=driver["resources"][start:end]) if part else driver)
        try:
            found = self._results(served, query)
            errors = {}
        except RuntimeError:
            scopes = {"results": ("resource", "stack"), "resource_results": ("resource",), "stack_results": ("stack",)}
            found, errors = [], {}
            for rule in self.rules:
                if rule.scope not in scopes[query]:
                    continue
                try:
                    found += self._results(served, rule_part(rule))
                except RuntimeError as exc:
                    errors[rule] = engine_message(self.relocate(str(exc)))
        return [replace(r, index=r.index + start) if r.index is not None and r.index >= 0 else r for r in found], errors

    def _done_with(self, engine: regorus.Engine) -> None:
        """An engine this evaluation no longer needs: kept (keep_engines) when the process leaves without freeing."""
        if self.keep_engines is not None:
            self.keep_engines.append(engine)

    def fork_part(self, part: Callable[[], tuple[list[dict[str, Any]], dict[str, Any], Optional[dict[str, Any]], int, int]],
                  share: float) -> Forked:
        """Fork a child that judges the resource rules of a stack's last resources. `part()`, run in the child,
        gives (the inputs of resources[split:], stack, config, split, the stack's resource count), where split
        is split_at(the stack's types, share). The child answers on a pipe with its rows and errors as JSON
        and leaves without running any of this process's cleanup; Forked.collect reads the answer."""
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.close(read_end)
                self.keep_engines = []  # this child leaves by os._exit: nothing it made needs freeing
                inputs, stack, config, split, count = part()
                found, failed = self._evaluate(self.driver_input(inputs, stack, config), "resource_results")
                answer = json.dumps({"split": split, "count": count,
                                     "rows": [[r.index + split, r.head, r.message] for r in found],
                                     "errors": {rule.name: error for rule, error in failed.items()}}).encode()
                with os.fdopen(write_end, "wb") as pipe:
                    pipe.write(answer)
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        return Forked(self, share, pid, read_end)

    def _evaluate_forked(self, driver: dict[str, Any], forked: Forked,
                         meanwhile: Optional[Callable[[], None]]) -> tuple[list[RuleResult], dict[Rule, str]]:
        """The stack rules and the first resources here, the rest by the forked child, on two cores. The child
        converts only its part for the engine (measured faster than sharing one converted input: the engine's
        reference counts write to the pages such an input lives in, which then get copied on each side). If
        the child fails in any way, or judged another stack, its part is evaluated here: nothing is lost,
        only time. `meanwhile` runs here first; if it raises, the child is stopped and reaped."""
        end = len(driver["resources"])
        split = self.split_at([doc.get("__type") for doc in driver["resources"]], forked.share)
        with forked:
            if meanwhile is not None:
                meanwhile()
            local = self._local(driver)
            results, errors = self._evaluate(driver, "stack_results", local)
            mine, my_errors = self._evaluate(driver, "resource_results", local, (0, split))
            answer = forked.collect(split, end)
        theirs, their_errors = answer or self._evaluate(driver, "resource_results", local, (split, end))
        self._done_with(local)
        return results + mine + theirs, {**errors, **their_errors, **my_errors}

    def split_at(self, types: list[Any], share: float) -> int:
        """The index before which resources of these types hold `share` of the (resource, applicable resource
        rule) pairs: where the parent's part ends and a forked child's begins."""
        weights = {type_: len(self.resource_parts(type_)) for type_ in set(types)}
        goal, total = share * sum(weights[t] for t in types), 0
        for i, type_ in enumerate(types):
            if total >= goal:
                return i
            total += weights[type_]
        return len(types)

    def resource_parts(self, type_: Any) -> list[str]:
        """The driver's query names (rule_part) of the resource rules that apply to a resource type."""
        if not isinstance(type_, str):
            return []
        return [rule_part(r) for r in self.rules if r.scope == "resource" and r.applies_to(type_)]

    def driver_input(self, inputs: list[dict[str, Any]], stack: dict[str, Any],
                     config: Optional[dict[str, Any]] = None) -> dict[str, Any]:
        applicable = {t: self.resource_parts(t) for t in {doc.get("__type") for doc in inputs}}
        return {"resources": inputs, "stack": {k: v for k, v in stack.items() if v is not None},
                "config": self.config if config is None else config,
                "applicable": {t: parts for t, parts in applicable.items() if parts}}

    def _results(self, engine: regorus.Engine, query: str, package: str = f"{PACKAGE}_driver") -> list[RuleResult]:
        raw = json.loads(engine.eval_query_as_json(f"data.{package}.{query}"))
        return [r for expression in raw.get("result", []) for r in self.results(expression["expressions"][0]["value"])]

    def results(self, rows: list[list[Any]]) -> list[RuleResult]:
        """The driver's rows [index, head, value] as RuleResults, whichever engine produced them."""
        results = []
        for index, head, value in rows:
            rule = self.by_head[head]
            verdict = "warn" if "warn" in head else "deny"
            if rule.scope == "stack":  # stack rules say which resource: {"urn", "msg"} (Gatekeeper's msg)
                results.append(RuleResult(rule, verdict, str(value.get("msg")), urn=value.get("urn"), head=head))
            else:
                results.append(RuleResult(rule, verdict, str(value), index=index, head=head))
        return results

    def modules(self) -> dict[str, str]:
        """Every policy module the engine runs (rules, helpers, driver) by file name."""
        found = {p.name: p.read_text(encoding="utf-8") for p in sorted(self.dir.glob("*.rego"))
                 if not p.name.endswith("_test.rego")}
        found["tollgate_driver.rego"] = driver_module(self.rules)
        return found


def fork_allowed(resources: int) -> bool:
    """Whether judging this many resources is worth a forked child: a large stack, a second core, and a
    process with one thread (forking a threaded one, such as the pack's gRPC server, is unsafe)."""
    return (resources >= PARALLEL_MIN and (os.cpu_count() or 1) > 1 and hasattr(os, "fork")
            and threading.active_count() == 1)


class Forked:
    """A forked child judging the resource rules of a stack's resources from split_at(types, share) on
    (RuleSet.fork_part). As a context manager: on leaving, a child whose answer was not collected is
    stopped and reaped."""

    def __init__(self, rules: RuleSet, share: float, pid: int, pipe: int):
        self.rules, self.share, self.pid, self.pipe = rules, share, pid, pipe
        self.done = False

    def __enter__(self) -> "Forked":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def collect(self, split: int, count: int) -> Optional[tuple[list[RuleResult], dict[Rule, str]]]:
        """The child's results and errors; None if it failed or judged another split or stack size."""
        if self.done:
            return None
        with os.fdopen(self.pipe, "rb") as pipe:
            answer = pipe.read()
        _, status = os.waitpid(self.pid, 0)
        self.done = True
        try:
            doc = json.loads(answer) if status == 0 else {}
            if (doc.get("split"), doc.get("count")) != (split, count):
                return None
            return self.rules.results(doc["rows"]), {self.rules.rule(name): e for name, e in doc["errors"].items()}
        except (ValueError, KeyError, TypeError, AttributeError, StopIteration):
            return None

    def stop(self) -> None:
        """Stop and reap the child unless its answer was collected."""
        if not self.done:
            self.done = True
            os.close(self.pipe)
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)


def _redact_secrets(value: Any) -> Any:
    """A copy of `value` with each secret as "[secret]"; iterative, so any depth the JSON encoder took is fine."""
    def copy(v: Any) -> Any:
        if isinstance(v, dict):
            return SECRET_TEXT if v.get(SIG_KEY) == SECRET_SIG else {}
        return [] if isinstance(v, list) else v

    root = copy(value)
    pending = [(value, root)]
    while pending:
        source, target = pending.pop()
        if isinstance(target, dict):
            for key, item in source.items():
                target[key] = copy(item)
                if isinstance(target[key], (dict, list)):
                    pending.append((item, target[key]))
        elif isinstance(target, list):
            for item in source:
                target.append(copy(item))
                if isinstance(target[-1], (dict, list)):
                    pending.append((item, target[-1]))
    return root


# The secret scan's encoder, made once (json.dumps makes one a call): without the circular-reference check,
# as inputs parsed from JSON or a protobuf Struct cannot refer to themselves (a value that did would recurse
# until RecursionError, an error below). 0.065 -> 0.050 s for the 10,000-resource estate's inputs.
_SCAN_ENCODER = json.JSONEncoder(ensure_ascii=False, check_circular=False)


def _without_secrets(value: Any) -> Any:
    """`value` with each secret as "[secret]"; walked only when its JSON holds a secret's signature.
    A value the engine could not take (nested past reason, an unpaired surrogate) is an error, never judged
    half-way."""
    try:
        text = _SCAN_ENCODER.encode(value)
        text.encode("utf-8")
        return _redact_secrets(value) if SECRET_SIG in text else value
    except (RecursionError, UnicodeEncodeError) as exc:
        raise TollgateError(f"a resource input cannot be judged: {type(exc).__name__}: {str(exc)[:120]}",
                            fix="inputs must be JSON values of sane depth with valid Unicode text") from exc


def provider_doc(provider: Optional[dict[str, Any]]) -> dict[str, Any]:
    """A provider as the rules see it: {type, name, urn, properties}, inputs decoded, secrets redacted."""
    if not provider:
        return {}
    return dict(provider, properties=_without_secrets(decode_provider_inputs(provider.get("properties") or {})))


def opa_input(type_: str, name: str, urn: str, properties: dict[str, Any], options: dict[str, Any],
              provider: Optional[dict[str, Any]], provider_seen: Optional[dict[str, Any]] = None,
              secret_free: bool = False) -> dict[str, Any]:
    """A resource as pulumi-policy-opa hands it to Rego. `provider` is {type, name, urn, properties}.

    Secrets read as "[secret]" (a snapshot never holds their value); a provider's JSON-encoded
    inputs (defaultTags) are decoded, whichever path they came by. `provider_seen`, when given, holds the
    provider documents already built, by URN (many resources share a provider). `secret_free`: the
    properties are known to hold no secret (Snapshot.secret_free), so they are not scanned for one.
    """
    if provider_seen is None or not provider:
        prov = provider_doc(provider)
    else:
        prov = provider_seen.get(provider.get("urn"))
        if prov is None:
            prov = provider_seen[provider.get("urn")] = provider_doc(provider)
    return {"__type": type_, "__name": name, "__urn": urn,
            "properties": properties if secret_free else _without_secrets(properties),
            "options": options, "provider": prov}
