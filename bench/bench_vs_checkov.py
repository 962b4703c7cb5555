"""Tollgate vs checkov on the same N-resource estate (bench/generate.py), in one run, each in a child process.

* Tollgate: what a PR check runs, `tollgate preview --stack bench --snapshot FILE --policy-config FILE
  --format json --output FILE` (python -m tollgate): read the snapshot file (as `--snapshot-out` writes it),
  estimate its cost, judge it with every rule (the opt-in tag remediation, switched on here by the policy
  config, the Rego rules, cost-within-budget) and write the JSON report. Timed from process start to exit:
  interpreter start, imports, load, rule compilation and the report included. Its exit code must be 1 (the
  estate breaks mandatory rules). It runs --tollgate-runs times (5), the first half and one more before checkov,
  the rest after it, and the median run is the one compared: a run of a second or two falls wholly in one of
  the VM's slow or fast spells (its speed drifts by a third over tens of seconds), checkov's minute averages
  over them, so Tollgate's runs are spread around it. A second, in-process run of the same stages (not timed
  for the ratio) prints where the time goes.
* checkov: the same resources as tollgate's bridge writes them (tollgate.evaluate.checkov build_plan /
  build_manifests, written as run_checkov writes them, not timed), checked by checkov from its own
  virtualenv with the command line and environment run_checkov uses, timed from process start to exit.
  Its report is mapped back to the snapshot (map_results), which fails on anything checkov could not parse.

Peak RSS is the child's ru_maxrss (os.wait4): its largest process, its reaped descendants included. Both
fork workers (the embedded engine evaluates part of the resources in a forked child; checkov runs its
frameworks and parsers in parallel), so the sum over each process tree (PSS, sampled every 0.2 s) is printed
as well.
The last line is `ratio_vs_checkov=<x> tollgate_s=<s> checkov_s=<s> tollgate_rss_mb=<m> checkov_rss_mb=<m>`.
Targets (issue 8), printed, not asserted: at least 40x faster than checkov, at most 300 MB RSS, at N = 10,000.

Run: .venv/bin/python bench/bench_vs_checkov.py [--resources N] [--seed S] [--tollgate-runs 5]
"""

from __future__ import annotations

# Only the standard library at module level: the judging child runs this file too, and its time should
# hold tollgate's imports, not the benchmark's.
import argparse
import compileall
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPEED_TARGET, RSS_TARGET_MB = 40.0, 300.0
REMEDIATION_ON = {"required-tags-remediation": "remediate"}


# The measured command is started by this small launcher, not by the benchmark itself: Linux keeps a process's
# peak RSS across exec, so a child forked from the benchmark (which holds the estate, and after checkov its
# report: about 240 MB) would report the benchmark's size as its own. The launcher (about 10 MB) forks the
# command, times it from the fork to its end and writes {"seconds", "maxrss_kb", "status"} to the file named
# by the first argument; the command's output goes where the launcher's does.
LAUNCHER = """
import json, os, sys, time
out, command = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(command[0], command)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(out, "w") as f:
    json.dump({"seconds": seconds, "maxrss_kb": usage.ru_maxrss, "status": status}, f)
"""


@dataclass
class Measured:
    seconds: float       # process start to exit (the launcher's fork to the command's end)
    rss_mb: float        # ru_maxrss of the command (its largest process), taken by the launcher
    tree_pss_mb: float   # sampled peak of the summed PSS of the child and its descendants
    returncode: int


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue   # exited meanwhile
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += children.get(found[-1], [])
    return found


def _pss_mb(pids: list[int]) -> float:
    total_kb = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        match = re.search(r"^Pss:\s+(\d+) kB", text, re.M)
        total_kb += int(match.group(1)) if match else 0
    return total_kb / 1024


def measure(command: list[str], **popen: Any) -> Measured:
    """Run a command to its end through LAUNCHER: wall time, ru_maxrss and the sampled peak PSS of its tree."""
    done, peak = threading.Event(), [0.0]

    def sample(pid: int) -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], _pss_mb(_descendants(pid)))

    with tempfile.TemporaryDirectory(prefix="tollgate-measure-") as tmp:
        result = Path(tmp) / "measured.json"
        proc = subprocess.Popen([sys.executable, "-S", "-c", LAUNCHER, str(result), *command], **popen)
        sampler = threading.Thread(target=sample, args=(proc.pid,), daemon=True)
        sampler.start()
        launcher = proc.wait()
        done.set()
        sampler.join()
        if launcher != 0 or not result.exists():
            raise SystemExit(f"the launcher of {command[:3]} failed (exit {launcher})")
        measured = json.loads(result.read_text())
    return Measured(measured["seconds"], measured["maxrss_kb"] / 1024, peak[0],
                    os.waitstatus_to_exitcode(measured["status"]))


