"""The capture monitor: the SDK's mock monitor, recording every registration the way the engine sees it.

It runs inside the program's process (see child.py). Beyond the stock MockMonitor it
* records the whole RegisterResourceRequest (parent, provider, dependencies, source position),
* applies `transforms` (resource option and `register_resource_transform`) as the engine does:
  it calls the program's callback server over gRPC, the resource's own transforms first, then each
  ancestor's, then the stack transforms in registration order, and records what they return,
* answers a preview: ids are unknown; a custom resource's outputs are its inputs where they have the type the
  SDK declares for the output (unknown where not given); a remote component's outputs are all unknown,
* answers data sources, reads and resource methods offline (answers.py),
* records the children of remote components it can expand (expand/) and notes those it cannot.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import unquote, urlparse

import grpc
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.mocks import MockMonitor, Mocks
from pulumi.runtime.proto import callback_pb2, callback_pb2_grpc, provider_pb2, resource_pb2

from . import expand, options
from .answers import Answers, conform, unknown_placeholders
from .sdk_types import output_types, resource_class
from .wire import UNKNOWN, decode, decode_provider_inputs, decode_struct, encode_struct, with_secret_values

PROVIDER_PREFIX = "pulumi:providers:"
# The program may pin an older SDK (aws-py-fargate: 3.228), whose invoke answer is provider_pb2.InvokeResponse.
INVOKE_RESPONSE = getattr(resource_pb2, "ResourceInvokeResponse", None) or provider_pb2.InvokeResponse
READ_HAS_ID = "id" in resource_pb2.ReadResourceResponse.DESCRIPTOR.fields_by_name
TOLLGATE_DIR = Path(__file__).resolve().parent.parent
NOT_EXPANDED = "not-expanded"
# Local (Python) components whose children come from a provider call the capture cannot make offline.
RENDERED_BY_PROVIDER = {"kubernetes:helm:template": "kubernetes:helm.sh/v3:Chart"}
# Custom resources that create, inside their provider, objects a preview never sees.
INSTALLS_UNSEEN = {"kubernetes:helm.sh/v3:Release": "a Helm release's objects are installed by helm inside the provider"}


class _Unused(Mocks):
    """The stock monitor hands invokes, reads and registrations to its mocks; this monitor answers them all."""

    def call(self, args):
        raise NotImplementedError(args.token)

    def new_resource(self, args):
        raise NotImplementedError(args.typ)


class CaptureMonitor(MockMonitor):
    def __init__(self, stack: str, project: str, root: Path, provider_config: dict[str, dict[str, Any]],
                 on_register: Optional[Callable[[int], None]] = None, pinned: Optional[list[dict[str, Any]]] = None,
                 pwd: Optional[Path] = None):
        super().__init__(_Unused())
        self.root = root
        self.pwd = pwd or root
        self.stack, self.project = stack, project
        self.provider_config = provider_config  # package -> decoded stack config for its default provider
        self.records: list[dict[str, Any]] = []
        self.by_urn: dict[str, dict[str, Any]] = {}
        self.notes: list[dict[str, Any]] = []  # what the preview could not see, for the report
        self.expansion_rank: dict[str, int] = {}  # an expanded child's urn -> its place among its siblings
        self.default_providers: dict[str, dict[str, Any]] = {}
        self.transforms_of: dict[str, list[callback_pb2.Callback]] = {}  # urn -> its own transforms
        self.parent_of: dict[str, str] = {}
        self.stack_transforms: list[callback_pb2.Callback] = []
        self.on_register = on_register
        self.answers = Answers(pinned or [], self._provider_inputs)
        self._channels: dict[str, grpc.Channel] = {}

    # --- the engine's side of transforms -------------------------------------------------------
    def RegisterStackTransform(self, request):
        self.stack_transforms.append(request)
        return super().RegisterStackTransform(request)

    def _transforms_for(self, own: list[callback_pb2.Callback], parent: str) -> list[callback_pb2.Callback]:
        chain = list(own)
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

    def _apply_transforms(self, type_: str, name: str, custom: bool, parent: str, props: struct_pb2.Struct,
                          opts: resource_pb2.TransformResourceOptions,
                          own: list[callback_pb2.Callback]) -> tuple[Any, resource_pb2.TransformResourceOptions]:
        for callback in self._transforms_for(own, parent):
            result = self._invoke(callback, resource_pb2.TransformRequest(
                type=type_, name=name, custom=custom, parent=parent, properties=props, options=opts))
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

    def _record(self, record: dict[str, Any]) -> None:
        if self.answers.placeholders:  # a placeholder answer may have reached this resource's inputs
            record["inputs"] = unknown_placeholders(record["inputs"])
        self.records.append(record)
        self.by_urn[record["urn"]] = record
        if self.on_register:
            self.on_register(len(self.records))

    def RegisterResource(self, request):
        urn = self.make_urn(request.parent, request.type, request.name)
        self.parent_of[urn] = request.parent
        self.transforms_of[urn] = list(request.transforms)
        props, opts = self._apply_transforms(request.type, request.name, request.custom, request.parent,
                                             request.object, _options_of(request), list(request.transforms))
        raw = json_format.MessageToDict(props)
        record = {
            "urn": urn, "type": request.type, "name": request.name, "custom": bool(request.custom),
            "inputs": decode(raw), "parent": request.parent or None,
            "provider": self._provider(request, opts.provider),
            "dependencies": sorted(opts.depends_on),  # a set to the engine: the SDK's order varies run to run
            # As the engine tells analyzers: only properties that do depend on something.
            "property_dependencies": {k: sorted(v.urns) for k, v in request.propertyDependencies.items() if v.urns},
            "options": options.from_transform(opts),
            "source": _position(request, self.root),
        }
        if request.type.startswith(PROVIDER_PREFIX):
            record["inputs"] = decode_provider_inputs(record["inputs"])
        self._record(record)
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, "", {})
        if request.type in INSTALLS_UNSEEN:
            self._not_expanded(record, INSTALLS_UNSEEN[request.type])
        if request.remote:
            self._expand(record, request)
            # A remote component's outputs are whatever its provider computes: unknown at preview.
            return resource_pb2.RegisterResourceResponse(urn=urn, id="", object=struct_pb2.Struct())
        # A preview: the engine answers an empty id (unknown to the SDK).
        return resource_pb2.RegisterResourceResponse(urn=urn, id="", object=self._outputs(request.type, props, raw,
                                                                                          request.custom))

    def _outputs(self, type_: str, props: struct_pb2.Struct, raw: dict[str, Any], custom: bool) -> struct_pb2.Struct:
        """The inputs as the provider's outputs: each kept where it has the output's declared type."""
        cls = resource_class(type_) if custom else None
        declared = output_types(cls) if cls is not None else {}
        if not declared:
            return props
        shaped = {k: conform(v, declared[k]) if k in declared else v for k, v in raw.items()}
        if shaped == raw:
            return props
        return encode_struct(shaped)

    def _expand(self, record: dict[str, Any], request) -> None:
        """A remote component's children, as its plugin would register them, else a note that they are unseen."""
        providers = {package: self._provider_by_ref(ref)["inputs"] for package, ref in request.providers.items()}
        component = expand.Component(type=record["type"], name=record["name"], urn=record["urn"],
                                     inputs=record["inputs"], pwd=self.pwd,
                                     provider_config={**self.provider_config, **providers})
        try:
            children = expand.expand(component)
        except expand.NotExpanded as exc:
            self._not_expanded(record, str(exc))
            return
        if children is None:
            self._not_expanded(record, "no offline expansion is known for this component type")
            return
        urns: dict[int, str] = {}
        for rank, child in enumerate(children):
            parent = urns[id(child.parent)] if child.parent is not None else record["urn"]
            urn = self.make_urn(parent, child.type, child.name)
            urns[id(child)] = urn
            self.expansion_rank[urn] = rank
            self.parent_of[urn] = parent
            # Stack transforms and the component's own reach what its plugin registers, as under the engine.
            props, opts = self._apply_transforms(child.type, child.name, child.custom, parent,
                                                 encode_struct(with_secret_values(child.inputs, None)),
                                                 resource_pb2.TransformResourceOptions(), [])
            by_input = {k: [urns[id(c)] for c in cs] for k, cs in child.property_dependencies.items() if cs}
            self._record({
                "urn": urn, "type": child.type, "name": child.name, "custom": child.custom,
                "inputs": decode_struct(props), "parent": parent,
                "provider": self._child_provider(child, request) if child.custom else None,
                "dependencies": sorted({u for us in by_input.values() for u in us} | set(opts.depends_on)),
                "property_dependencies": by_input, "options": options.from_transform(opts), "source": record["source"],
            })

    def _child_provider(self, child: expand.Child, request) -> Optional[dict[str, Any]]:
        """The provider the plugin would give a child: the component's for that package, else the default."""
        package = child.type.split(":", 1)[0]
        ref = request.providers.get(package) or request.provider
        if ref and ref.split("::")[2:3] == [PROVIDER_PREFIX + package]:
            return self._provider_by_ref(ref)
        return self._default_provider(package, "")

    def _not_expanded(self, record: dict[str, Any], why: str) -> None:
        self.notes.append({
            "rule": NOT_EXPANDED, "urn": record["urn"], "type": record["type"], "name": record["name"],
            "message": f"`{record['name']}` ({record['type']}) is built by its provider plugin, which a preview "
                       f"without the Pulumi CLI cannot run ({why}), so the resources it creates are not judged "
                       "here; `pulumi preview --policy-pack` judges them",
        })

    def _provider(self, request, provider_ref: str) -> Optional[dict[str, Any]]:
        if not request.custom or request.type.startswith(PROVIDER_PREFIX):
            return None
        if provider_ref:
            return self._provider_by_ref(provider_ref)
        return self._default_provider(request.type.split(":", 1)[0], request.version)

    def _provider_by_ref(self, ref: str) -> dict[str, Any]:
        """An explicit provider named by its reference (`<urn>::<id>`), with the inputs it was registered with."""
        provider_urn = ref.rsplit("::", 1)[0]
        explicit = self.by_urn.get(provider_urn)
        return {"urn": provider_urn, "inputs": explicit["inputs"] if explicit else {}}

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
            self.by_urn[urn] = self.records[-1]
        return {"urn": urn, "inputs": self.default_providers[urn]}

    def _provider_inputs(self, package: str, ref: str) -> dict[str, Any]:
        """The inputs of the provider a call goes to: the explicit one it names, else the stack's config."""
        return self._provider_by_ref(ref)["inputs"] if ref else self.provider_config.get(package, {})

    # --- questions the program asks ------------------------------------------------------------
    def Invoke(self, request):
        if request.tok == "pulumi:pulumi:getResource":
            return super().Invoke(request)
        args = decode(json_format.MessageToDict(request.args))
        if request.tok in RENDERED_BY_PROVIDER:
            self._rendered_by_provider(request.tok, args)
            answer: dict[str, Any] = {"result": []}
        else:
            answer = self.answers.invoke(request.tok, args, request.provider)
        return INVOKE_RESPONSE(**{"return": encode_struct(answer)})

    def _rendered_by_provider(self, token: str, args: dict[str, Any]) -> None:
        """A local component (a v3 helm Chart) asked its provider to render its objects: note it unseen."""
        try:
            chart = json.loads(args.get("jsonOpts") or "{}")
        except (TypeError, ValueError):
            chart = {}
        release = chart.get("release_name") if isinstance(chart, dict) else None
        kind = RENDERED_BY_PROVIDER[token]
        record = next((r for r in reversed(self.records) if r["type"] == kind and r["name"] == release), None)
        self._not_expanded(record or {"urn": f"urn:pulumi:{self.stack}::{self.project}::{kind}::{release}",
                                      "type": kind, "name": str(release)},
                           f"the chart is rendered by `helm template` inside the provider ({token})")

    def Call(self, request):
        """A resource method (e.g. eks Cluster.get_kubeconfig): its resource is not created at preview, so
        what the method returns is unknown, as the engine answers for a resource being created."""
        return provider_pb2.CallResponse(**{"return": encode_struct({"result": UNKNOWN})})

    def ReadResource(self, request):
        inputs = decode(json_format.MessageToDict(request.properties))
        state = self.answers.read(request.type, request.name, request.id, inputs)
        urn = self.make_urn(request.parent, request.type, request.name)
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, request.id, state)
        response = resource_pb2.ReadResourceResponse(urn=urn, properties=encode_struct(state))
        if READ_HAS_ID:  # an older SDK takes the id it asked for
            response.id = request.id
        return response

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
