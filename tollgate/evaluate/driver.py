"""The generated Rego: the driver module every engine runs, the embedded engine's group module, and the
rule files of package tollgate merged into one module for the embedded engine.

Words: a rule's *query* is the driver's per-rule rule (`rule_<name>`), by which a rule that fails at run
time is told from the others; the resource rules that apply to a resource type are its queries.
"""

from __future__ import annotations

import re
from typing import Any

from .rules import PACKAGE, Rule

GROUPS_PACKAGE = "tollgate_groups"
GROUPS_DATA = "tollgate_group_members"
# The embedded engine's one module of the rule files (merge_modules): regorus walks every module on each
# `data` reference it has not resolved in the current `with` context, so fewer modules make every rule cheaper.
MERGED = "tollgate_rules.rego"
MERGED_POS = re.compile(re.escape(MERGED) + r":(\d+)")
# A file that may join it: `package tollgate` and `import rego.v1` first (comments and blank lines aside),
# and no other import (an alias is file-scoped).
STANDARD_HEADER = re.compile(rf"\A(?:[ \t]*(?:#.*)?\n)*(package {PACKAGE}[ \t]*\n)(?:[ \t]*(?:#.*)?\n)*(import rego\.v1[ \t]*\n)")


def rule_query(rule: Rule) -> str:
    """The driver's per-rule query name: `rule_<name>`."""
    return "rule_" + rule.name.replace("-", "_")


def driver_module(rules: list[Rule]) -> str:
    """One query (`results`) that evaluates every rule over every resource (one engine, one pass), plus
    one query per rule (rule_query) so a rule that fails at run time can be told from the others.

    Input (RuleSet.driver_input): {"resources": [...], "stack": {name, environment}, "config": data.config
    to use, "applicable": {type: [its queries]}, "groups": {k: [indices]}, "ungrouped": [indices]}. The
    stack and the config travel in the input, not as data, so one engine (or one OPA server) serves every
    stack and every policy config at once; the rules still read them as data.stack / data.config, set once
    for the whole pass (one `with` context for the stack rules, one around the resource rules). A resource
    rule sees only the resources of its METADATA `resource_types`: the resources of each of the rule set's
    static groups (static_groups: the rules that apply to a type) are evaluated with that group's rules
    only, one `with input` context each, so what its rules share about it is computed once and no other
    rule is considered; a resource of any other combination of rules (`ungrouped`) goes through
    `resource_rows`, where each rule checks that it applies.

    The embedded engine runs `local_stack_results` and group_module instead, with the stack and the config
    set as data: each `with data...` in force makes every resource dearer. It falls back to the queries
    above on an error.
    """
    lines = ["package tollgate_driver", "import rego.v1", ""]
    context = "with input as r with data.stack as stack with data.config as config"
    for rule in rules:
        query = rule_query(rule)
        if rule.scope == "resource":
            for head in rule.heads:
                lines += [f'resource_rows contains ["{head}", msg] if {{\n\t"{query}" in data.tollgate_rules\n'
                          f"\tsome msg in data.{PACKAGE}.{head}\n}}",
                          f'rows_{query} contains ["{head}", msg] if some msg in data.{PACKAGE}.{head}']
            lines += [f"{query} contains [i, row[0], row[1]] if {{", "\tstack := input.stack", "\tconfig := input.config",
                      "\tsome i, r in input.resources", f'\t"{query}" in input.applicable[r.__type]',
                      f"\tsome row in rows_{query} {context}", "}"]
        else:
            lines += [f'{query} contains [-1, "{head}", v] if {{\n\tsome v in data.{PACKAGE}.{head} '
                      "with data.stack as input.stack with data.config as input.config\n}" for head in rule.heads]
    lines += ["results contains x if some x in stack_results",
              "stack_results contains x if {", "\tstack := input.stack", "\tconfig := input.config",
              "\tsome x in local_stack_results with data.stack as stack with data.config as config", "}"]
    lines += ["results contains x if some x in resource_results",
              "resource_results contains x if {", "\tstack := input.stack", "\tconfig := input.config",
              "\tsome x in grouped_results with data.stack as stack with data.config as config", "}",
              "grouped_results contains [i, row[0], row[1]] if {", "\tsome i in input.ungrouped",
              "\tr := input.resources[i]", "\trules := input.applicable[r.__type]",
              "\tsome row in resource_rows with input as r with data.tollgate_rules as rules", "}"]
    by_query = {rule_query(rule): rule for rule in rules}
    for k, queries in enumerate(static_groups(rules)):
        lines += _group_rows(f"group_rows_{k}", [by_query[query] for query in queries])
        lines += ["grouped_results contains [i, row[0], row[1]] if {", f'\tsome i in input.groups["{k}"]',
                  f"\tsome row in group_rows_{k} with input as input.resources[i]", "}"]
    # Embedded: stack and config set as data for the evaluation (the resource rules: group_module).
    lines += [f"local_stack_results contains [-1, \"{head}\", v] if some v in data.{PACKAGE}.{head}"
              for rule in rules if rule.scope == "stack" for head in rule.heads]
    return "\n".join(lines) + "\n"


