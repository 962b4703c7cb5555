"""The CrossGuard source: run a policy pack as the Pulumi CLI does and turn its diagnostics into Findings.

The pack is launched like the Python language host launches an analyzer (`python -u -m pulumi.policy
<engine> <packDir>`, cwd = pack dir, PULUMI_* environment); it prints its gRPC port, then is told about
the stack and asked to Analyze each resource and AnalyzeStack once, with properties marshalled the way
the CLI marshals them. Tollgate's pack reports a rule's "cannot decide" verdicts through an advisory
companion policy `<rule>-undecided` (see policy_pack/rego_policies.py); findings carry the rule's name.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator, Optional

import grpc
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import analyzer_pb2 as pb, analyzer_pb2_grpc

from ..capture import options
from ..capture.wire import SECRET_TEXT, decode, encode_struct, with_secret_values  # a snapshot holds no secret's value
from ..errors import TollgateError
from ..model import Finding, Resource, Snapshot, is_secret
from . import remediate
from .findings import stack_urn

UNDECIDED = "-undecided"
ENFORCEMENT = {pb.ADVISORY: "advisory", pb.MANDATORY: "mandatory", pb.REMEDIATE: "remediate"}
SEVERITY = {pb.POLICY_SEVERITY_LOW: "low", pb.POLICY_SEVERITY_MEDIUM: "medium",
            pb.POLICY_SEVERITY_HIGH: "high", pb.POLICY_SEVERITY_CRITICAL: "critical"}
MAX_MESSAGE = 400 * 1024 * 1024  # as pulumi-policy's server allows
DEADLINE = 120.0  # seconds per call: a pack whose handler thread dies never answers


class Pack:
    """A running pack and the analyzer calls the CLI makes to it."""

    def __init__(self, stub: analyzer_pb2_grpc.AnalyzerStub, project: str, stack: str, config: dict[str, str],
                 stderr: Any = None, port: Optional[int] = None):
        self.stub, self.project, self.stack, self.config, self.stderr = stub, project, stack, config, stderr
        self.port = port  # where the pack listens on 127.0.0.1 (another client may call it too)

    def _call(self, method: str, request: Any) -> Any:
        return getattr(self.stub, method)(request, timeout=DEADLINE)

    def analyzer_info(self) -> pb.AnalyzerInfo:
        return self._call("GetAnalyzerInfo", empty_pb2.Empty())

    def configure(self, policy_config: dict[str, dict[str, Any]]) -> None:
        """`--policy-pack-config`: policy name -> {"enforcementLevel": ..., other properties}."""
        if not policy_config:
            return  # the CLI does not call Configure without config
        request = pb.ConfigureAnalyzerRequest()
        # As the CLI reads the file: "name": "level" is shorthand, "all" gives every policy its level, and
        # a policy configured without a level keeps its own (the field's zero value would mean ADVISORY).
        settings = {k: {"enforcementLevel": v} if isinstance(v, str) else v for k, v in policy_config.items()}
        everyone = settings.pop("all", {})
        own = {p.name: p.enforcementLevel for p in self.analyzer_info().policies}
        for name in own if everyone else []:
            settings[name] = {**everyone, **settings.get(name, {})}
        for name, values in settings.items():
            entry = request.policyConfig[name]
            level = values.get("enforcementLevel")
            entry.enforcementLevel = pb.EnforcementLevel.Value(level.upper()) if level else own.get(name, pb.ADVISORY)
            entry.properties.update({k: v for k, v in values.items() if k != "enforcementLevel"})
        self._call("Configure", request)

    def configure_stack(self, organization: str = "organization", tags: Optional[dict[str, str]] = None) -> None:
        self._call("ConfigureStack", pb.AnalyzerStackConfigureRequest(
            stack=self.stack, project=self.project, organization=organization, dry_run=True,
            config=self.config, tags=tags or {}))

    def analyze_snapshot(self, snapshot: Snapshot) -> list[Finding]:
        """Analyze every resource, then AnalyzeStack once, as a preview does; diagnostics become Findings."""
        policies = {p.name: p for p in self.analyzer_info().policies}
        by_urn = {r.urn: r for r in snapshot.resources}
        root = stack_urn(snapshot)
        try:
            resources, findings = self._remediate(snapshot, policies)
            findings += [_finding(d, resource, policies) for resource in resources
                         for d in self._call("Analyze", pb.AnalyzeRequest(**_resource_fields(resource))).diagnostics]
            stack = self._call("AnalyzeStack", pb.AnalyzeStackRequest(
                resources=[_analyzer_resource(r) for r in resources]))
        except grpc.RpcError as exc:
            details = "\n".join(filter(None, [f"{exc.code().name}: {exc.details()}", _tail(self.stderr)]))
            raise TollgateError(f"the policy pack failed: {details}", fix="fix the pack or the rule its error names") from exc
        findings += [_finding(d, by_urn.get(d.urn or root), policies, d.urn or root) for d in stack.diagnostics]
        return sorted(set(findings), key=lambda f: (f.urn, f.rule, f.message))


    def _remediate(self, snapshot: Snapshot, policies: dict[str, pb.PolicyInfo]) -> tuple[list[Resource], list[Finding]]:
        """Remediate each resource first, as the CLI does; later calls see the remediated properties."""
        resources, findings = [], []
        for resource in snapshot.resources:
            for fix in self._call("Remediate", pb.AnalyzeRequest(**_resource_fields(resource))).remediations:
                if not fix.HasField("properties"):
                    continue
                inputs = decode(json_format.MessageToDict(fix.properties))  # a secret a marker again; 2.0 is 2
                before, after = resource.inputs.get("tags") or {}, inputs.get("tags") or {}
                added = {k: v for k, v in after.items() if before.get(k) != v}
                info = policies.get(fix.policyName, pb.PolicyInfo())
                findings.append(Finding(
                    rule=fix.policyName, id=info.framework.reference, urn=resource.urn, type=resource.type,
                    name=resource.name, enforcement="remediate", severity=SEVERITY.get(info.severity, "low"),
                    message=remediate.message(resource.name, resource.type, added), source="crossguard"))
                resource = replace(resource, inputs=inputs)
            resources.append(resource)
        return resources, findings


@contextmanager
def start_pack(pack_dir: Path, project: str, stack: str, config: dict[str, str],
               python: str = sys.executable, timeout: float = 30) -> Iterator[Pack]:
    env = dict(os.environ, PULUMI_PROJECT=project, PULUMI_STACK=stack, PULUMI_DRY_RUN="true",
               PULUMI_ORGANIZATION="organization", PULUMI_CONFIG=json.dumps(config))
    with tempfile.TemporaryFile(mode="a+b") as stderr:  # append: the pack writes while we read
        proc = subprocess.Popen([python, "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(pack_dir)],
                                cwd=pack_dir, env=env, stdout=subprocess.PIPE, stderr=stderr)
        try:
            port = _read_port(proc, timeout)
            if port is None:
                raise TollgateError(f"the policy pack did not start (exit {proc.poll()}): "
                                    f"{_tail(stderr) or 'no output'}", str(pack_dir),
                                    fix="the pack's first stdout line must be its port: fix the error above")
            with grpc.insecure_channel(f"127.0.0.1:{port}", options=[
                    ("grpc.max_receive_message_length", MAX_MESSAGE),
                    ("grpc.max_send_message_length", MAX_MESSAGE)]) as channel:
                yield Pack(analyzer_pb2_grpc.AnalyzerStub(channel), project, stack, config, stderr, port)
        finally:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _read_port(proc: subprocess.Popen, timeout: float) -> Optional[int]:
    """The first stdout line is the port; the rest of the pack's output is passed on to stderr."""
    lines: queue.Queue[bytes] = queue.Queue()

    def pump() -> None:
        lines.put(proc.stdout.readline())  # b"" when the pack exits first
        for line in iter(proc.stdout.readline, b""):
            sys.stderr.write(line.decode("utf-8", "replace"))
    threading.Thread(target=pump, daemon=True).start()
    try:
        first = lines.get(timeout=timeout).strip()
    except queue.Empty:
        return None
    return int(first) if first.isdigit() else None


