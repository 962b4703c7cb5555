"""The forked evaluation: a large stack's resource rules judged on two cores, the verdict that of one.

This process judges the stack rules and the resource rules of the resources before a split point; a forked
child judges those from it on (its *tail*) and answers on a pipe: {"split", "count", "rows", "errors"} as
JSON. The answer counts only if the child judged the same split of a stack of the same size; a child that
fails in any way, or answers for another stack, costs time, never a verdict: its tail is judged here.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from typing import TYPE_CHECKING, Any, Callable, Optional

from .rules import Rule, RuleResult

if TYPE_CHECKING:
    from .engine import RuleSet

PARALLEL_MIN = 2000  # resources: below this a second process costs more than it saves
# Of the (resource, rule) pairs, the share this process judges besides the stack rules when it forks with
# the inputs built: so that both sides end together (bench/README.md).
PARENT_SHARE = 0.4
# What a child's tail() gives: the inputs of resources[split:], the stack, the config, split, the resource count.
Tail = tuple[list[dict[str, Any]], dict[str, Any], Optional[dict[str, Any]], int, int]


def fork_allowed(resources: int) -> bool:
    """Whether judging this many resources is worth a forked child: a large stack, a second core, and a
    process with one thread (forking a threaded one, such as the pack's gRPC server, is unsafe)."""
    return (resources >= PARALLEL_MIN and (os.cpu_count() or 1) > 1 and hasattr(os, "fork")
            and threading.active_count() == 1)


def split_at(rules: RuleSet, types: list[Any], share: float) -> int:
    """The index before which resources of these types hold `share` of the (resource, applicable resource
    rule) pairs: where this process's resources end and a forked child's tail begins."""
    weights = {type_: len(rules.resource_queries(type_)) for type_ in set(types)}
    goal, total = share * sum(weights[t] for t in types), 0
    for i, type_ in enumerate(types):
        if total >= goal:
            return i
        total += weights[type_]
    return len(types)


def fork(rules: RuleSet, tail: Callable[[], Tail], share: float) -> Forked:
    """Fork a child that judges the resource rules of a stack's tail. `tail()`, run in the child, gives its
    inputs (Tail), where split is split_at(the stack's types, share). The child leaves without running any
    of this process's clean-up; Forked.collect reads its answer."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(read_end)
            rules.keep_engines = []  # this child leaves by os._exit: nothing it made needs freeing
            inputs, stack, config, split, count = tail()
            found, failed = rules.query(rules.driver_input(inputs, stack, config), "resource_results")
            answer = json.dumps({"split": split, "count": count,
                                 "rows": [[r.index + split, r.head, r.message] for r in found],
                                 "errors": {rule.name: error for rule, error in failed.items()}}).encode()
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(answer)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    return Forked(rules, share, pid, read_end)


class Forked:
    """A forked child judging the resource rules of a stack's tail from split_at(types, share) on (fork).
    As a context manager: on leaving, a child whose answer was not collected is stopped and reaped."""

    def __init__(self, rules: RuleSet, share: float, pid: int, pipe: int):
        self.rules, self.share, self.pid, self.pipe = rules, share, pid, pipe
        self.done = False

    def __enter__(self) -> Forked:
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


def evaluate_forked(rules: RuleSet, driver: dict[str, Any], forked: Forked,
                    meanwhile: Optional[Callable[[], None]]) -> tuple[list[RuleResult], dict[Rule, str]]:
    """The stack rules and the first resources here, the tail by the forked child. The child converts only
    its tail for the engine (the engine's reference counts write to the pages a shared converted input lives
    in, which then get copied on each side). `meanwhile` runs here first; if it raises, the child is stopped
    and reaped."""
    end = len(driver["resources"])
    split = split_at(rules, [doc.get("__type") for doc in driver["resources"]], forked.share)
    with forked:
        if meanwhile is not None:
            meanwhile()
        local = rules.local(driver)
        results, errors = rules.query(driver, "stack_results", local)
        mine, my_errors = rules.query(driver, "resource_results", local, (0, split))
        answer = forked.collect(split, end)
    theirs, their_errors = answer or rules.query(driver, "resource_results", local, (split, end))
    rules.done_with(local)
    return results + mine + theirs, {**errors, **their_errors, **my_errors}
