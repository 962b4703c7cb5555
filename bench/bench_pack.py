"""The CrossGuard pack over the analyzer protocol, driven as the Pulumi CLI drives it during a preview.

The generated estate (generate.py) is marshalled as the CLI marshals it (tollgate.evaluate.crossguard); the
pack is started as the language host starts it, told about the stack (ConfigureStack), asked to `Analyze`
each resource (each call timed on its own) and to `AnalyzeStack` once. Prints Analyze p50 / p95 / max per
resource and in total, AnalyzeStack's time, the diagnostics' counts, the pack process's RSS (current and
peak) and the p50 of a call that does no work (the protocol's own round trip). The targets of issue 24 are
printed beside the figures; nothing is asserted.

`--pack DIR` (repeatable) benchmarks several packs in one run, alternating between them round by round, so
a before/after comparison shares the machine's state, and says whether each run's diagnostics are the first
run's. E.g. `--pack /tmp/before/policy_pack --pack policy_pack`, the first a checkout of its own (its pack
runs the tollgate and rules beside it): `git archive <commit> policy_pack tollgate rego | tar -x -C /tmp/before`.

Run: .venv/bin/python bench/bench_pack.py [--resources 1000] [--stack-resources N] [--rounds 1] [--pack DIR ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2 as pb

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate  # noqa: E402

from tollgate.evaluate.crossguard import _analyzer_resource, _resource_fields, start_pack  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGETS = "targets: Analyze p50 <= 1 ms, p95 <= 2 ms per resource; AnalyzeStack over 10,000 resources <= 2 s"


def stack_config() -> dict[str, str]:
    """The stack's config as the CLI hands it to a pack (PULUMI_CONFIG: object values JSON-encoded)."""
    return {"aws:region": "us-east-1", "aws:defaultTags": json.dumps({"tags": generate.DEFAULT_TAGS}),
            "tollgate:environment": generate.ENVIRONMENT, "tollgate:tags": json.dumps(generate.STACK_TAGS)}


def pack_pid() -> int:
    """The newest child process of this one (start_pack's pack); its RSS is read from /proc."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid():
                children.append((int(fields[19]), int(entry.name)))  # start time, pid
    return max(children)[1]


def rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return tuple(int(status[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM"))  # type: ignore[return-value]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(pack_dir: Path, analyze: list[pb.AnalyzeRequest], stack: pb.AnalyzeStackRequest) -> dict[str, Any]:
    """One pack process: ConfigureStack, Analyze each request, AnalyzeStack once."""
    with start_pack(pack_dir, generate.PROJECT, generate.STACK, stack_config()) as pack:
        pid = pack_pid()
        pack.configure_stack(tags=generate.STACK_TAGS)
        floor = []
        for _ in range(200):  # the protocol's own round trip: a call that does no work
            start = time.perf_counter()
            pack.stub.GetPluginInfo(empty_pb2.Empty())
            floor.append(time.perf_counter() - start)
        times, diagnostics = [], []
        for request in analyze:
            start = time.perf_counter()
            response = pack.stub.Analyze(request)
            times.append(time.perf_counter() - start)
            diagnostics += [(request.urn, *_diagnostic(d)) for d in response.diagnostics]
        start = time.perf_counter()
        stack_response = pack.stub.AnalyzeStack(stack)
        stack_time = time.perf_counter() - start
        return {"times": times, "floor": floor, "diagnostics": sorted(diagnostics), "stack_time": stack_time,
                "stack_diagnostics": sorted(_diagnostic(d) for d in stack_response.diagnostics), "rss": rss_mb(pid)}


def _diagnostic(d: pb.AnalyzeDiagnostic) -> tuple:
    return d.policyName, d.urn, d.message, d.enforcementLevel, d.severity


def report(label: str, result: dict[str, Any], stack_count: int, first: dict[str, Any]) -> None:
    times = [t * 1000 for t in result["times"]]
    rss, peak = result["rss"]
    same = all(result[k] == first[k] for k in ("diagnostics", "stack_diagnostics"))
    print(f"{label}\n  Analyze      {len(times)} resources: p50 {statistics.median(times):.2f} ms, "
          f"p95 {percentile(times, 0.95):.2f} ms, max {max(times):.2f} ms per resource; "
          f"total {sum(times) / 1000:.2f} s; {len(result['diagnostics'])} diagnostics")
    print(f"  AnalyzeStack {stack_count} resources: {result['stack_time']:.2f} s; "
          f"{len(result['stack_diagnostics'])} diagnostics")
    print(f"  pack RSS {rss:.0f} MB (peak {peak:.0f} MB); a no-op call (GetPluginInfo) p50 "
          f"{statistics.median(result['floor']) * 1000:.2f} ms; diagnostics "
          + ("identical to the first run's" if same else "DIFFER from the first run's"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=int, default=1000, help="estate size for Analyze (one call each)")
    parser.add_argument("--stack-resources", type=int, help="estate size for AnalyzeStack (default: --resources)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=1, help="runs of each pack, alternating")
    parser.add_argument("--pack", type=Path, action="append", help="pack directory (repeatable; default policy_pack)")
    args = parser.parse_args()
    packs = [p.resolve() for p in args.pack or [ROOT / "policy_pack"]]
    for pack in packs:
        if not (pack / "PulumiPolicy.yaml").is_file():
            parser.error(f"--pack {pack}: no PulumiPolicy.yaml there (give a policy pack directory)")
    estate = generate.snapshot(args.resources, args.seed).resources
    analyze = [pb.AnalyzeRequest(**_resource_fields(r)) for r in estate]
    stack_estate = generate.snapshot(args.stack_resources, args.seed).resources if args.stack_resources else estate
    stack = pb.AnalyzeStackRequest(resources=[_analyzer_resource(r) for r in stack_estate])
    print(f"estate: {len(estate)} resources for Analyze, {len(stack_estate)} for AnalyzeStack (seed {args.seed}); "
          f"{os.cpu_count()} cores\n{TARGETS}")
    first = None
    for round_ in range(args.rounds):
        for pack in packs:
            label = f"{pack}" + (f" (round {round_ + 1})" if args.rounds > 1 else "")
            result = run(pack, analyze, stack)
            first = first or result
            report(label, result, len(stack_estate), first)


if __name__ == "__main__":
    main()
