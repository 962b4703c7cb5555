"""The capture monitor: the SDK's mock monitor, recording every registration the way the engine sees it.

It runs inside the program's process (see child.py). Beyond the stock MockMonitor it
* records the whole RegisterResourceRequest (parent, provider, dependencies, source position),
* applies `transforms` (resource option and `register_resource_transform`) as the engine does:
  it calls the program's callback server over gRPC, the resource's own transforms first, then each
  ancestor's, then the stack transforms in registration order, and records what they return,
* answers a preview: ids are unknown, outputs are the inputs (unknown where not given).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import unquote, urlparse

import grpc
from pulumi.runtime.mocks import MockMonitor, Mocks
from pulumi.runtime.proto import callback_pb2, callback_pb2_grpc, resource_pb2

from .wire import decode_provider_inputs, decode_struct

PROVIDER_PREFIX = "pulumi:providers:"
TOLLGATE_DIR = Path(__file__).resolve().parent.parent


class _PreviewMocks(Mocks):
    """Invokes (data sources) have no cloud to ask: they answer empty, as an unconfigured provider would."""

    def call(self, args):
        return {}, None

    def new_resource(self, args):
        return None, {}


class CaptureMonitor(MockMonitor):
    def __init__(self, stack: str, project: str, root: Path, provider_config: dict[str, dict[str, Any]],
                 on_register: Optional[Callable[[int], None]] = None):
        super().__init__(_PreviewMocks())
        self.root = root
        self.stack, self.project = stack, project
        self.provider_config = provider_config  # package -> decoded stack config for its default provider
        self.records: list[dict[str, Any]] = []
        self.default_providers: dict[str, dict[str, Any]] = {}
        self.transforms_of: dict[str, list[callback_pb2.Callback]] = {}  # urn -> its own transforms
        self.parent_of: dict[str, str] = {}
        self.stack_transforms: list[callback_pb2.Callback] = []
        self.on_register = on_register
        self._channels: dict[str, grpc.Channel] = {}

    # --- the engine's side of transforms -------------------------------------------------------
    def RegisterStackTransform(self, request):
        self.stack_transforms.append(request)
        return super().RegisterStackTransform(request)

    def _transforms_for(self, urn: str, request) -> list[callback_pb2.Callback]:
        chain = list(request.transforms)
        parent = request.parent
        while parent:
            chain += self.transforms_of.get(parent, [])
            parent = self.parent_of.get(parent, "")
        return chain + self.stack_transforms

    def _invoke(self, callback: callback_pb2.Callback, transform: resource_pb2.TransformRequest):
        channel = self._channels.get(callback.target)
        if channel is None:
            channel = self._channels[callback.target] = grpc.insecure_channel(callback.target)
        stub = callback_pb2_grpc.CallbacksStub(channel)
        reply = stub.Invoke(callback_pb2.CallbackInvokeRequest(token=callback.token,
                                                               request=transform.SerializeToString()))
        return resource_pb2.TransformResponse.FromString(reply.response)

    def _apply_transforms(self, urn: str, request) -> tuple[Any, resource_pb2.TransformResourceOptions]:
        props, opts = request.object, _options_of(request)
        for callback in self._transforms_for(urn, request):
            result = self._invoke(callback, resource_pb2.TransformRequest(
                type=request.type, name=request.name, custom=request.custom, parent=request.parent,
                properties=props, options=opts))
            props = result.properties
            if result.HasField("options"):
                opts = result.options
        return props, opts

    # --- registrations -------------------------------------------------------------------------
    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """As the engine names resources: children of the root stack carry no `pulumi:pulumi:Stack$` prefix
        (the stock mock monitor adds one, which no real stack state ever has)."""
        parent_type = parent.split("::")[2] if parent else ""
        if parent_type and parent_type != "pulumi:pulumi:Stack":
            type_ = parent_type + "$" + type_
        return f"urn:pulumi:{self.stack}::{self.project}::{type_}::{name}"

    def RegisterResource(self, request):
        urn = self.make_urn(request.parent, request.type, request.name)
        self.parent_of[urn] = request.parent
        self.transforms_of[urn] = list(request.transforms)
        props, opts = self._apply_transforms(urn, request)
        record = {
            "urn": urn, "type": request.type, "name": request.name, "custom": bool(request.custom),
            "inputs": decode_struct(props), "parent": request.parent or None,
            "provider": self._provider(request, opts.provider),
            "dependencies": list(opts.depends_on),
            # As the engine tells analyzers: only properties that do depend on something.
            "property_dependencies": {k: list(v.urns) for k, v in request.propertyDependencies.items() if v.urns},
            "options": _options_record(opts),
            "source": _position(request, self.root),
        }
        if request.type.startswith(PROVIDER_PREFIX):
            record["inputs"] = decode_provider_inputs(record["inputs"])
        self.records.append(record)
        if self.on_register:
            self.on_register(len(self.records))
        # A preview: the engine answers an empty id (unknown to the SDK); outputs echo the inputs and
        # whatever the program did not set resolves unknown.
        resource_id = ""
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, resource_id, {})
        return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id, object=props)

    def _provider(self, request, provider_ref: str) -> Optional[dict[str, Any]]:
        if not request.custom or request.type.startswith(PROVIDER_PREFIX):
            return None
        if provider_ref:
            provider_urn = provider_ref.rsplit("::", 1)[0]
            explicit = next((r for r in self.records if r["urn"] == provider_urn), None)
            return {"urn": provider_urn, "inputs": explicit["inputs"] if explicit else {}}
        return self._default_provider(request.type.split(":", 1)[0], request.version)

    def _default_provider(self, package: str, version: str) -> dict[str, Any]:
        """The engine makes one default provider per package and version, configured from stack config."""
        name = "default_" + version.replace(".", "_") if version else "default"
        urn = f"urn:pulumi:{self.stack}::{self.project}::{PROVIDER_PREFIX}{package}::{name}"
        if urn not in self.default_providers:
            inputs = dict(self.provider_config.get(package, {}))
            if version:
                inputs["version"] = version
            self.default_providers[urn] = inputs
            self.records.append({
                "urn": urn, "type": PROVIDER_PREFIX + package, "name": name, "custom": True,
                "inputs": inputs, "parent": None, "provider": None, "dependencies": [],
                "property_dependencies": {}, "options": {}, "source": None,
            })
        return {"urn": urn, "inputs": self.default_providers[urn]}

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()


def _options_of(request) -> resource_pb2.TransformResourceOptions:
    opts = resource_pb2.TransformResourceOptions(
        depends_on=request.dependencies, ignore_changes=request.ignoreChanges,
        replace_on_changes=request.replaceOnChanges, version=request.version, provider=request.provider,
        plugin_download_url=request.pluginDownloadURL, deleted_with=request.deletedWith,
        additional_secret_outputs=request.additionalSecretOutputs, aliases=request.aliases,
    )
    setattr(opts, "import", request.importId)
    if request.HasField("protect"):
        opts.protect = request.protect
    if request.HasField("retainOnDelete"):
        opts.retain_on_delete = request.retainOnDelete
    if request.deleteBeforeReplaceDefined:
        opts.delete_before_replace = request.deleteBeforeReplace
    if request.HasField("customTimeouts"):
        opts.custom_timeouts.CopyFrom(request.customTimeouts)
    for key, value in request.providers.items():
        opts.providers[key] = value
    return opts


def _options_record(opts: resource_pb2.TransformResourceOptions) -> dict[str, Any]:
    """The options an analyzer is told about (AnalyzerResourceOptions), camelCase, only when set."""
    record: dict[str, Any] = {}
    if opts.HasField("protect"):
        record["protect"] = opts.protect
    if opts.ignore_changes:
        record["ignoreChanges"] = list(opts.ignore_changes)
    if opts.HasField("delete_before_replace"):
        record["deleteBeforeReplace"] = opts.delete_before_replace
    if opts.additional_secret_outputs:
        record["additionalSecretOutputs"] = list(opts.additional_secret_outputs)
    if opts.HasField("custom_timeouts"):
        ct = opts.custom_timeouts
        record["customTimeouts"] = {"create": ct.create, "update": ct.update, "delete": ct.delete}
    if opts.HasField("retain_on_delete"):
        record["retainOnDelete"] = opts.retain_on_delete
    if getattr(opts, "import"):
        record["import"] = getattr(opts, "import")
    return record


def _position(request, root: Path) -> Optional[dict[str, Any]]:
    """The SDK's source position, made relative to the project; when the SDK names a frame outside the
    project (an SDK or provider file), the nearest frame of its stack trace inside the project instead."""
    candidates = [request.sourcePosition] if request.HasField("sourcePosition") else []
    candidates += [frame.pc for frame in request.stackTrace.frames if frame.HasField("pc")]
    for pos in candidates:
        path = Path(unquote(urlparse(pos.uri).path)) if pos.uri else None
        if (path and path.is_relative_to(root) and "site-packages" not in path.parts
                and not path.is_relative_to(TOLLGATE_DIR)):
            return {"file": path.relative_to(root).as_posix(), "line": pos.line}
    return None
