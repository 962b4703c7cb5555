"""Kubernetes yaml/v2 ConfigFile and ConfigGroup expanded offline as the provider registers their objects
(pulumi-kubernetes provider/pkg/provider/yaml/v2/yaml.go), the v1 ConfigFile through the decode invoke, and
Helm charts noted as not expanded: unit cases on the expander, then whole programs through the capture and rules.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conftest import capture_source, captured
from tollgate.capture import expand
from tollgate.capture.computed import decode_yaml
from tollgate.capture.expand import Component, NotExpanded
from tollgate.capture.wire import SECRET_SIG, SIG_KEY, UNKNOWN
from tollgate.evaluate import RULES_DIR, RuleSet, evaluate, judge

SECRET = {SIG_KEY: SECRET_SIG}
FILE, GROUP = "kubernetes:yaml/v2:ConfigFile", "kubernetes:yaml/v2:ConfigGroup"
DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec: {replicas: 2}
"""


def component(type_: str, name: str, inputs: dict, pwd: Path = Path("/nonexistent"),
              namespace: str | None = None) -> Component:
    config = {"kubernetes": {"namespace": namespace}} if namespace else {}
    return Component(type=type_, name=name, urn=f"urn:pulumi:dev::p::{type_}::{name}", inputs=inputs, pwd=pwd,
                     provider_config=config)


def group(yaml: str | list[str] | None = None, objs: list | None = None, name: str = "g", **inputs) -> list:
    """(type, name) of each child of a ConfigGroup, in order."""
    given = {k: v for k, v in {"yaml": yaml, "objs": objs}.items() if v is not None}
    return [(c.type, c.name) for c in expand.expand(component(GROUP, name, {**given, **inputs}))]


def children(type_: str, inputs: dict, **kw) -> list:
    return expand.expand(component(type_, "c", inputs, **kw))


def write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(textwrap.dedent(text))
    return directory


def not_expanded(type_: str, inputs: dict, pwd: Path = Path("/nonexistent")) -> str:
    with pytest.raises(NotExpanded) as raised:
        expand.expand(component(type_, "c", inputs, pwd))
    return str(raised.value)


# --- names and types ----------------------------------------------------------------------------------------

def test_names_carry_the_component_name_as_prefix_and_the_namespace_when_there_is_one():
    text = DEPLOYMENT + "---\napiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: shop}\n"
    assert group(text, name="app") == [("kubernetes:apps/v1:Deployment", "app:api"),
                                       ("kubernetes:core/v1:Service", "app:shop/api")]


def test_resource_prefix_replaces_the_component_name_and_empty_means_none():
    assert group(DEPLOYMENT, resourcePrefix="team") == [("kubernetes:apps/v1:Deployment", "team:api")]
    assert group(DEPLOYMENT, resourcePrefix="") == [("kubernetes:apps/v1:Deployment", "api")]


def test_type_tokens_per_api_version_and_kind():
    objs = [{"apiVersion": v, "kind": k, "metadata": {"name": "x"}} for v, k in [
        ("v1", "Pod"), ("core/v1", "ConfigMap"), ("apps/v1", "StatefulSet"), ("networking.k8s.io/v1", "Ingress"),
        ("rbac.authorization.k8s.io/v1", "ClusterRole"), ("v1", "ComponentStatus"), ("monitoring.coreos.com/v1",
                                                                                    "ServiceMonitor")]]
    assert [t for t, _ in group(objs=objs)] == [
        "kubernetes:core/v1:Pod", "kubernetes:core/v1:ConfigMap", "kubernetes:apps/v1:StatefulSet",
        "kubernetes:networking.k8s.io/v1:Ingress", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
        # not one of the provider's core kinds: registered as a custom resource of apiVersion v1
        "kubernetes:v1:ComponentStatus", "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"]


def test_group_core_is_written_as_the_core_group_in_the_inputs():
    child, = children(GROUP, {"objs": [{"apiVersion": "core/v1", "kind": "ConfigMap", "metadata": {"name": "m"}}]})
    assert (child.type, child.inputs["apiVersion"]) == ("kubernetes:core/v1:ConfigMap", "v1")