def judge_child(snapshot_file: Path, policy_file: Path) -> None:
    """The Tollgate side, in the child: load, estimate, judge; prints its phases as JSON."""
    marks = [("start", time.perf_counter())]
    from tollgate.cost import estimate
    from tollgate.evaluate import RULES_DIR, RuleSet, judge, load_policy_config
    from tollgate.evaluate import pipeline  # its stages one by one, as run(Request) calls them
    marks.append(("imports", time.perf_counter()))
    snapshot, secret_free = pipeline._read(snapshot_file)
    marks.append(("snapshot load", time.perf_counter()))
    rules = RuleSet(RULES_DIR)
    policy = load_policy_config(policy_file, rules)
    marks.append(("rules compile", time.perf_counter()))
    price = cache(lambda: estimate(snapshot))  # as the pipeline: made while the forked child judges its share
    with pipeline._long_lived():
        findings = judge(snapshot, rules, policy, costs=price, secret_free=secret_free)
    costs = price()
    marks.append(("judge and cost estimate", time.perf_counter()))
    levels: dict[str, int] = {}
    for finding in findings:
        levels[finding.enforcement] = levels.get(finding.enforcement, 0) + 1
    phases = {name: marks[i + 1][1] - marks[i][1] for i, (name, _) in enumerate(marks[1:])}
    print(json.dumps({"phases": phases, "findings": len(findings), "levels": levels,
                      "rules": len(rules.rules), "monthly_usd": costs.monthly_usd}))


def run_checkov(snapshot: Any, work: Path) -> tuple[Measured, dict[str, Any]]:
    """checkov on the snapshot's plan and manifests, invoked as tollgate/evaluate/checkov/run.py:run_checkov does."""
    from tollgate.evaluate.checkov import build_manifests, build_plan, locate_checkov, map_results
    from tollgate.evaluate.checkov.run import MANIFEST_DIR, PLAN_FILE

    start = time.perf_counter()
    plan, manifests = build_plan(snapshot), build_manifests(snapshot)
    (work / PLAN_FILE).write_text(json.dumps(plan.document, indent=1), encoding="utf-8")
    manifests.write(work / MANIFEST_DIR)
    written = time.perf_counter() - start
    command = [locate_checkov(), "-o", "json", "--quiet", "--compact", "--skip-download",
               "--framework", "terraform_plan", "kubernetes",
               "-f", str(work / PLAN_FILE), "-d", str(work / MANIFEST_DIR)]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(EVAL_TF_PLAN_AFTER_UNKNOWN="true", BC_SKIP_MAPPING="TRUE")
    report = work / "checkov.json"
    with report.open("w") as out:
        measured = measure(command, cwd=work, env=env, stdout=out, stderr=subprocess.DEVNULL)
    if measured.returncode not in (0, 1):
        raise SystemExit(f"checkov failed (exit {measured.returncode})")
    findings = map_results(json.loads(report.read_text()), snapshot, plan.urns, manifests.files, manifests.urns)
    return measured, {"written_s": written, "plan_resources": len(plan.urns), "manifests": len(manifests.urns),
                      "failed_checks": len(findings), "resources_failed": len({f.urn for f in findings})}


