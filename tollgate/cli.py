"""`tollgate preview`: capture -> evaluate -> report, with an exit code CI can gate on.

Exit 0: no mandatory finding. 1: at least one. 2: the preview could not be done (never a pass).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from .errors import TollgateError
from .evaluate import ENGINE_ERROR, RULES_DIR, evaluate
from .model import Snapshot
from .report import build_report
from .report import json_report, table

FORMATS = {"table": table.render, "json": json_report.render}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tollgate", description="Cost guardrails for Pulumi programs.")
    sub = parser.add_subparsers(dest="command", required=True)
    preview = sub.add_parser("preview", help="judge a Pulumi program's resources without the CLI or credentials")
    preview.add_argument("--stack", required=True, help="stack name; config comes from Pulumi.<stack>.yaml")
    preview.add_argument("--cwd", type=Path, default=Path("."), help="the Pulumi project directory (default: .)")
    preview.add_argument("--format", choices=sorted(FORMATS), default="table")
    preview.add_argument("--output", type=Path, help="write the report here instead of stdout")
    preview.add_argument("--snapshot-out", type=Path, help="also write the captured snapshot as JSON")
    preview.add_argument("--snapshot", type=Path, help="judge this snapshot file instead of running the program")
    preview.add_argument("--rules", type=Path, default=RULES_DIR, help="directory of Rego rules (default: bundled)")
    preview.add_argument("--opa-url", help="evaluate the rules on this OPA server (e.g. http://localhost:8181) "
                                           "instead of the embedded engine")
    preview.add_argument("--policy-config", type=Path,
                         help="per-stack policy config (pulumi --policy-pack-config format), e.g. "
                              "stacks/policy-config.dev.json")
    rego = sub.add_parser("rego", help="work with the Rego rules").add_subparsers(dest="rego_command", required=True)
    bundle = rego.add_parser("bundle", help="write the rules as an OPA bundle (tar.gz) an OPA fleet can serve")
    bundle.add_argument("--out", type=Path, default=Path("tollgate-bundle.tar.gz"))
    bundle.add_argument("--rules", type=Path, default=RULES_DIR)
    bundle.add_argument("--revision", help="bundle revision (default: the current UTC time)")
    return parser


def rego_bundle(args: argparse.Namespace) -> int:
    from .opa import bundle
    from .rego import RuleSet

    rules = RuleSet(args.rules)
    bundle(rules, args.out, args.revision)
    sys.stdout.write(f"wrote {args.out}: {len(rules.rules)} rules\n")
    return 0


class _Progress:
    """One rewritten line on stderr, only when stderr is a terminal: pipes and CI logs stay clean."""

    def __init__(self) -> None:
        self.on = sys.stderr.isatty()

    def say(self, text: str) -> None:
        if self.on:
            sys.stderr.write(f"\r\033[K{text}")
            sys.stderr.flush()

    def done(self) -> None:
        self.say("")


def preview(args: argparse.Namespace) -> int:
    progress = _Progress()
    if args.snapshot:
        snapshot = Snapshot.read(args.snapshot)
    else:
        from .capture.host import capture  # the capture stack is only needed when we run a program

        progress.say(f"capturing {args.cwd}/{args.stack} ...")
        snapshot = capture(args.cwd, args.stack, progress=progress.on)
    if args.snapshot_out:
        snapshot.write(args.snapshot_out)
    progress.say(f"evaluating {len(snapshot.resources)} resources ...")
    rules, findings = evaluate(snapshot, args.rules, args.policy_config, args.opa_url)
    progress.done()
    report = build_report(snapshot, len(rules.rules), findings)
    text = FORMATS[args.format](report)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    if any(f.rule == ENGINE_ERROR for f in findings):
        sys.stderr.write("tollgate: error: a rule failed to evaluate; the preview is incomplete (see the engine-error finding)\n")
        return 2
    return 0 if report.summary.passed else 1


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return preview(args) if args.command == "preview" else rego_bundle(args)
    except TollgateError as exc:
        sys.stderr.write(f"tollgate: error: {exc}\n")
        return 2
    except Exception as exc:  # noqa: BLE001 - an unexpected failure is still "could not judge", never a pass
        sys.stderr.write(f"tollgate: internal error: {type(exc).__name__}: {exc}\n"
                         "  this is a bug in tollgate; please report it with the command you ran\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