def test_inputs_are_the_object_as_written_in_camel_case():
    text = """
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: api, labels: {team: payments}}
    spec:
      replicas: 2
      template: {spec: {containers: [{name: app, image: nginx, imagePullPolicy: Always}]}}
    """
    child, = children(GROUP, {"yaml": textwrap.dedent(text)})
    assert child.inputs == {"apiVersion": "apps/v1", "kind": "Deployment",
                            "metadata": {"name": "api", "labels": {"team": "payments"}},
                            "spec": {"replicas": 2, "template": {"spec": {"containers": [
                                {"name": "app", "image": "nginx", "imagePullPolicy": "Always"}]}}}}
    assert (child.custom, child.parent) == (True, None)


def test_yaml_values_stay_as_the_provider_reads_them():
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndata: {since: 2024-01-31, 80: http}\n"
    child, = children(GROUP, {"yaml": text})
    assert child.inputs["data"] == {"since": "2024-01-31", "80": "http"}


# --- namespaces -----------------------------------------------------------------------------------------------

def test_the_provider_namespace_config_goes_to_namespaced_objects_without_one():
    objs = [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"}},
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "namespace": "shop"}},
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "reader"}}]
    made = children(GROUP, {"objs": objs}, namespace="team-a")
    assert [c.name for c in made] == ["c:team-a/api", "c:shop/api", "c:shop", "c:reader"]
    assert [c.inputs["metadata"].get("namespace") for c in made] == ["team-a", "shop", None, None]


def test_without_a_namespace_config_an_object_keeps_none_as_offline_the_provider_has_no_cluster():
    child, = children(GROUP, {"yaml": DEPLOYMENT})
    assert (child.name, "namespace" in child.inputs["metadata"]) == ("c:api", False)


def test_a_custom_kind_is_placed_by_its_crd_among_the_objects_else_left_without_a_namespace():
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "crontabs.stable.example.com"},
           "spec": {"group": "stable.example.com", "scope": "Namespaced", "names": {"kind": "CronTab"}}}
    tab = {"apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "nightly"}}
    other = {"apiVersion": "other.example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    made = children(GROUP, {"objs": [crd, tab, other]}, namespace="jobs")
    assert [(c.type, c.name) for c in made] == [
        ("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", "c:crontabs.stable.example.com"),
        ("kubernetes:stable.example.com/v1:CronTab", "c:jobs/nightly"),
        ("kubernetes:other.example.com/v1:Widget", "c:w")]


# --- sources: Lists, documents, files, globs, yaml, objs --------------------------------------------------------

def test_lists_are_flattened_into_their_items_recursively_whatever_their_kind():
    text = """
    apiVersion: v1
    kind: List
    items:
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
      - apiVersion: v1
        kind: ConfigMapList
        items: [{apiVersion: v1, kind: ConfigMap, metadata: {name: b}}]
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: c}
    """
    assert [n for _, n in group(textwrap.dedent(text))] == ["g:a", "g:b", "g:c"]


def test_empty_documents_are_skipped():
    text = "---\n---\n{}\n---\n# only a comment\n---\n" + DEPLOYMENT
    assert group(text) == [("kubernetes:apps/v1:Deployment", "g:api")]


def test_files_then_yaml_then_objs_and_yaml_may_be_several_texts(tmp_path):
    write(tmp_path, {"m/one.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-file}\n"})
    inputs = {"files": ["m/one.yaml"], "objs": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "obj"}}],
              "yaml": ["apiVersion: v1\nkind: ConfigMap\nmetadata: {name: text-1}\n",
                       "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: text-2}\n"]}
    made = expand.expand(component(GROUP, "g", inputs, tmp_path))
    assert [c.name for c in made] == ["g:from-file", "g:text-1", "g:text-2", "g:obj"]


def test_group_files_are_glob_patterns_matched_as_go_does_sorted_dot_files_included(tmp_path):
    for name in ["b.yaml", "a.yaml", ".hidden.yaml", "c.yml", "x/d.yaml"]:
        write(tmp_path, {f"m/{name}": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {Path(name).stem}}}\n"})
    made = expand.expand(component(GROUP, "g", {"files": ["m/*.yaml", "m/[^a]*.yml", "m/*/?.yaml", "none/*.yaml"]},
                                   tmp_path))
    assert [c.name for c in made] == ["g:.hidden", "g:a", "g:b", "g:c", "g:d"]


