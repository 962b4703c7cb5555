"""The benchmarks' estate generator (bench/generate.py): the asked count, both clouds, about 10 % of the
resources breaking a rule (exactly those it meant to), and a program whose capture is the generated snapshot."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from functools import cache

from bench import generate
from tollgate.capture.host import capture
from tollgate.evaluate import evaluate, stack_urn
from tollgate.model import Snapshot

N = 50


@cache
def estate(n: int = N, seed: int = 0) -> Snapshot:
    return generate.snapshot(n, seed)


def declared(snapshot: Snapshot) -> list:
    """The program's own resources: not the stack, not the providers."""
    return [r for r in snapshot.resources if r.custom and not r.type.startswith("pulumi:providers:")]


def test_the_snapshot_has_the_asked_count_of_aws_and_kubernetes_resources():
    resources = declared(estate())
    assert len(resources) == N
    assert len(estate().resources) == N + 3   # the stack, the default aws provider, the kubernetes provider
    types = Counter(r.type.split(":")[0] for r in resources)
    assert types["aws"] > types["kubernetes"] > 0
    assert len({r.type for r in resources}) >= 10


def test_the_same_seed_gives_the_same_estate():
    assert estate(N, 1) == generate.snapshot(N, 1)
    assert estate(N, 1) != estate(N, 2)


def test_about_ten_percent_break_a_rule_exactly_those_meant_to():
    snapshot = estate(200)
    _, findings = evaluate(snapshot)
    flagged = {f.urn for f in findings}
    meant = {d.urn: d.violation for d in generate.declare(200) if d.violation}
    assert stack_urn(snapshot) not in flagged   # a budget, within it: no stack finding
    assert flagged == set(meant)
    assert 0.08 <= len(flagged) / 200 <= 0.12
    assert len({f.rule for f in findings}) >= 6   # spread over the rules
    assert len(set(meant.values())) >= 8


def test_small_estates_too():
    resources = declared(estate(7))
    assert len(resources) == 7 and len(declared(estate(1))) == 1


def test_the_program_captures_as_the_generated_snapshot(tmp_path):
    """Run as `tollgate preview` runs it (no virtualenv of its own: tollgate's interpreter); the capture is
    the generated snapshot record for record, so the benchmarks judge what a preview would."""
    captured = capture(generate.write_program(tmp_path, N), generate.STACK)
    assert Counter(r.type for r in captured.resources) == Counter(r.type for r in estate().resources)

    def records(snapshot: Snapshot) -> dict[str, dict]:
        out = {}
        for r in snapshot.resources:
            record = asdict(r)
            record["dependencies"] = sorted(record["dependencies"])   # the SDK's order is a set's
            out[r.urn] = record
        return out

    assert records(captured) == records(estate())
    assert (captured.project, captured.stack, captured.environment, captured.tags) == (
        generate.PROJECT, generate.STACK, generate.ENVIRONMENT, generate.STACK_TAGS)
