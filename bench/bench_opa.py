"""`--opa-url` against OPA's own engine vs the embedded engine, on the same N-resource estate (bench/generate.py).

Both sides run what a PR check runs, `tollgate preview --stack bench --snapshot FILE --format json --output FILE`
(python -m tollgate), in a child process timed from start to exit; the OPA side adds `--opa-url` pointing at
tests/opa_server.py, OPA's REST API served on loopback by OPA's Go engine (opa-golib-python-bindings), started
once in this process. The first OPA run writes the rules and data to the fresh server (a shared server keeps
them from one PR check to the next): it is timed and printed apart, not counted. Then runs alternate
(embedded, OPA, embedded, ...) --runs times each, and the medians are compared: the VM's speed drifts over
tens of seconds. Both reports must hold the same findings.
Then the judging alone, in this process: rego_findings on the embedded engine vs through the server.

The server is Python around OPA's engine: its HTTP handling is not OPA's (a request body of the usual
`{"input": ...}` form goes to the engine as its text, undecoded, as a Go server decodes it once).
The last line is `opa_ratio=<x> embedded_s=<s> opa_s=<s> judge_ratio=<x> resources=<n>`.
Target (issue 21), printed, not asserted: the OPA run within 2x of the embedded run at N = 2,000.

Run: .venv/bin/python bench/bench_opa.py [--resources 2000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests")]
TARGET = 2.0


def _run(command: list[str], report: Path) -> tuple[float, list[list[str]]]:
    start = time.perf_counter()
    done = subprocess.run(command + ["--output", str(report)], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"tollgate exited {done.returncode}: {done.stderr[-2000:]}")
    findings = json.loads(report.read_text())["findings"]
    return seconds, sorted([f["rule"], f["urn"], f["message"]] for f in findings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import generate
    from opa_server import OpaRestServer
    from tollgate.evaluate import RULES_DIR, RuleSet, rego_findings
    from tollgate.evaluate.opa import OpaServer

    snapshot = generate.snapshot(args.resources, args.seed)
    with tempfile.TemporaryDirectory(prefix="tollgate-bench-opa-") as tmp, OpaRestServer() as opa:
        work = Path(tmp)
        snapshot.write(work / "snapshot.json")
        base = [sys.executable, "-m", "tollgate", "preview", "--stack", snapshot.stack, "--snapshot",
                str(work / "snapshot.json"), "--format", "json", "--quiet"]
        print(f"estate: {len(snapshot.resources)} resources, seed {args.seed}; OPA server {opa.url}")
        first, _ = _run(base + ["--opa-url", opa.url], work / "opa.json")
        print(f"first --opa-url run, writing the rules and data to the fresh server: {first:.2f} s (not counted)")
        embedded, served = [], []
        for _ in range(args.runs):
            seconds, embedded_findings = _run(base, work / "embedded.json")
            embedded.append(seconds)
            seconds, served_findings = _run(base + ["--opa-url", opa.url], work / "opa.json")
            served.append(seconds)
            if served_findings != embedded_findings:
                raise SystemExit("the OPA run's findings differ from the embedded run's")
        e, o = statistics.median(embedded), statistics.median(served)
        print(f"embedded: {e:.2f} s (runs {', '.join(f'{s:.2f}' for s in embedded)}); "
              f"--opa-url: {o:.2f} s (runs {', '.join(f'{s:.2f}' for s in served)}); "
              f"{len(embedded_findings)} findings each")

        rules = RuleSet(RULES_DIR)
        server = OpaServer(opa.url, rules)
        server.load()
        judge_e, judge_o = [], []
        for _ in range(args.runs):
            start = time.perf_counter()
            rego_findings(snapshot, rules)
            judge_e.append(time.perf_counter() - start)
            start = time.perf_counter()
            rego_findings(snapshot, rules, engine=server)
            judge_o.append(time.perf_counter() - start)
        je, jo = statistics.median(judge_e), statistics.median(judge_o)
        print(f"judging alone (in-process, medians of {args.runs}): embedded {je:.2f} s, through the server {jo:.2f} s")
    met = "met" if o <= TARGET * e else "NOT met"
    print(f"target at N = {args.resources:,} (issue 21): --opa-url within {TARGET:g}x of embedded: {o / e:.2f}x ({met})")
    print(f"opa_ratio={o / e:.2f} embedded_s={e:.2f} opa_s={o:.2f} judge_ratio={jo / je:.2f} "
          f"resources={len(snapshot.resources)}")


if __name__ == "__main__":
    main()
