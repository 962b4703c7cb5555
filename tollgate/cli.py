"""The `tollgate` program: parses its arguments, calls the evaluate stage once (tollgate.evaluate.run), renders
the result through tollgate.report and exits with a code CI can gate on.

Exit 0: no finding that fails the run under --fail-on (default: no unwaived mandatory finding). 1: at least
one. 2: the preview could not be done (never a pass), whatever --fail-on says.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, NoReturn, Optional, Sequence

from .errors import TollgateError
from .evaluate import RULES_DIR, Request, run
from .report import FAIL_ON, FORMATS, RenderOptions, build_report, failing, render, render_cost

REPORT_FORMATS = ["sarif", "junit", "markdown", "json"]  # of `tollgate report`: the pack's findings, no cost


def _command(sub: Any, name: str, text: str) -> argparse.ArgumentParser:
    """A subcommand whose one-line text is both its entry in the parent's help and its own --help."""
    return sub.add_parser(name, help=text, description=text)


class _Version(argparse.Action):
    """--version: the installed distribution's version, looked up only when asked: a metadata lookup
    every other run would pay for."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: Optional[str] = None) -> None:
        super().__init__(option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> NoReturn:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("tollgate-iac")
        except PackageNotFoundError:
            number = "unknown (not installed: pip install -e .)"
        sys.stdout.write(f"tollgate {number}\n")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tollgate", description="Cost guardrails for Pulumi programs.")
    parser.add_argument("--version", action=_Version, help="print tollgate's version and exit")
    sub = parser.add_subparsers(dest="command", required=True, help="what to do")
    for add in (_add_preview, _add_cost, _add_pack, _add_rego, _add_report):
        add(sub)
    return parser


def _add_preview(sub: Any) -> None:
    command = _command(sub, "preview", "judge a Pulumi program's resources without the CLI or credentials")
    command.set_defaults(run=preview)
    _stack_options(command)
    command.add_argument("--format", choices=list(FORMATS), default="table", metavar="|".join(FORMATS),
                         help="report format (default: table)")
    command.add_argument("--output", type=Path, metavar="FILE", help="write the report here instead of stdout")
    command.add_argument("--fail-on", choices=FAIL_ON, default="mandatory", metavar="|".join(FAIL_ON),
                         help="exit 1 on: mandatory (unwaived mandatory findings, the default), advisory (those and "
                              "unwaived advisories), never (exit 0 unless the preview could not be done: that is 2)")
    command.add_argument("--snapshot-out", type=Path, metavar="FILE", help="also write the captured snapshot as JSON")
    source = command.add_mutually_exclusive_group()
    source.add_argument("--snapshot", type=Path, metavar="FILE",
                        help="judge this snapshot file (from --snapshot-out) instead of running the program")
    source.add_argument("--from-preview-json", type=Path, metavar="FILE",
                        help="judge the output of `pulumi preview --json` instead of running the program "
                             "(resources being deleted are not judged)")
    source.add_argument("--from-export", type=Path, metavar="FILE",
                        help="judge the output of `pulumi stack export` instead of running the program")
    command.add_argument("--include-unchanged", action="store_true",
                         help="with --from-preview-json: also judge resources the preview leaves unchanged (same)")
    command.add_argument("--base-snapshot", type=Path, metavar="FILE",
                         help="snapshot of the base branch (from --snapshot-out): --format markdown shows the cost "
                              "change against it")
    command.add_argument("--policy-config", type=Path, metavar="FILE",
                         help="per-stack policy config (pulumi --policy-pack-config format), e.g. "
                              "stacks/policy-config.dev.json")
    command.add_argument("--waivers", type=Path, metavar="FILE",
                         help="approved exceptions (rule, resource, owner, reason, expires); default: waivers.yaml "
                              "in --cwd, if present")
    command.add_argument("--checkov", action="store_true",
                         help="also run checkov (its own virtualenv, .venv-checkov) on the AWS resources as a "
                              "Terraform plan and the Kubernetes resources as manifests; its failed checks are "
                              "findings with source checkov")
    command.add_argument("--opa-url", metavar="URL", help="evaluate the rules on this OPA server (e.g. "
                                                          "http://localhost:8181) instead of the embedded engine")
    command.add_argument("--rules", type=Path, default=RULES_DIR, metavar="DIR",
                         help="directory of Rego rules (default: bundled)")
    command.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS",
                         help="stop a program that has not finished after this many seconds (exit 2; default 600)")
    command.add_argument("--strict", action="store_true",
                         help="a remote component the preview cannot expand (a Helm chart, a plugin-built component) "
                              "is a mandatory finding, not an advisory one")
    _run_options(command)


def _add_cost(sub: Any) -> None:
    cost = _command(sub, "cost", "estimate the stack's monthly cost and its saving against the naive twin")
    cost.set_defaults(run=cost_report)
    _stack_options(cost)
    cost.add_argument("--format", choices=["table", "json"], default="table", metavar="table|json",
                      help="report format (default: table)")
    cost.add_argument("--output", type=Path, metavar="FILE", help="write the report here instead of stdout")
    cost.add_argument("--snapshot", type=Path, metavar="FILE",
                      help="price this snapshot file (from preview --snapshot-out) instead of running the program")
    _run_options(cost)


def _add_pack(sub: Any) -> None:
    pack = _command(sub, "pack", "work with the CrossGuard policy pack").add_subparsers(
        dest="pack_command", required=True, help="what to do with the pack")
    build = _command(pack, "build", "write the pack as `pulumi policy publish` ships it: its own directory with the "
                                    "tollgate package and the rules vendored")
    build.set_defaults(run=pack_build)
    build.add_argument("--out", type=Path, required=True, metavar="DIR",
                       help="directory to write the pack into (new or empty)")
    _command(pack, "path", "print the directory of the installed policy pack: "
                           "pulumi preview --policy-pack \"$(tollgate pack path)\"").set_defaults(run=print_pack_path)


def _add_rego(sub: Any) -> None:
    rego = _command(sub, "rego", "work with the Rego rules").add_subparsers(
        dest="rego_command", required=True, help="what to do with the rules")
    bundle = _command(rego, "bundle", "write the rules as an OPA bundle (tar.gz) an OPA fleet can serve")
    bundle.set_defaults(run=rego_bundle)
    bundle.add_argument("--out", type=Path, default=Path("tollgate-bundle.tar.gz"), metavar="FILE",
                        help="the bundle file to write (default: tollgate-bundle.tar.gz)")
    bundle.add_argument("--rules", type=Path, default=RULES_DIR, metavar="DIR",
                        help="directory of Rego rules to bundle (default: bundled)")
    bundle.add_argument("--revision", help="bundle revision (default: the current UTC time)")


def _add_report(sub: Any) -> None:
    report = _command(sub, "report", "report the policy findings of a real `pulumi preview --policy-pack` run")
    report.set_defaults(run=event_log_report)
    report.add_argument("--from-event-log", type=Path, metavar="FILE", required=True,
                        help="the engine event log of `pulumi preview --event-log FILE --policy-pack policy_pack`")
    report.add_argument("--format", choices=REPORT_FORMATS, default="markdown", metavar="|".join(REPORT_FORMATS),
                        help="report format (default: markdown)")
    report.add_argument("--output", type=Path, metavar="FILE", help="write the report here instead of stdout")
    report.add_argument("--fail-on", choices=FAIL_ON, default="mandatory", metavar="|".join(FAIL_ON),
                        help="exit 1 on: mandatory (the default), advisory (those and advisories), never")


def _stack_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--stack", required=True, metavar="NAME",
                         help="stack name; config comes from Pulumi.<NAME>.yaml")
    command.add_argument("--cwd", type=Path, default=Path("."), metavar="DIR",
                         help="the Pulumi project directory (default: .)")


def _run_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--quiet", action="store_true",
                         help="print no progress on stderr (warnings and errors still go there)")
    command.add_argument("--debug", action="store_true",
                         help="when the program fails, also print the whole traceback (Tollgate's and the runtime's "
                              "frames included)")


def cost_report(args: argparse.Namespace) -> int:
    result = run(Request(stack=args.stack, cwd=args.cwd, snapshot=args.snapshot, debug=args.debug, judge=False,
                         progress=_Progress(args.quiet)))
    _write(args, render_cost(result.estimate, args.format))
    return 0


def pack_build(args: argparse.Namespace) -> int:
    from .pack_build import build

    sys.stdout.write(f"built the policy pack in {build(args.out)}: pulumi policy publish {args.out}\n")
    return 0


def print_pack_path(args: argparse.Namespace) -> int:
    from .pack_build import pack_path

    sys.stdout.write(f"{pack_path()}\n")
    return 0


def rego_bundle(args: argparse.Namespace) -> int:
    from .evaluate import RuleSet
    from .evaluate.opa import bundle

    rules = RuleSet(args.rules)
    bundle(rules, args.out, args.revision)
    sys.stdout.write(f"wrote {args.out}: {len(rules.rules)} rules\n")
    return 0


PROGRESS_EVERY = 5.0  # seconds between two plain progress lines of a capture when stderr is a log, not a terminal
CLEAR_LINE = "\r\033[K"


class _Progress:
    """Progress on stderr (stdout carries the report): on a terminal one line rewritten in place; in a CI log
    plain lines, for long work only and at most one every PROGRESS_EVERY seconds; nothing with --quiet."""

    def __init__(self, quiet: bool = False) -> None:
        self.live = not quiet and sys.stderr.isatty()
        self.plain = not quiet and not self.live

    def capture_request(self) -> Any:
        """The capture child's `progress` request: its live line, its plain lines, or none."""
        return {"live": True} if self.live else {"every": PROGRESS_EVERY} if self.plain else False

    def say(self, text: str, long: bool = False) -> None:
        """What is being done now: on a terminal always; in a log only when it is long work."""
        if self.live:
            sys.stderr.write(f"{CLEAR_LINE}{text}")
        elif self.plain and long:
            sys.stderr.write(f"{text}\n")
        else:
            return
        sys.stderr.flush()

    def done(self) -> None:
        if self.live:
            sys.stderr.write(CLEAR_LINE)
            sys.stderr.flush()