def static_groups(rules: list[Rule]) -> list[tuple[str, ...]]:
    """The combinations of resource rules (their queries) that the types the rules name can meet: one for
    each type a rule lists, and one for each pattern (`aws:*`) standing for the types only patterns match.
    Fixed by the rule set, so the driver that evaluates them is written once, not per stack."""
    named = {t.replace("*", "\0") for rule in rules if rule.scope == "resource" for t in rule.types}
    found = {tuple(rule_query(r) for r in rules if r.scope == "resource" and r.applies_to(t)) for t in named}
    return sorted(group for group in found if group)


def driver_groups(rules: list[Rule], resources: list[Any], applicable: dict[str, list[str]]) -> dict[str, Any]:
    """The driver input's `groups` (static group number: the indices of its resources) and `ungrouped`
    (resources whose rules are no static group: each rule then checks that it applies)."""
    number = {group: str(k) for k, group in enumerate(static_groups(rules))}
    groups: dict[str, list[int]] = {}
    ungrouped = []
    for i, doc in enumerate(resources):
        queries = tuple(_queries_of(doc, applicable))
        if not queries:
            continue
        if queries in number:
            groups.setdefault(number[queries], []).append(i)
        else:
            ungrouped.append(i)
    return {"groups": groups, "ungrouped": ungrouped}


def _group_rows(name: str, group: list[Rule]) -> list[str]:
    """`<name>` contains [head, value] for every head of the group's rules. A rule with a fast path: its heads
    are not evaluated where it holds (they would report nothing)."""
    return [f'{name} contains ["{head}", msg] if {{\n\tnot data.{PACKAGE}.{rule.fast_path}\n'
            f'\tsome msg in data.{PACKAGE}.{head}\n}}' if rule.fast_path else
            f'{name} contains ["{head}", msg] if some msg in data.{PACKAGE}.{head}'
            for rule in group for head in rule.heads]


def group_module(rules: list[Rule], driver: dict[str, Any], start: int, end: int) -> tuple[str, dict[str, Any]]:
    """The embedded engine's query for the resource rules of resources[start:end], and the data it reads.

    The resources that the same rules apply to (by type, `applicable`) form a group; each group gets a
    `rows_<k>` rule naming only its rules' heads, and its members are evaluated with it, one `with input`
    context each, so a resource's context no longer considers (and skips) every other rule's heads.
    `data.tollgate_groups.results` holds the rows [index, head, value]."""
    members: dict[tuple[str, ...], list[int]] = {}
    for i in range(start, end):
        queries = _queries_of(driver["resources"][i], driver["applicable"])
        if queries:
            members.setdefault(tuple(queries), []).append(i)
    by_query = {rule_query(rule): rule for rule in rules}
    lines = [f"package {GROUPS_PACKAGE}", "import rego.v1", ""]
    for k, queries in enumerate(members):
        lines += _group_rows(f"rows_{k}", [by_query[query] for query in queries])
        lines += [f"results contains [i, row[0], row[1]] if {{", f'\tsome i in data.{GROUPS_DATA}["{k}"]',
                  f"\tsome row in rows_{k} with input as input.resources[i]", "}"]
    module = "\n".join(lines) + "\n" if members else ""  # no resource any rule applies to: nothing to ask
    return module, {GROUPS_DATA: {str(k): indices for k, indices in enumerate(members.values())}}


def _queries_of(doc: Any, applicable: dict[str, list[str]]) -> list[str]:
    """The queries of the resource rules that judge this input."""
    type_ = doc.get("__type") if isinstance(doc, dict) else None
    return applicable.get(type_, []) if isinstance(type_, str) else []


def merge_modules(texts: dict[str, str]) -> tuple[str, list[tuple[int, str]], dict[str, str]]:
    """The rule files (name: text) that may share one module (STANDARD_HEADER), as that module's text, where
    each starts in it ([(first line, name)]), and the files that may not. Each file keeps its own lines
    (its header lines are blanked), so a position maps back by subtraction (relocate)."""
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


def relocate(text: str, starts: list[tuple[int, str]]) -> str:
    """An engine message with positions in the merged module (merge_modules' `starts`) as positions in the
    rule files."""
    def position(match: re.Match[str]) -> str:
        line = int(match[1])
        start, name = next(((s, n) for s, n in reversed(starts) if s <= line), (1, MERGED))
        return f"{name}:{line - start + 1}"

    return MERGED_POS.sub(position, text)