def _tail(stderr: Any) -> str:
    """The end of what the pack wrote to stderr (a traceback ends with the error)."""
    if stderr is None:
        return ""
    stderr.seek(0)
    return stderr.read().decode("utf-8", "replace")[-2000:].strip()


def _finding(diag: pb.AnalyzeDiagnostic, resource: Optional[Resource], policies: dict[str, pb.PolicyInfo],
             urn: Optional[str] = None) -> Finding:
    """A diagnostic's message is the policy description, a newline, then the rule's message. The rule id is
    the policy's compliance framework reference (PolicyInfo has no id field); "" when a policy has none."""
    info = policies.get(diag.policyName, pb.PolicyInfo())
    return Finding(
        rule=diag.policyName.removesuffix(UNDECIDED), id=info.framework.reference,
        urn=urn or resource.urn, type=resource.type if resource else "pulumi:pulumi:Stack",
        name=resource.name if resource else "", enforcement=ENFORCEMENT[diag.enforcementLevel],
        severity=SEVERITY.get(diag.severity) or SEVERITY.get(info.severity, "medium"), source="crossguard",
        message=diag.message.removeprefix(diag.description + "\n"))


def _wire(value: Any) -> Any:
    """Snapshot values as the CLI marshals them: a secret is {sig, value}; ours has no value to give."""
    return with_secret_values(value, SECRET_TEXT)


def _provider(resource: Resource) -> Optional[pb.AnalyzerProviderResource]:
    """The SDK sends a provider's object and array inputs (defaultTags) JSON-encoded; so does the CLI."""
    if resource.provider is None:
        return None
    urn = resource.provider.urn
    qualified_type, name = urn.split("::")[2:4]
    props = {k: json.dumps(v) if isinstance(v, (dict, list)) and not is_secret(v) else _wire(v)
             for k, v in resource.provider.inputs.items()}
    return pb.AnalyzerProviderResource(type=qualified_type.split("$")[-1], name=name, urn=urn,
                                       properties=encode_struct(props))


def _resource_fields(resource: Resource) -> dict[str, Any]:
    return dict(type=resource.type, name=resource.name, urn=resource.urn,
                properties=encode_struct(_wire(resource.inputs)),
                options=pb.AnalyzerResourceOptions(**options.to_analyzer(resource.options, resource.parent)),
                provider=_provider(resource))


def _analyzer_resource(resource: Resource) -> pb.AnalyzerResource:
    return pb.AnalyzerResource(
        **_resource_fields(resource), parent=resource.parent or "", dependencies=resource.dependencies,
        propertyDependencies={k: pb.AnalyzerPropertyDependencies(urns=v)
                              for k, v in resource.property_dependencies.items()})