def test_a_config_file_resolves_against_the_program_directory_and_does_not_glob(tmp_path):
    write(tmp_path, {"app.yaml": DEPLOYMENT, "*.yaml": DEPLOYMENT.replace("name: api", "name: star")})
    assert [c.name for c in children(FILE, {"file": "app.yaml"}, pwd=tmp_path)] == ["c:api"]
    assert [c.name for c in children(FILE, {"file": "*.yaml"}, pwd=tmp_path)] == ["c:star"]
    assert [c.name for c in children(FILE, {"file": str(tmp_path / "app.yaml")})] == ["c:api"]


def test_skip_await_annotates_every_object():
    text = DEPLOYMENT + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: m, annotations: {a: b}}\n"
    made = children(GROUP, {"yaml": text, "skipAwait": True})
    assert [c.inputs["metadata"]["annotations"] for c in made] == [{"pulumi.com/skipAwait": "true"},
                                                                   {"a": "b", "pulumi.com/skipAwait": "true"}]


def test_a_secret_s_data_is_secret_whatever_the_manifest_says():
    text = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: dg==}\nstringData: {p: q}\ntype: Opaque\n"
    child, = children(GROUP, {"yaml": text})
    assert child.inputs == {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": SECRET,
                            "stringData": SECRET, "type": "Opaque"}


def test_the_component_inputs_are_not_changed():
    objs = [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "dg=="}}]
    inputs = {"objs": objs, "skipAwait": True}
    children(GROUP, inputs, namespace="ns")
    assert inputs["objs"] == [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "dg=="}}]


# --- not expanded ---------------------------------------------------------------------------------------------

def test_unknown_inputs_are_not_expanded_and_named():
    assert not_expanded(GROUP, {"yaml": UNKNOWN}) == "`yaml` is unknown until apply"
    assert not_expanded(FILE, {"file": UNKNOWN}) == "`file` is unknown until apply"
    assert not_expanded(GROUP, {"files": ["a.yaml", UNKNOWN]}) == "`files[1]` is unknown until apply"
    objs = [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"}, "spec": {"replicas": UNKNOWN}}]
    assert not_expanded(GROUP, {"objs": objs}) == "`objs[0].spec.replicas` is unknown until apply"
    assert not_expanded(GROUP, {"yaml": DEPLOYMENT, "resourcePrefix": UNKNOWN}) == \
        "`resourcePrefix` is unknown until apply"


def test_secret_texts_and_objects_are_not_expanded_but_a_secret_value_in_an_object_is_kept():
    assert not_expanded(GROUP, {"yaml": SECRET}) == "`yaml` is a secret, whose value a preview does not see"
    assert not_expanded(GROUP, {"objs": [SECRET]}) == "`objs[0]` is a secret, whose value a preview does not see"
    child, = children(GROUP, {"objs": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "m"},
                                        "data": {"k": SECRET}}]})
    assert child.inputs["data"] == {"k": SECRET}


def test_urls_are_not_fetched():
    url = "https://example.com/app.yaml"
    assert not_expanded(GROUP, {"files": [url]}) == (
        f"`files[0]` ({url}) is fetched over the network by the provider, which a preview offline does not do")
    assert not_expanded(FILE, {"file": "http://example.com/a.yaml"}).startswith("`file` (http://example.com/a.yaml)")


def test_a_file_that_cannot_be_read_is_named(tmp_path):
    assert not_expanded(FILE, {"file": "missing.yaml"}, tmp_path) == \
        "file `missing.yaml` cannot be read (FileNotFoundError: No such file or directory)"


def test_manifests_the_provider_rejects_are_not_expanded(tmp_path):
    write(tmp_path, {"bad.yaml": "a: [1\n", "scalar.yaml": DEPLOYMENT + "---\njust text\n"})
    assert not_expanded(FILE, {"file": "bad.yaml"}, tmp_path).startswith("file `bad.yaml` is not valid YAML (")
    assert not_expanded(FILE, {"file": "scalar.yaml"}, tmp_path) == \
        "document 2 of file `scalar.yaml` is not a mapping, which the provider rejects"
    assert not_expanded(GROUP, {"objs": [{"metadata": {"name": "x"}}]}).startswith(
        "an object has no kind and apiVersion (")
    assert not_expanded(GROUP, {"yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"}) == \
        "a ConfigMap has no metadata.name, which the provider rejects"
    assert not_expanded(GROUP, {"yaml": DEPLOYMENT + "---\n" + DEPLOYMENT}) == \
        "two objects would both be kubernetes:apps/v1:Deployment `c:api`, which the engine rejects"


