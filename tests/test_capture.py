"""Capture: what the program registers, recorded as the engine would see it."""

from __future__ import annotations

import json

from tollgate.evaluate import evaluate
from tollgate.model import SECRET_MARKER, UNKNOWN

from conftest import captured


def by_name(snapshot):
    return {r.name: r for r in snapshot.resources}


def test_stack_transform_and_option_transforms_take_effect_as_under_the_engine():
    res = by_name(captured("transforms"))
    full = {"project": "fixture", "environment": "dev", "team": "platform", "cost-center": "cc-1", "owner": "me"}
    assert res["plain"].inputs["tags"] == full
    # The resource's own transform runs first, then the stack transform (which keeps existing tags).
    assert res["vm"].inputs["tags"] == dict(full, owner="option-transform")
    # A component's transform applies to its children, before the stack transform.
    assert res["group-child"].inputs["tags"] == dict(full, owner="option-transform")


def test_legacy_stack_transformation_applies():
    res = by_name(captured("transforms"))
    assert res["plain"].inputs["forceDestroy"] is True
    assert "forceDestroy" not in res["vm"].inputs


def test_resources_tagged_by_transforms_are_not_reported_untagged():
    _, findings = evaluate(captured("transforms"))
    assert [f for f in findings if f.rule == "required-tags"] == []


def test_secrets_are_kept_as_markers_never_as_values():
    snapshot = captured("secrets")
    res = by_name(snapshot)
    assert res["db-password"].inputs["value"] == SECRET_MARKER
    assert res["api-token"].inputs["value"] == SECRET_MARKER
    assert res["plain"].inputs["description"] == "visible-value"  # plain config stays plain
    text = snapshot.to_json()
    for leaked in ("hunter2-plaintext-token", "Q2lwaGVydGV4dE5ldmVyVG9CZVByaW50ZWQ=", "QVdTU2VjcmV0S2V5Q2lwaGVydGV4dA==",
                   "[secret]"):
        assert leaked not in text


def test_secure_provider_config_becomes_a_secret_marker():
    provider = by_name(captured("secrets"))["db-password"].provider
    assert provider.inputs["secretKey"] == SECRET_MARKER
    assert provider.inputs["region"] == "us-east-1"


def test_parents_providers_dependencies_and_positions_are_recorded():
    snapshot = captured("structure", "test")
    res = by_name(snapshot)
    stack_urn = "urn:pulumi:test::fixture-structure::pulumi:pulumi:Stack::fixture-structure-test"
    assert res["lake"].parent == stack_urn and res["lake"].custom is False
    assert res["lake-bucket"].parent == res["lake"].urn
    assert res["lake-bucket"].urn == "urn:pulumi:test::fixture-structure::fixture:index:Lake$aws:s3/bucket:Bucket::lake-bucket"
    # Default provider: one per package and version, configured from the stack's aws:* config (decoded).
    default = res["lake-bucket"].provider
    assert default.urn == "urn:pulumi:test::fixture-structure::pulumi:providers:aws::default_7_51_1"
    assert default.inputs["region"] == "eu-west-1"
    assert default.inputs["defaultTags"] == {"tags": {"team": "from-stack-config"}}
    # Explicit provider: its inputs, with the SDK's JSON-encoded defaultTags decoded.
    pinned = res["pinned"]
    assert pinned.provider.urn == res["explicit"].urn
    assert pinned.provider.inputs["defaultTags"] == {"tags": {"team": "from-provider"}}
    assert pinned.options == {"protect": True}
    # A reference to another resource's output: unknown at preview, with the dependency recorded.
    versioning = res["lake-versioning"]
    assert versioning.inputs["bucket"] == UNKNOWN
    assert versioning.property_dependencies == {"bucket": [res["lake-bucket"].urn]}
    assert res["lake-bucket"].urn in versioning.dependencies
    # Positions: the line that declared it, relative to the project; components' children point into them.
    assert (res["pinned"].source.file, res["pinned"].source.line) == ("src/__main__.py", 17)
    assert (res["lake-bucket"].source.file, res["lake-bucket"].source.line) == ("src/__main__.py", 8)


def test_main_stack_config_dir_and_typed_config_are_honoured():
    res = by_name(captured("structure", "test"))
    # `replicas: 2` from stacks/Pulumi.test.yaml overrides the Pulumi.yaml default of 1.
    assert {"replica-0", "replica-1"} <= res.keys() and "replica-2" not in res


def test_snapshot_round_trips_through_json(tmp_path):
    snapshot = captured("structure", "test")
    path = tmp_path / "snap.json"
    snapshot.write(path)
    doc = json.loads(path.read_text())
    assert set(doc) == {"project", "stack", "environment", "tags", "context_only", "notes", "resources"}
    assert type(snapshot).read(path) == snapshot


def test_a_capture_is_the_same_text_every_run(tmp_path):
    """Registrations reach the monitor from several threads in the order they win; the snapshot lists them in
    one order (each after what it depends on, then by program line and URN), so reports and --snapshot-out
    files do not change from run to run."""
    from conftest import ROOT
    from tollgate.capture.host import capture

    first, second = capture(ROOT, "dev").to_json(), capture(ROOT, "dev").to_json()
    assert first == second
    order = {r["urn"]: i for i, r in enumerate(json.loads(first)["resources"])}
    for r in json.loads(first)["resources"]:
        assert r["parent"] is None or order[r["parent"]] < order[r["urn"]]
