"""Capture time of a generated N-resource program (bench/generate.py) vs the Pulumi SDK's own mock floor.

* tollgate: `tollgate.capture.host.capture(DIR, "bench")`, as `tollgate preview` calls it: reads Pulumi.yaml
  and the stack config, runs the program in a child process under the capture monitor (transforms,
  dependencies, secrets, source positions, default providers), reads its result into a Snapshot.
* SDK floor: a child process running the same __main__.py under `pulumi.runtime.set_mocks(<mocks that echo
  the inputs>, preview=True)` and the SDK's own `pulumi.runtime.test` runner (which waits for every
  registration), with the same stack config (PULUMI_CONFIG, as tollgate's child gets it).

Both are timed from process start to the end (the parent's wall clock around them), interleaved, in
alternating order, `--repeat` times; medians and their ratio are printed, and the CPU time each took (its
processes' user + system: steadier than wall time on a shared machine). Target (issue 8): <= 1.2x the floor.

Run: .venv/bin/python bench/bench_capture.py [--resources N] [--repeat R] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

TARGET = 1.2


def timed(run: Callable[[], None]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (this process and the children it waited for) of one run."""
    def cpu() -> float:
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    cpu_start, start = cpu(), time.perf_counter()
    run()
    return time.perf_counter() - start, cpu() - cpu_start


def floor_child(directory: Path, project: str, stack: str) -> None:
    """The SDK's floor: the program under the SDK's mocks, in preview; prints how many resources it saw."""
    import runpy

    import pulumi

    class EchoMocks(pulumi.runtime.Mocks):
        """Outputs are the inputs, as tollgate's capture answers a preview; invokes answer nothing."""

        registered = 0

        def new_resource(self, args: pulumi.runtime.MockResourceArgs):
            EchoMocks.registered += 1
            return "", args.inputs

        def call(self, args: pulumi.runtime.MockCallArgs):
            return {}

    os.chdir(directory)
    sys.path.insert(0, str(directory))
    pulumi.runtime.set_mocks(EchoMocks(), project=project, stack=stack, preview=True)

    @pulumi.runtime.test
    def program() -> None:
        runpy.run_path("__main__.py", run_name="__main__")

    program()
    print(json.dumps({"registered": EchoMocks.registered}))
    sys.stdout.flush()
    os._exit(0)   # as tollgate's child does: no interpreter teardown of the SDK's threads


def main() -> None:
    parser = argparse.ArgumentParser(description="tollgate capture vs the SDK's mock floor")
    parser.add_argument("--resources", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--floor", nargs=3, metavar=("DIR", "PROJECT", "STACK"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor:
        floor_child(Path(args.floor[0]), *args.floor[1:])
        return

    import generate
    from tollgate.capture.host import capture
    from tollgate.project import load_project, load_stack

    with tempfile.TemporaryDirectory(prefix="tollgate-bench-capture-") as tmp:
        directory = generate.write_program(Path(tmp), args.resources, args.seed)
        config = load_stack(load_project(directory), generate.STACK)
        env = dict(os.environ, PULUMI_CONFIG=json.dumps(config.config),
                   PULUMI_CONFIG_SECRET_KEYS=json.dumps(config.secret_keys), GRPC_VERBOSITY="ERROR")
        floor_command = [sys.executable, __file__, "--floor", str(directory), generate.PROJECT, generate.STACK]
        counts: dict[str, int] = {}   # custom resources each saw: the declared ones and the explicit provider

        def run_tollgate() -> None:
            snapshot = capture(directory, generate.STACK)
            counts["tollgate"] = sum(r.custom and r.parent is not None for r in snapshot.resources)

        def run_floor() -> None:
            out = subprocess.run(floor_command, env=env, cwd=directory, stdout=subprocess.PIPE, check=True).stdout
            counts["floor"] = json.loads(out.decode().strip().splitlines()[-1])["registered"]

        runs: dict[str, list[tuple[float, float]]] = {"tollgate": [], "floor": []}
        for i in range(args.repeat):
            order = [("tollgate", run_tollgate), ("floor", run_floor)]
            for name, run in order if i % 2 == 0 else reversed(order):
                runs[name].append(timed(run))
            print(f"round {i + 1}: " + ", ".join(f"{name} {runs[name][-1][0]:.2f} s (CPU {runs[name][-1][1]:.2f} s)"
                                                 for name in ("tollgate", "floor")))

    (tollgate, tollgate_cpu), (floor, floor_cpu) = (
        (statistics.median(w for w, _ in runs[name]), statistics.median(c for _, c in runs[name]))
        for name in ("tollgate", "floor"))
    print(f"program: {args.resources} resources (seed {args.seed}); custom resources registered: "
          f"tollgate {counts['tollgate']}, SDK floor {counts['floor']} (the declared ones and the explicit "
          f"kubernetes provider; tollgate also records the stack and the default aws provider)")
    print(f"median of {args.repeat}: tollgate capture {tollgate:.2f} s (CPU {tollgate_cpu:.2f} s), "
          f"SDK mock floor {floor:.2f} s (CPU {floor_cpu:.2f} s); CPU ratio {tollgate_cpu / floor_cpu:.2f}x")
    ratio = tollgate / floor
    print(f"target <= {TARGET}x the floor: {ratio:.2f}x ({'met' if ratio <= TARGET else 'NOT met'})")
    print(f"capture_ratio={ratio:.2f} tollgate_s={tollgate:.2f} floor_s={floor:.2f} resources={args.resources}")


if __name__ == "__main__":
    main()