@pytest.mark.parametrize("type_, why", [
    ("kubernetes:helm.sh/v4:Chart", "a Helm chart is rendered by helm inside the provider"),
    ("kubernetes:kustomize/v2:Directory", "a kustomization is built by kustomize inside the provider"),
])
def test_charts_and_kustomizations_say_why_they_are_not_expanded(type_, why):
    assert not_expanded(type_, {"chart": "nginx"}) == why


# --- v1: the SDK's own component, through the decode invoke ---------------------------------------------------

def test_v1_decode_gives_every_object_of_a_multi_document_text_lists_whole_as_the_provider_does():
    text = DEPLOYMENT + "---\n---\napiVersion: v1\nkind: ConfigMapList\nitems:\n" \
                        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"
    assert [o["kind"] for o in decode_yaml({"text": text}, {})["result"]] == ["Deployment", "ConfigMapList"]


def test_v1_decode_reads_yaml_as_the_provider_does():
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndata: {since: 2024-01-31}\n---\nmetadata: {}\n"
    assert decode_yaml({"text": text}, {})["result"] == [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "m"}, "data": {"since": "2024-01-31"}}]


# --- whole programs through the capture and the rules ---------------------------------------------------------

FIXTURE = "k8s_yaml_v2"
URN = "urn:pulumi:dev::tg-k8s-yaml::"
SIZE_IT = "set cpu and memory requests and limits on every container"


@pytest.fixture(scope="module")
def verdict():
    snapshot = captured(FIXTURE)
    return snapshot, evaluate(snapshot)[1]


def test_a_config_file_s_deployment_is_a_child_of_the_config_file(verdict):
    snapshot, _ = verdict
    web = {r.name: r for r in snapshot.resources if r.parent == f"{URN}{FILE}::web"}
    assert sorted((r.type, r.name) for r in web.values()) == [("kubernetes:apps/v1:Deployment", "web:web"),
                                                              ("kubernetes:core/v1:Service", "web:shop/web")]
    deployment = web["web:web"]
    assert deployment.urn == f"{URN}{FILE}$kubernetes:apps/v1:Deployment::web:web"
    assert deployment.inputs["spec"]["replicas"] == 500
    assert deployment.provider.urn == f"{URN}pulumi:providers:kubernetes::default"


def test_the_config_file_s_deployment_is_judged(verdict):
    _, findings = verdict
    urn = f"{URN}{FILE}$kubernetes:apps/v1:Deployment::web:web"
    mine = {(f.rule, f.id, f.enforcement, f.message) for f in findings if f.urn == urn}
    web = "`web:web` (kubernetes:apps/v1:Deployment)"
    assert mine == {
        ("k8s-resource-limits", "TG012", "mandatory",
         f"{web} container `nginx` lacks requests.cpu, requests.memory, limits.cpu, limits.memory; {SIZE_IT}"),
        ("k8s-resource-limits", "TG012", "mandatory",
         f"{web} runs 500 replicas, over the dev cap of 3; set spec.replicas to at most 3 (or scale with an HPA "
         "within the cap) or get a waiver"),
        ("k8s-cost-labels", "TG014", "mandatory",
         f"{web} lacks cost labels team, cost-center; add them to the workload's metadata.labels (pod template "
         "labels alone do not count)"),
    }


