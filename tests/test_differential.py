"""One verdict on every path: the embedded engine (regorus), the CrossGuard pack over gRPC and OPA's own
engine behind its REST API (`--opa-url`; tests/opa_server.py) give the same findings for every scenario
program (each a small real Pulumi program captured by the spine).
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

import pytest
import regorus

from tollgate.capture.host import capture
from tollgate.evaluate import RULES_DIR, RuleSet, budget_check, judge
from tollgate.evaluate.crossguard import start_pack
from tollgate.evaluate.opa import OpaServer
from tollgate.project import load_project, load_stack

from conftest import FIXTURES, ROOT, capture_source
from opa_server import OpaRestServer
from programs import (ANSWER_CONFIG, APPLIES, COMPUTE, K8S, K8S_UNDECIDED, SHAPED, SPRAWL, STACK_MESSY, STACK_PROD,
                      STACK_TIDY)

PACK = ROOT / "policy_pack"
TAGS = {"project": "atlas", "environment": "dev", "team": "ml", "cost-center": "cc-ml", "owner": "ml@example.com"}
# A clean stack whose $25 budget its spot pool alone outruns: only cost-within-budget (TG011) fires.
OVER_BUDGET = """
from tollgate_components.cost_budget import CostBudget, CostBudgetArgs
from tollgate_components.node_pool import TaggedNodePool, TaggedNodePoolArgs
from tollgate_components.tagging import Tagging

tagging = Tagging.from_config()
opts = tagging.resource_options()
TaggedNodePool("jobs", TaggedNodePoolArgs(
    cluster_name="ml", node_role_arn="arn:aws:iam::123456789012:role/nodes", subnet_ids=["subnet-0a1b2c3d"],
    tags=tagging.tags, instance_types=["m5.large", "m6i.large"], desired_size=2, max_size=3), opts=opts)
