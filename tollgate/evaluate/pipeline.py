"""The stage's one entry point, `run(Request) -> Result`: what `tollgate preview` (and `tollgate cost`) call once.

From where the snapshot comes from (a program and stack, a snapshot file, `pulumi preview --json`, `pulumi
stack export`) and what judges it (rules, policy config, waivers, checkov, OPA) to the judged result: the
findings after remediation, the rules, cost within budget, the capture's notes and checkov, without the
context-only resources' findings, with the waivers applied; the estimate; the rules that ran.

The stage's speed machinery is here and behind it, nowhere a caller sees: a large snapshot file is judged in
part by a child forked before the file is read (parallel.py), which loads it without repeating the checks
this process makes on the same text; what a load builds is kept out of the cyclic collector; a process that
leaves without clean-up keeps its engines rather than free them.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from ..bundled import RULES_DIR
from .. import cost
from ..cost import Estimate
from ..errors import TollgateError, parse_json, read_text
from ..model import Finding, Snapshot
from . import parallel
from .engine import RuleSet
from .findings import ENGINE_ERROR, judge, load_policy_config, opa_engine, rules_run, stack_urn
from .inputs import resource_input, stack_doc, text_secret_free
from .policy_config import PolicyConfig
from .remediate import POLICY as REMEDIATION, RULE_ID as REMEDIATION_ID, remediate_snapshot
from .waive import apply_waivers, read_waivers

LONG_JUDGING = 2_000  # resources from which judging a stack is long work, worth a progress line in a CI log
# A snapshot file holds about this many bytes a resource or more, so its size says, before it is read,
# whether it is worth a child.
SNAPSHOT_BYTES_PER_RESOURCE = 1000
# The share of the resource rules this process judges when its child was forked before the load: it also
# checks the whole snapshot (the child trusts it), prices it and judges the stack rules (bench/README.md).
PARENT_SHARE_BEFORE_LOAD = 0.28
_LEFT_TO_EXIT: list[Any] = []  # what a process that leaves without clean-up (Request.leaves_fast) never frees


@dataclass(frozen=True)
class Request:
    stack: str
    cwd: Path = Path(".")
    snapshot: Optional[Path] = None      # a Snapshot file (--snapshot-out) instead of running the program
    preview_json: Optional[Path] = None  # `pulumi preview --json` output
    export: Optional[Path] = None        # `pulumi stack export` output
    include_unchanged: bool = False      # with preview_json: judge the unchanged resources too
    snapshot_out: Optional[Path] = None  # also write the snapshot here
    base_snapshot: Optional[Path] = None  # priced on demand (Result.base), for the cost change
    rules_dir: Path = RULES_DIR
    policy_config: Optional[Path] = None
    waivers: Optional[Path] = None       # default: waivers.yaml in cwd, if present
    checkov: bool = False
    opa_url: Optional[str] = None
    strict: bool = False
    timeout: Optional[float] = None      # seconds a program may run
    debug: bool = False
    judge: bool = True                   # False: only the snapshot and its estimate (`tollgate cost`)
    progress: Any = None                 # say(text, long), done(), capture_request(): the CLI's progress line
    fast_exit: bool = False              # the process may end without clean-up once its report is written

    @property
    def leaves_fast(self) -> bool:
        """Whether the process ends without clean-up: only after judging a saved file, which started no
        program, server or thread that a clean-up at exit would stop."""
        return self.fast_exit and bool(self.snapshot or self.preview_json or self.export)


@dataclass
class Result:
    snapshot: Snapshot
    findings: list[Finding]
    rules: list[Any]                     # the rules that ran (Rego rules and cost-within-budget), for the report
    estimate: Estimate
    base: Optional[Callable[[], Estimate]] = None  # the base snapshot's estimate, made when a report shows it

    @property
    def incomplete(self) -> bool:
        """A rule failed to evaluate: the preview judged less than it should (exit 2)."""
        return any(f.rule == ENGINE_ERROR for f in self.findings)


def run(request: Request) -> Result:
    progress = request.progress or _Silent()
    if not request.judge:
        snapshot = _snapshot(request, progress)[0]
        return Result(snapshot, [], [], cost.estimate(snapshot, _usage(request)))
    waivers = read_waivers(request.waivers, request.cwd)  # before the program runs: it cannot write its own waiver
    rules = RuleSet(request.rules_dir)  # before the snapshot: a bad rule or policy config fails before a long capture
    policy = load_policy_config(request.policy_config, rules)
    if request.leaves_fast:  # its engines left to the exit, not freed one by one (nor the rules that hold them)
        rules.keep_engines = []
        _LEFT_TO_EXIT.append(rules)
    forked = _fork_before_load(request, rules, policy)
    # An OPA server's rules are checked while the snapshot loads (no thread otherwise: a threaded process
    # does not fork a second judge).
    server = _in_background(lambda: opa_engine(request.opa_url, rules)) if request.opa_url else lambda: None
    with forked or nullcontext():  # a child not collected (an error on the way) is stopped on leaving
        snapshot, secret_free, before = _snapshot(request, progress)
        if request.snapshot_out:
            snapshot.write(request.snapshot_out)
        progress.say(f"judging {len(snapshot.resources):,} resources ...", long=len(snapshot.resources) >= LONG_JUDGING)
        usage = _usage(request)
        price = cache(lambda: cost.estimate(snapshot, usage))  # made once: while a large stack's rules are judged
        with _long_lived():
            findings = judge(snapshot, rules, policy, server(), price, forked, request.strict, secret_free)
        costs = price()
    context = set(snapshot.context_only)  # unchanged resources of a real preview: judged only on request ...
    if context:  # ... or when the change causes the finding (deleting a bucket's lifecycle configuration)
        already = _before_findings(before, rules, policy, request, usage, server())
        findings = [f for f in findings if f.urn not in context or (f.rule, f.urn, f.message) not in already]
    if request.checkov:
        from .checkov import run_checkov

        progress.say(f"running checkov on {len(snapshot.resources)} resources ...")
        findings = findings + [f for f in run_checkov(snapshot, cwd=request.cwd) if f.urn not in context]
    known = {r.name: r.id for r in rules.rules} | {REMEDIATION: REMEDIATION_ID} | {f.rule: f.id for f in findings}
    findings = apply_waivers(findings, waivers, datetime.now(timezone.utc).date(), known, stack_urn(snapshot),
                             snapshot.resources)
    progress.done()
    base = request.base_snapshot
    return Result(snapshot, findings, rules_run(rules, policy), costs,
                  (lambda: cost.estimate(_read(base)[0], usage)) if base else None)


def _before_findings(before: Optional[Snapshot], rules: RuleSet, policy: PolicyConfig, request: Request,
                     usage: Any, engine: Any) -> set[tuple[str, str, str]]:
    """(rule, urn, message) of every finding of the stack before a preview's change: what it did not cause."""
    if before is None:
        return set()
    price = cache(lambda: cost.estimate(before, usage))
    found = judge(before, rules, policy, engine, price, None, request.strict, False)
    return {(f.rule, f.urn, f.message) for f in found}