def tollgate_runs(command: list[str], work: Path, count: int) -> list[Measured]:
    """`count` runs of the Tollgate command, each of which must exit 1 (the estate breaks mandatory rules)."""
    runs = [measure(command, cwd=work) for _ in range(count)]
    if any(run.returncode != 1 for run in runs):
        raise SystemExit(f"tollgate preview exited {[r.returncode for r in runs]}, not 1 (mandatory findings expected)")
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description="Tollgate vs checkov on one generated estate")
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tollgate-runs", type=int, default=5,
                        help="Tollgate runs (odd), spread before and after checkov's; their median is compared")
    parser.add_argument("--judge", nargs=2, type=Path, metavar=("SNAPSHOT", "POLICY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tollgate_runs < 1 or args.tollgate_runs % 2 == 0:
        parser.error("--tollgate-runs must be an odd number of at least 1 (its median is one of the runs)")
    if args.judge:
        judge_child(*args.judge)
        return

    import generate   # bench/generate.py, beside this file

    snapshot = generate.snapshot(args.resources, args.seed)
    violating = sum(d.violation is not None for d in generate.declare(args.resources, args.seed))
    with tempfile.TemporaryDirectory(prefix="tollgate-bench-") as tmp:
        work = Path(tmp)
        snapshot.write(work / "snapshot.json")
        (work / "policy-config.json").write_text(json.dumps(REMEDIATION_ON))
        print(f"estate: {args.resources} resources (+ stack and 2 providers), {violating} made to break a rule, "
              f"seed {args.seed}; snapshot file {(work / 'snapshot.json').stat().st_size / 1e6:.1f} MB")

        # The package's bytecode, as a wheel install compiles it (pip) and as any run writes it unless
        # PYTHONDONTWRITEBYTECODE is set (it is on these machines; the editable install has none).
        compileall.compile_dir(str(ROOT / "tollgate"), quiet=1)
        command = [sys.executable, "-m", "tollgate", "preview", "--stack", snapshot.stack,
                   "--snapshot", str(work / "snapshot.json"), "--policy-config", str(work / "policy-config.json"),
                   "--format", "json", "--output", str(work / "tollgate.json")]
        before = args.tollgate_runs // 2 + 1  # the rest after checkov's run
        runs = tollgate_runs(command, work, before)  # in the scratch directory: no waivers
        report = json.loads((work / "tollgate.json").read_text())
        summary, cost = report["summary"], report["cost"]
        print(f"tollgate: {', '.join(f'{run.seconds:.2f}' for run in runs)} s before checkov")
        print(f"  {summary['rules']} Rego rules + remediation + cost-within-budget over {summary['resources']} "
              f"resources: {summary['mandatory']} mandatory, {summary['remediate']} remediate, "
              f"{summary['advisory']} advisory findings; estimate ${cost['monthly_usd']:,.0f}/month")
        with (work / "judge.json").open("w") as out:
            inner_run = measure([sys.executable, __file__, "--judge", str(work / "snapshot.json"),
                                 str(work / "policy-config.json")], stdout=out)
        if inner_run.returncode != 0:
            raise SystemExit(f"the in-process run failed (exit {inner_run.returncode})")
        inner = json.loads((work / "judge.json").read_text())
        if inner["findings"] != summary["mandatory"] + summary["remediate"] + summary["advisory"]:
            raise SystemExit(f"the in-process run found {inner['findings']} findings, the CLI {summary}")
        print(f"  where the time goes (the same stages in-process, a separate run of {inner_run.seconds:.2f} s): "
              + ", ".join(f"{name} {s:.2f} s" for name, s in inner["phases"].items()))

        checkov, detail = run_checkov(snapshot, work)
        print(f"checkov: {checkov.seconds:.2f} s (process start to exit), peak RSS {checkov.rss_mb:.0f} MB "
              f"(largest process); its process tree peaked at {checkov.tree_pss_mb:.0f} MB PSS (sampled)")
        print(f"  input: {detail['plan_resources']} AWS resources as a plan, {detail['manifests']} manifests "
              f"(written in {detail['written_s']:.2f} s, not timed); {detail['failed_checks']} failed checks "
              f"on {detail['resources_failed']} resources")
        runs += tollgate_runs(command, work, args.tollgate_runs - before)
        tollgate = sorted(runs, key=lambda run: run.seconds)[len(runs) // 2]  # the median run (an odd count)
        print(f"tollgate: {tollgate.seconds:.2f} s (process start to exit; the median of {len(runs)} runs, "
              f"{before} before checkov and {len(runs) - before} after: {', '.join(f'{run.seconds:.2f}' for run in runs)} s), "
              f"peak RSS {max(r.rss_mb for r in runs):.0f} MB (largest process); its process tree peaked at "
              f"{max(r.tree_pss_mb for r in runs):.0f} MB PSS (sampled)")

    ratio = checkov.seconds / tollgate.seconds
    print(f"targets at N = 10,000 (issue 8): >= {SPEED_TARGET:.0f}x faster: {ratio:.1f}x "
          f"({'met' if ratio >= SPEED_TARGET else 'NOT met'}); <= {RSS_TARGET_MB:.0f} MB RSS: {max(r.rss_mb for r in runs):.0f} MB "
          f"({'met' if max(r.rss_mb for r in runs) <= RSS_TARGET_MB else 'NOT met'})"
          + ("" if args.resources == 10_000 else f"; this run has N = {args.resources}"))
    print(f"ratio_vs_checkov={ratio:.1f} tollgate_s={tollgate.seconds:.2f} checkov_s={checkov.seconds:.2f} "
          f"tollgate_rss_mb={max(r.rss_mb for r in runs):.0f} checkov_rss_mb={checkov.rss_mb:.0f}")


if __name__ == "__main__":
    main()