def event_log_report(args: argparse.Namespace) -> int:
    """`tollgate report --from-event-log`: the pack's findings of a real preview, in the preview's formats."""
    from .capture.event_log import read_event_log

    log = read_event_log(args.from_event_log)
    report = build_report(log.snapshot, len(log.rules), log.findings, log.rules)
    _write(args, render(report, args.format, RenderOptions(fail_on=args.fail_on)))
    return 1 if failing(report.findings, args.fail_on) else 0


def preview(args: argparse.Namespace) -> int:
    request = Request(
        stack=args.stack, cwd=args.cwd, snapshot=args.snapshot, preview_json=args.from_preview_json,
        export=args.from_export, include_unchanged=args.include_unchanged, snapshot_out=args.snapshot_out,
        base_snapshot=args.base_snapshot, rules_dir=args.rules, policy_config=args.policy_config,
        waivers=args.waivers, checkov=args.checkov, opa_url=args.opa_url, strict=args.strict, timeout=args.timeout,
        debug=args.debug, progress=_Progress(args.quiet), fast_exit=args.fast_exit)
    result = run(request)
    report = build_report(result.snapshot, len(result.rules), result.findings, result.rules, result.estimate)
    _write(args, render(report, args.format, RenderOptions(fail_on=args.fail_on, base=result.base)))
    code = 1 if failing(report.findings, args.fail_on) else 0
    if result.incomplete:
        sys.stderr.write("tollgate: error: a rule failed to evaluate; the preview is incomplete (see the engine-error finding)\n")
        code = 2
    if request.leaves_fast:
        _leave(code)
    return code