CostBudget("team", CostBudgetArgs(limit_usd=25), opts=opts)
"""
DEV = {"tollgate:environment": "dev"}
# scenario -> (fixture directory or inline program, stack, extra stack config for inline programs)
SCENARIOS = {
    **{name: (FIXTURES / name, "dev", None) for name in
       ("compliant", "untagged", "oversized", "unknown_type", "transforms", "secrets")},
    # Issue 22's evasions: a prod tag in a dev stack, secrets, new types, an ambiguous lifecycle link, misses.
    **{name: (FIXTURES / name, "dev", None) for name in
       ("evasions_env_tag", "evasions_secrets", "evasions_types", "evasions_lifecycle", "evasions_misses")},
    "structure": (FIXTURES / "structure", "test", None),
    "compute": (COMPUTE, "dev", DEV),
    "k8s": (K8S, "dev", DEV),
    "k8s-undecided": (K8S_UNDECIDED, "dev", DEV),
    "stack-messy": (STACK_MESSY, "dev", {}),
    "stack-tidy": (STACK_TIDY, "dev", {}),
    "stack-prod": (STACK_PROD, "prod", {}),
    **{f"platform-{stack}": (ROOT, stack, None) for stack in ("dev", "staging", "prod")},
    "over-budget": (OVER_BUDGET, "dev", {"tollgate:tags": TAGS, "tollgate:environment": "dev"}),
    # What the capture answers or expands offline: placeholders, Kubernetes yaml v2, eks/awsx, skipped applies.
    "placeholders": (SHAPED, "dev", ANSWER_CONFIG),
    "apply-skipped": (APPLIES, "dev", ANSWER_CONFIG),
    "k8s-yaml-v2": (FIXTURES / "k8s_yaml_v2", "dev", None),
    "aws-components": (SPRAWL, "dev", DEV),
}


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return RuleSet(RULES_DIR)


@pytest.fixture(scope="module")
def opa(rules):
    with OpaRestServer() as real_opa:
        server = OpaServer(real_opa.url, rules)
        server.load()
        yield server


def key(findings):
    return sorted((f.rule, f.id, f.urn, f.type, f.name, f.enforcement, f.severity, f.message) for f in findings)


@cache
def scenario_snapshot(scenario: str):
    """The scenario captured once per session, with the PULUMI_CONFIG the CLI would give the pack."""
    program, stack, config = SCENARIOS[scenario]
    directory = program if config is None else Path(tempfile.mkdtemp(prefix=f"tollgate-{scenario}-"))
    snapshot = capture(directory, stack) if config is None else capture_source(directory, program, config, stack=stack)
    return snapshot, load_stack(load_project(directory), stack).config


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_engine_pack_and_opa_agree(scenario, rules, opa):
    snapshot, pulumi_config = scenario_snapshot(scenario)
    engine = judge(snapshot, rules)
    with start_pack(PACK, snapshot.project, snapshot.stack, pulumi_config) as pack:
        pack.configure_stack()
        crossguard = pack.analyze_snapshot(snapshot)
    served = judge(snapshot, rules, engine=opa)
    # What the capture could not see is its own report: under the CLI the pack sees what plugins build.
    assert key(crossguard) == key([f for f in engine if f.source != "capture"])
    assert key(served) == key(engine)


def test_the_scenarios_exercise_every_rule(rules):
    """So that agreement means something: every rule reports on at least one scenario."""
    reported = {f.rule for scenario in SCENARIOS for f in judge(scenario_snapshot(scenario)[0], rules)}
    assert {r.name for r in rules.rules} | {budget_check.RULE} <= reported


def test_declared_resource_types_change_no_verdict(rules):
    """METADATA resource_types only spare the engine work: handing every resource to every rule gives
    the same findings on every scenario."""
    everything = RuleSet(RULES_DIR, by_type=False)
    assert all(r.types == ("*",) for r in everything.rules if r.scope == "resource")
    for scenario in SCENARIOS:
        snapshot = scenario_snapshot(scenario)[0]
        assert key(judge(snapshot, rules)) == key(judge(snapshot, everything)), scenario


@pytest.mark.parametrize("child_fails", [False, True])
def test_forked_evaluation_gives_the_same_verdicts(rules, monkeypatch, child_fails):
    """A large stack's resource rules also run in a forked child; the findings are the same, and a child
    that fails costs time, never a verdict (its part is evaluated again in the parent)."""
    import os
    from tollgate.evaluate import parallel

    snapshot = scenario_snapshot("compute")[0]
    alone = key(judge(snapshot, rules))
    monkeypatch.setattr(parallel, "PARALLEL_MIN", 1)
    monkeypatch.setattr(parallel.threading, "active_count", lambda: 1)  # the module's OPA stand-in serves on a thread
    if child_fails:
        parent, query = os.getpid(), RuleSet.query

        def broken_in_child(self, *args, **kwargs):
            if os.getpid() != parent:
                raise RuntimeError("child broke")
            return query(self, *args, **kwargs)

        monkeypatch.setattr(RuleSet, "query", broken_in_child)
    calls = []
    real_fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: calls.append(1) or real_fork())
    assert key(judge(snapshot, rules)) == alone
    assert calls, "the evaluation did not fork"


def test_engines_kept_for_a_fast_exit_change_no_verdict(monkeypatch):
    """A process that leaves without freeing (the CLI's fast exit, the forked child) keeps the engines an
    evaluation is done with (RuleSet.keep_engines) rather than free them: the same findings, in one pass and
    forked; by default (a library caller, the pack) none is kept."""
    from tollgate.evaluate import parallel

    snapshot = scenario_snapshot("compute")[0]
    rules = RuleSet(RULES_DIR)
    alone = key(judge(snapshot, rules))
    assert rules.keep_engines is None
    rules.keep_engines = []
    assert key(judge(snapshot, rules)) == alone
    assert len(rules.keep_engines) == 2  # the pass's engine and the clone that ran the resource rules' groups
    monkeypatch.setattr(parallel, "PARALLEL_MIN", 1)
    monkeypatch.setattr(parallel.threading, "active_count", lambda: 1)
    assert key(judge(snapshot, rules)) == alone
    assert len(rules.keep_engines) == 4  # and the parent's part of a forked one: its engine and groups' clone
    assert all(isinstance(engine, regorus.Engine) for engine in rules.keep_engines)


def test_forked_evaluation_makes_the_estimate_meanwhile(rules, monkeypatch):
    """The CLI hands judge a function that makes the estimate: it runs once, in the parent, after the fork
    (while the child judges its share), and the findings (cost-within-budget too) are those of a ready one."""
    import os

    from tollgate.evaluate import parallel
    from tollgate.cost import estimate

    snapshot = scenario_snapshot("compute")[0]
    alone = key(judge(snapshot, rules, costs=estimate(snapshot)))
    monkeypatch.setattr(parallel, "PARALLEL_MIN", 1)
    monkeypatch.setattr(parallel.threading, "active_count", lambda: 1)
    events, parent, real_fork = [], os.getpid(), os.fork
    monkeypatch.setattr(os, "fork", lambda: events.append("fork") or real_fork())

    def price():
        events.append(("estimate", os.getpid()))
        return estimate(snapshot)

    assert key(judge(snapshot, rules, costs=price)) == alone
    assert events == ["fork", ("estimate", parent)]


def test_a_failing_estimate_stops_the_forked_child(rules, monkeypatch):
    """An estimate that raises while the child judges: the error reaches the caller and the child is
    stopped and reaped, not left running or as a zombie."""
    import os

    from tollgate.evaluate import parallel
    from tollgate.errors import TollgateError

    monkeypatch.setattr(parallel, "PARALLEL_MIN", 1)
    monkeypatch.setattr(parallel.threading, "active_count", lambda: 1)
    children, real_fork = [], os.fork
    monkeypatch.setattr(os, "fork", lambda: children.append(real_fork()) or children[-1])

    def price():
        raise TollgateError("price table unreadable")

    with pytest.raises(TollgateError, match="price table unreadable"):
        judge(scenario_snapshot("compute")[0], rules, costs=price)
    assert len(children) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(children[0], os.WNOHANG)


def test_forked_evaluation_reports_a_failing_rule_like_one_pass(monkeypatch, tmp_path):
    """A rule that fails at run time: the forked evaluation names it as an engine error, as one pass does,
    and the other rules still judge."""
    import shutil

    from tollgate.evaluate import parallel

    shutil.copytree(RULES_DIR, tmp_path / "rules", ignore=shutil.ignore_patterns("*_test.rego"))
    (tmp_path / "rules" / "broken.rego").write_text(
        "package tollgate\n\nimport rego.v1\n\n# METADATA\n# title: Broken\n# description: fails on purpose\n"
        "# custom:\n#   id: TG998\n#   severity: low\n#   enforcement: mandatory\n"
        "deny_broken contains msg if {\n\tx := count(input.__name) - count(input.__name)\n"
        "\tmsg := sprintf(\"%v\", [1 / x])\n}\n")
    broken = RuleSet(tmp_path / "rules")
    snapshot = scenario_snapshot("compute")[0]
    alone = key(judge(snapshot, broken))
    assert any(f[0] == "engine-error" and "broken" in f[-1] for f in alone)
    monkeypatch.setattr(parallel, "PARALLEL_MIN", 1)
    monkeypatch.setattr(parallel.threading, "active_count", lambda: 1)
    assert key(judge(snapshot, broken)) == alone