def test_a_config_group_registers_its_files_yaml_and_objs(verdict):
    snapshot, findings = verdict
    addons = [(r.type, r.name) for r in snapshot.resources if r.parent == f"{URN}{GROUP}::addons"]
    assert addons == [("kubernetes:core/v1:Namespace", "platform:addons"),
                      ("kubernetes:core/v1:ResourceQuota", "platform:addons/addons-quota"),
                      ("kubernetes:core/v1:LimitRange", "platform:addons/addons-limits"),
                      ("kubernetes:core/v1:ConfigMap", "platform:addons-settings"),
                      ("kubernetes:core/v1:Secret", "platform:addons/addons-token"),
                      ("kubernetes:batch/v1:CronJob", "platform:addons/cleanup")]
    secret, = (r for r in snapshot.resources if r.name == "platform:addons/addons-token")
    assert secret.inputs["stringData"] == SECRET
    # sized, labelled and guarded: the group's objects pass every Kubernetes rule
    assert [f for f in findings if f.name.startswith("platform:")] == []


def test_a_v1_config_file_is_decoded_and_judged(verdict):
    snapshot, findings = verdict
    legacy = [(r.type, r.name) for r in snapshot.resources if r.parent == f"{URN}kubernetes:yaml:ConfigFile::legacy"]
    assert legacy == [("kubernetes:apps/v1:Deployment", "shop/legacy"),
                      ("kubernetes:core/v1:ConfigMap", "shop/legacy-settings")]
    assert {(f.rule, f.message) for f in findings if f.name == "shop/legacy"} == {
        ("k8s-resource-limits", "`shop/legacy` (kubernetes:apps/v1:Deployment) container `app` lacks requests.cpu, "
                                f"requests.memory, limits.cpu, limits.memory; {SIZE_IT}")}


def test_a_helm_chart_is_reported_not_expanded_and_strict_makes_it_mandatory(verdict):
    snapshot, findings = verdict
    urn = f"{URN}kubernetes:helm.sh/v4:Chart::ingress"
    note, = (f for f in findings if f.rule == "not-expanded")
    assert (note.id, note.urn, note.type, note.name, note.source, note.enforcement) == (
        "TG080", urn, "kubernetes:helm.sh/v4:Chart", "ingress", "capture", "advisory")
    assert note.message == (
        "`ingress` (kubernetes:helm.sh/v4:Chart) is built by its provider plugin, which a preview without the Pulumi "
        "CLI cannot run (a Helm chart is rendered by helm inside the provider), so the resources it creates are not "
        "judged here; `pulumi preview --policy-pack` judges them")
    strict = [f for f in judge(snapshot, RuleSet(RULES_DIR), strict=True) if f.rule == "not-expanded"]
    assert [(f.urn, f.enforcement) for f in strict] == [(urn, "mandatory")]


UNSEEN = """
import pulumi_kubernetes as k8s
from pulumi_kubernetes.yaml.v2 import ConfigGroup

cm = k8s.core.v1.ConfigMap("source", data={"replicas": "9"})
ConfigGroup("computed", yaml=cm.id.apply(lambda _: "apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: m}\\n"))
ConfigGroup("placed", objs=[{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"},
                             "spec": {"replicas": 1}}])
"""


def test_the_namespace_config_places_objects_and_unknown_yaml_is_noted(tmp_path):
    snapshot = capture_source(tmp_path, UNSEEN, {"tollgate:environment": "dev", "kubernetes:namespace": "team-a"})
    placed, = (r for r in snapshot.resources if r.parent == "urn:pulumi:dev::inline::" + GROUP + "::placed")
    assert (placed.name, placed.inputs["metadata"]["namespace"]) == ("placed:team-a/api", "team-a")
    note, = snapshot.notes
    assert (note.name, note.type) == ("computed", GROUP)
    assert "(`yaml` is unknown until apply)" in note.message


PROVIDED = """
import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.yaml.v2 import ConfigGroup

team = k8s.Provider("team-b", namespace="team-b")
ConfigGroup("placed", objs=[{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"},
                             "spec": {"replicas": 1}}], opts=pulumi.ResourceOptions(provider=team))
"""


def test_the_components_own_provider_places_objects_and_is_their_provider(tmp_path):
    snapshot = capture_source(tmp_path, PROVIDED, {"tollgate:environment": "dev", "kubernetes:namespace": "team-a"})
    placed, = (r for r in snapshot.resources if r.parent == "urn:pulumi:dev::inline::" + GROUP + "::placed")
    assert (placed.name, placed.inputs["metadata"]["namespace"]) == ("placed:team-b/api", "team-b")
    assert placed.provider.urn == "urn:pulumi:dev::inline::pulumi:providers:kubernetes::team-b"