def _snapshot(request: Request, progress: Any) -> tuple[Snapshot, bool, Optional[Snapshot]]:
    """The snapshot of the file or program the request names, whether its text holds no secret, and (a
    `pulumi preview --json`) the stack before its change."""
    if request.snapshot:
        return (*_read(request.snapshot), None)
    if request.preview_json or request.export:
        from ..capture.pulumi_json import read_preview_json, snapshot_from_export

        snapshot, before = (read_preview_json(request.preview_json, request.include_unchanged)
                            if request.preview_json else (snapshot_from_export(request.export), None))
        if snapshot.stack != request.stack:
            raise TollgateError(f"the file is of stack {snapshot.stack!r}, not --stack {request.stack!r}",
                                str(request.preview_json or request.export), fix=f"pass --stack {snapshot.stack}")
        return snapshot, False, before
    from ..capture.host import capture  # the capture stack is only needed when a program runs

    if request.judge:
        progress.say(f"capturing {request.cwd}/{request.stack} ...")
    return capture(request.cwd, request.stack, progress=progress.capture_request(), timeout=request.timeout,
                   debug=request.debug), False, None


def _usage(request: Request) -> Any:
    """The project's usage file for every estimate of this run; a saved snapshot needs no runnable project."""
    return cost.stack_usage(request.cwd, request.stack, bool(request.snapshot or request.preview_json or request.export))