def _write(args: argparse.Namespace, text: str) -> None:
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _leave(code: int) -> NoReturn:
    """End the program now, the report written: freeing a large stack's objects one by one only delays the
    exit. Only where the request says the process may (Request.leaves_fast)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def console() -> int:
    """The `tollgate` program (console script, python -m tollgate): main() as a process of its own, which may
    leave as soon as its report is written (_leave)."""
    return main(fast_exit=True)


def main(argv: Optional[Sequence[str]] = None, fast_exit: bool = False) -> int:
    args = _parser().parse_args(argv)
    args.fast_exit = fast_exit
    try:
        return args.run(args)
    except TollgateError as exc:
        clear = CLEAR_LINE if sys.stderr.isatty() else ""  # a progress line left on the terminal
        sys.stderr.write(f"{clear}tollgate: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        raise
    # An unexpected failure is still "could not judge", never a pass: also what is not an Exception, such as
    # the rule engine's Rust panic (pyo3's PanicException is a BaseException) or a stray sys.exit(0).
    except BaseException as exc:  # noqa: BLE001
        sys.stderr.write(f"tollgate: internal error: {type(exc).__name__}: {exc}\n"
                         "  this is a bug in tollgate; please report it with the command you ran\n")
        return 2


if __name__ == "__main__":
    sys.exit(console())
