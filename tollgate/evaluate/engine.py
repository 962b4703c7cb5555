"""RuleSet: the rules of a directory compiled into the embedded engine (regorus), evaluated in one pass.

Shared by `tollgate preview` and the CrossGuard pack, so both load, configure and run the rules the same
way; each builds its inputs with inputs.py. When the one pass fails, each rule runs on its own, so a
broken rule is named and the others still judge. A large stack's resource rules may also run in a forked
child (parallel.py). A regorus engine belongs to the thread that built it (using it from another thread
panics): a threaded server builds its RuleSet on one thread and evaluates there (see policy_pack/).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Optional

# regorus' errors capture a Rust backtrace when RUST_BACKTRACE is set, and a pass makes such errors
# internally; it is never shown (engine_message drops it). Set before the first capture, which fixes the
# choice for the process; an explicit RUST_LIB_BACKTRACE still wins.
os.environ.setdefault("RUST_LIB_BACKTRACE", "0")

import regorus  # noqa: E402  (after the setting above)

from . import parallel  # noqa: E402
from .driver import (GROUPS_PACKAGE, MERGED, driver_groups, driver_module, group_module, merge_modules,  # noqa: E402
                     relocate, rule_query)
from .rules import HEAD, PACKAGE, Rule, RuleResult, load_rule, reference_data  # noqa: E402
from ..errors import TollgateError, read_json  # noqa: E402

ERROR_POS = re.compile(r"(?P<file>[^\s:]+\.rego):(?P<line>\d+)")
SCOPES = {"results": ("resource", "stack"), "resource_results": ("resource",), "stack_results": ("stack",)}


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
                rule = load_rule(path, text)
                self.rules.append(rule if by_type or rule.scope == "stack" else replace(rule, types=("*",)))
        merged, self._starts, alone = merge_modules(texts)
        base = self._compile({MERGED: merged, **alone, **(tests if with_tests else {})}, {**texts, **tests})
        self.defaults = read_json(self.dir / "data.json", "rule defaults file")
        self.config = config if config is not None else self.defaults["config"]
        base.add_data(reference_data())
        self._base = base  # without config: an evaluation sets its own config and stack as data
        self.engine = base.clone()
        self.engine.add_data({"config": self.config})  # the defaults; evaluate() passes the config in force
        self.by_head = {head: rule for rule in self.rules for head in rule.heads}
        # A process that leaves without clean-up sets a list here: the engines an evaluation is done with are
        # kept in it, not freed (freeing one that holds a large stack's input goes value by value).
        self.keep_engines: Optional[list[regorus.Engine]] = None
        # evaluate_resource's: the queries of a resource type, and the engines ready for one resource
        self._queries_by_type: dict[str, tuple[str, ...]] = {}
        self._resource_engines: dict[tuple[tuple[str, ...], str, str], regorus.Engine] = {}

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
        return relocate(text, self._starts)

    def rule(self, name: str) -> Rule:
        return next(r for r in self.rules if r.name == name)

    def evaluate(self, inputs: list[dict[str, Any]], stack: dict[str, Any],
                 config: Optional[dict[str, Any]] = None, workers: int = 1,
                 meanwhile: Optional[Callable[[], None]] = None,
                 forked: Optional[parallel.Forked] = None,
                 query: str = "results") -> tuple[list[RuleResult], dict[Rule, str]]:
        """Evaluate all rules over resource inputs (inputs.py), in one query.

        `stack` is `{"name", "environment"}`: the environment of every resource (rego/lib.rego).
        `config` replaces data.config (the defaults merged with a policy config) for this evaluation.
        Returns the results and, for each rule that failed at run time, its error. `workers` > 1 lets a
        large stack's resource rules run in a forked child as well; the results are the same. `forked` is
        such a child the caller started already, on the same stack. `meanwhile` is other work of the
        caller's, run here while a child evaluates, or first when there is none. `query` "stack_results" (one
        pass only, no fork) evaluates only the stack rules, for a caller that judges each resource apart.
        """
        if forked is None and workers > 1 and query == "results" and parallel.fork_allowed(len(inputs)):
            split = parallel.split_at(self, [doc.get("__type") for doc in inputs], parallel.PARENT_SHARE)
            forked = parallel.fork(self, lambda: (inputs[split:], stack, config, split, len(inputs)),
                                   parallel.PARENT_SHARE)
        if forked is not None:
            return parallel.evaluate_forked(self, self.driver_input(inputs, stack, config), forked, meanwhile)
        if meanwhile is not None:
            meanwhile()
        return self.query(self.driver_input(inputs, stack, config), query)

    def local(self, driver: dict[str, Any]) -> regorus.Engine:
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

    def query(self, driver: dict[str, Any], query: str, local: Optional[regorus.Engine] = None,
              span: Optional[tuple[int, int]] = None) -> tuple[list[RuleResult], dict[Rule, str]]:
        """One query of the driver (results, resource_results or stack_results); when it fails, each rule
        it covers on its own, so the broken one is named and the others still judge. `local` is the engine
        of local(driver) when there is one; `span` (start, end) limits the resource rules to those resources."""
        try:
            engine = local or self.local(driver)
            found = []
            if query in ("results", "resource_results"):
                module, members = group_module(self.rules, driver, *(span or (0, len(driver["resources"]))))
                if module:
                    groups = _grouped(engine, module, members)
                    found += self._results(groups, "results", GROUPS_PACKAGE)
                    self.done_with(groups)
            if query in ("results", "stack_results"):
                found += self._results(engine, "local_stack_results")
            if local is None:
                self.done_with(engine)
            return found, {}
        except RuntimeError:
            pass
        start, end = span or (0, len(driver["resources"]))
        served = self.engine.clone()
        served.set_input(self.driver_input(driver["resources"][start:end], driver["stack"], driver["config"])
                         if span else driver)
        try:
            found, errors = self._results(served, query), {}
        except RuntimeError:
            found, errors = [], {}
            for rule in (r for r in self.rules if r.scope in SCOPES[query]):
                try:
                    found += self._results(served, rule_query(rule))
                except RuntimeError as exc:
                    errors[rule] = engine_message(self.relocate(str(exc)))
        return [replace(r, index=r.index + start) if r.index is not None and r.index >= 0 else r for r in found], errors

    def evaluate_resource(self, doc: dict[str, Any], stack: dict[str, Any], config: Optional[dict[str, Any]] = None,
                          config_key: Optional[str] = None,
                          stack_key: Optional[str] = None) -> tuple[list[RuleResult], dict[Rule, str]]:
        """The resource rules over one resource input: evaluate([doc], ...)'s resource results, for a server that
        judges a resource a call (the pack's Analyze). The engine of a type's rules (stack and config as data,
        its group module compiled and prepared) is made once per (rules, stack, config) and kept, so a call
        only sets the input and queries. `config_key` and `stack_key` are `config`'s and `stack`'s sorted JSON
        when the caller has them at hand."""
        type_ = doc.get("__type")
        if isinstance(type_, str) and type_ not in self._queries_by_type:
            self._queries_by_type[type_] = tuple(self.resource_queries(type_))
        queries = self._queries_by_type.get(type_, ()) if isinstance(type_, str) else ()
        if not queries:
            return [], {}
        config = self.config if config is None else config
        key = (queries, stack_key if stack_key is not None else json.dumps(stack, sort_keys=True),
               config_key if config_key is not None else json.dumps(config, sort_keys=True))
        engines, driver = self._resource_engines, None
        try:
            engine = engines.get(key)
            if engine is None:
                driver = self.driver_input([doc], stack, config)
                module, members = group_module(self.rules, driver, 0, 1)
                engine = _grouped(self.local(driver), module, members)
                if len(engines) >= 256:  # bounded: one engine per resource type's rules, per config in force
                    engines.clear()
                engines[key] = engine
            engine.set_input(doc)  # the resource is the input: its group's rows need no `with input` context
            # a rule, not a query: the engine parses and plans no query text, a fixed cost a call here
            rows = json.loads(engine.eval_rule_as_json(f"data.{GROUPS_PACKAGE}.rows_0"))
            return self.results([[0, head, value] for head, value in rows]), {}
        except (RuntimeError, TypeError, ValueError, OverflowError):  # the slow path names the broken rule or input
            return self.query(driver or self.driver_input([doc], stack, config), "resource_results")

    def done_with(self, engine: regorus.Engine) -> None:
        """An engine this evaluation no longer needs: kept (keep_engines) when the process leaves without freeing."""
        if self.keep_engines is not None:
            self.keep_engines.append(engine)

    def resource_queries(self, type_: Any) -> list[str]:
        """The queries (driver.rule_query) of the resource rules that apply to a resource type."""
        if not isinstance(type_, str):
            return []
        return [rule_query(r) for r in self.rules if r.scope == "resource" and r.applies_to(type_)]

    def driver_input(self, inputs: list[dict[str, Any]], stack: dict[str, Any],
                     config: Optional[dict[str, Any]] = None) -> dict[str, Any]:
        applicable = {t: self.resource_queries(t) for t in {doc.get("__type") for doc in inputs}}
        applicable = {t: queries for t, queries in applicable.items() if queries}
        return {"resources": inputs, "stack": {k: v for k, v in stack.items() if v is not None},
                "config": self.config if config is None else config, "applicable": applicable,
                **driver_groups(self.rules, inputs, applicable)}

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


def _grouped(local: regorus.Engine, module: str, members: dict[str, Any]) -> regorus.Engine:
    """A copy of a local() engine that also holds group_module's module and data."""
    groups = local.clone()
    groups.add_policy(f"{GROUPS_PACKAGE}.rego", module)
    groups.add_data(members)
    return groups


def engine_message(exc: Exception | str, with_position: bool = True) -> str:
    """regorus errors are a source excerpt, `error: ...` and a Rust stack: keep position and reason."""
    text = str(exc).split("Stack backtrace:")[0]
    reasons = [line.strip()[len("error:"):].strip() for line in text.splitlines() if line.strip().startswith("error:")]
    pos = ERROR_POS.search(text)
    where = f"{pos['file']}:{pos['line']}: " if pos and with_position else ""
    return where + ("; ".join(reasons) if reasons else " ".join(text.split()))


def _compile_error(exc: Exception | str, files: dict[str, str]) -> TollgateError:
    pos = ERROR_POS.search(str(exc))
    file = pos["file"] if pos else None
    return TollgateError(f"Rego rules do not compile: {engine_message(exc, with_position=False)}", files.get(file, file),
                         int(pos["line"]) if pos else None, fix="fix the rule; `pytest tests/test_rego.py` runs its tests")
