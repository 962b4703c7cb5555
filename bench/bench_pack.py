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

Drivers. The CLI calls the pack with grpc-go; `--driver go` (the default when Go can build it) does too:
pack_driver/main.go sends the requests this script marshals and times each call, so the client's own cost
in the figures is grpc-go's. It builds with Go and grpc-go from Debian (`apt-get install golang-go
golang-google-grpc-dev`; GOPATH mode, no module download). `--driver python` calls with grpcio, whose
client costs more CPU a call (on two cores, CPU the pack's calls then wait for); `--driver` is repeatable
and alternates like `--pack`.

Run: .venv/bin/python bench/bench_pack.py [--resources 1000] [--stack-resources N] [--rounds 1] [--pack DIR ...]
                                         [--driver go|python ...]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2 as pb

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate  # noqa: E402

from tollgate.evaluate.crossguard import _analyzer_resource, _resource_fields, start_pack  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DRIVER_SOURCE = Path(__file__).resolve().parent / "pack_driver"
DEBIAN_GOCODE = "/usr/share/gocode"  # golang-google-grpc-dev's sources
FLOOR_CALLS = 200
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


def go_driver() -> tuple[Optional[Path], str]:
    """The grpc-go driver, built once per version of its source; (None, why) when Go cannot build it."""
    source = (DRIVER_SOURCE / "main.go").read_bytes()
    binary = Path(tempfile.gettempdir()) / f"tollgate-pack-driver-{hashlib.sha256(source).hexdigest()[:16]}"
    if binary.is_file():
        return binary, ""
    if shutil.which("go") is None:
        return None, "no `go` on PATH"
    gopath = os.pathsep.join(p for p in (os.environ.get("GOPATH"), DEBIAN_GOCODE) if p)
    built = subprocess.run(["go", "build", "-o", str(binary) + ".new", "."], cwd=DRIVER_SOURCE, capture_output=True,
                           text=True, env=dict(os.environ, GO111MODULE="off", GOPATH=gopath))
    if built.returncode != 0:
        return None, f"`go build` failed: {built.stderr.strip()[-600:]}"
    os.replace(str(binary) + ".new", binary)
    return binary, ""


def run(pack_dir: Path, analyze: list[pb.AnalyzeRequest], stack: pb.AnalyzeStackRequest,
        driver: Optional[Path]) -> dict[str, Any]:
    """One pack process: ConfigureStack, Analyze each request, AnalyzeStack once; called by the grpc-go
    driver when given, else by this process."""
    with start_pack(pack_dir, generate.PROJECT, generate.STACK, stack_config()) as pack:
        pid = pack_pid()
        pack.configure_stack(tags=generate.STACK_TAGS)
        calls = ([("GetPluginInfo", empty_pb2.Empty())] * FLOOR_CALLS + [("Analyze", r) for r in analyze]
                 + [("AnalyzeStack", stack)])
        timed = _go_calls(driver, pack.port, calls) if driver else _python_calls(pack.stub, calls)
        floor, answers, (stack_time, stack_response) = timed[:FLOOR_CALLS], timed[FLOOR_CALLS:-1], timed[-1]
        diagnostics = [(request.urn, *_diagnostic(d)) for request, (_, response) in zip(analyze, answers)
                       for d in pb.AnalyzeResponse.FromString(response).diagnostics]
        return {"times": [t for t, _ in answers], "floor": [t for t, _ in floor], "diagnostics": sorted(diagnostics),
                "stack_time": stack_time, "rss": rss_mb(pid), "stack_diagnostics": sorted(
                    _diagnostic(d) for d in pb.AnalyzeResponse.FromString(stack_response).diagnostics)}


def _python_calls(stub: Any, calls: list[tuple[str, Any]]) -> list[tuple[float, bytes]]:
    """(seconds, response bytes) of each call, made with grpcio from this process."""
    timed = []
    for method, request in calls:
        start = time.perf_counter()
        response = getattr(stub, method)(request)
        timed.append((time.perf_counter() - start, response.SerializeToString()))
    return timed


def _go_calls(driver: Path, port: int, calls: list[tuple[str, Any]]) -> list[tuple[float, bytes]]:
    """(seconds, response bytes) of each call, made by the grpc-go driver (records: see pack_driver/main.go)."""
    def record(data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + data
    with tempfile.TemporaryDirectory() as tmp:
        requests, out = Path(tmp, "requests"), Path(tmp, "out")
        requests.write_bytes(b"".join(record(f"/pulumirpc.Analyzer/{method}".encode()) + record(
            request.SerializeToString()) for method, request in calls))
        code = subprocess.run([str(driver), str(port), str(requests), str(out)]).returncode
        if code != 0:
            raise SystemExit(f"the grpc-go driver failed (exit {code}); its message is above")
        data, timed, offset = out.read_bytes(), [], 0
    while offset < len(data):
        nanoseconds, size = struct.unpack_from(">qI", data, offset)
        timed.append((nanoseconds / 1e9, data[offset + 12:offset + 12 + size]))
        offset += 12 + size
    if len(timed) != len(calls):
        raise SystemExit(f"the grpc-go driver answered {len(timed)} of {len(calls)} calls")
    return timed


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
    parser.add_argument("--driver", choices=("go", "python"), action="append",
                        help="the client: grpc-go as the CLI (default when Go builds it) or grpcio (repeatable)")
    args = parser.parse_args()
    packs = [p.resolve() for p in args.pack or [ROOT / "policy_pack"]]
    for pack in packs:
        if not (pack / "PulumiPolicy.yaml").is_file():
            parser.error(f"--pack {pack}: no PulumiPolicy.yaml there (give a policy pack directory)")
    binary, why = go_driver() if args.driver != ["python"] else (None, "")
    if binary is None and args.driver and "go" in args.driver:
        parser.error(f"--driver go: {why}; install Go and grpc-go (apt-get install golang-go golang-google-grpc-dev)")
    drivers = {"go": binary, "python": None}
    names = args.driver or ["go" if binary else "python"]
    estate = generate.snapshot(args.resources, args.seed).resources
    analyze = [pb.AnalyzeRequest(**_resource_fields(r)) for r in estate]
    stack_estate = generate.snapshot(args.stack_resources, args.seed).resources if args.stack_resources else estate
    stack = pb.AnalyzeStackRequest(resources=[_analyzer_resource(r) for r in stack_estate])
    print(f"estate: {len(estate)} resources for Analyze, {len(stack_estate)} for AnalyzeStack (seed {args.seed}); "
          f"{os.cpu_count()} cores\n{TARGETS}" + (f"\nthe grpc-go driver is not available ({why}): grpcio calls"
                                                  if not args.driver and binary is None else ""))
    first = None
    for round_ in range(args.rounds):
        for pack in packs:
            for name in names:
                label = f"{pack} [{name} driver]" + (f" (round {round_ + 1})" if args.rounds > 1 else "")
                result = run(pack, analyze, stack, drivers[name])
                first = first or result
                report(label, result, len(stack_estate), first)


if __name__ == "__main__":
    main()