def _read(path: Path, trusted: bool = False) -> tuple[Snapshot, bool]:
    """A snapshot file, and whether its text holds no secret. `trusted`: another process checks the same text
    and its verdict alone counts (a forked child's load), so it is built as it is."""
    text = read_text(path, "snapshot file")
    with _long_lived():
        snapshot = (Snapshot.from_checked(parse_json(text, path, "snapshot file"), str(path)) if trusted
                    else Snapshot.parse(text, path))
    return snapshot, text_secret_free(text)


def _fork_before_load(request: Request, rules: RuleSet, policy: PolicyConfig) -> Optional[parallel.Forked]:
    """A child, forked before a large snapshot file is read, that reads and loads it too and judges the
    resource rules of its tail, so that reading, loading, remediating and building inputs run on both cores;
    judge collects it. None when not worth it: another source, OPA, a file too small for a child, one core
    or a threaded process."""
    path = request.snapshot
    if not path or request.opa_url or not path.is_file():
        return None
    if not parallel.fork_allowed(path.stat().st_size // SNAPSHOT_BYTES_PER_RESOURCE):
        return None

    def tail() -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any], int, int]:
        with _long_lived():  # the child leaves by os._exit: nothing of it needs collecting
            snapshot, secret_free = _read(path, trusted=True)
            split = parallel.split_at(rules, [r.type for r in snapshot.resources], PARENT_SHARE_BEFORE_LOAD)
            # Remediation changes a resource by itself alone: only the tail's resources need it.
            mine, _ = remediate_snapshot(replace(snapshot, resources=snapshot.resources[split:]), rules, policy)
            providers: dict[str, Any] = {}
            inputs = [resource_input(r, providers, secret_free) for r in mine.resources]
            return inputs, stack_doc(snapshot), policy.data(rules.config), split, len(snapshot.resources)

    return parallel.fork(rules, tail, PARENT_SHARE_BEFORE_LOAD)


def _in_background(work: Callable[[], Any]) -> Callable[[], Any]:
    """work() on a thread of its own (an OPA server's load: HTTP round trips the snapshot's loading need not
    wait for); the function returned gives its result, or raises its error, once it is done. A daemon: a run
    that fails before it needs the result does not wait for it to leave."""
    done: dict[str, Any] = {}

    def run() -> None:
        try:
            done["value"] = work()
        except BaseException as exc:  # handed to whoever asks for the result
            done["error"] = exc

    thread = threading.Thread(target=run, name="opa-load", daemon=True)
    thread.start()

    def result() -> Any:
        thread.join()
        if "error" in done:
            raise done.pop("error")  # popped: the error's traceback and `done` would otherwise hold each other
        return done["value"]
    return result


@contextmanager
def _long_lived() -> Iterator[None]:
    """For work that builds many objects, no cycles, that live to the end of the run (a snapshot, the rule
    inputs): no cyclic collection inside (each would only walk the growing heap again), and what is tracked
    then goes to the permanent generation (gc.freeze), so no later collection walks it again, nor writes to
    its pages in a forked child (copy-on-write). Without cycles, it is still freed when no longer referenced."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


class _Silent:
    """No progress line (a library caller)."""

    def say(self, text: str, long: bool = False) -> None:
        pass

    def done(self) -> None:
        pass

    def capture_request(self) -> Any:
        return False
