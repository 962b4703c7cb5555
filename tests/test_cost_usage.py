"""The usage file: where it lives, what it may hold, errors that name the file and line, and how its
entries combine with the usage components record."""

from __future__ import annotations

from pathlib import Path

import pytest

from tollgate.cost import Usage, estimate, load_usage, usage_path
from tollgate.errors import TollgateError
from tollgate.model import Resource, Snapshot

COMPONENT = "urn:pulumi:dev::p::tollgate:components:TieredBucket::lake"
BUCKET = "aws:s3/bucket:Bucket"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "usage.dev.yaml"
    path.write_text(text)
    return path


def test_usage_path_is_beside_the_stack_files():
    assert usage_path(Path("stacks"), "prod") == Path("stacks/usage.prod.yaml")


def test_missing_or_empty_file_is_empty_usage(tmp_path):
    assert load_usage(None).entries == {} and load_usage(tmp_path / "nope.yaml").entries == {}
    assert load_usage(_write(tmp_path, "# nothing yet\n")).entries == {}


def test_entries_by_name_and_urn(tmp_path):
    usage = load_usage(_write(tmp_path, "version: 1\nresource_usage:\n  lake-bucket: {storage_gb: 5120}\n"
                                        f"  '{COMPONENT}':\n    storage_gb: 10\n    objects: 2e6\n"))
    assert usage.entries == {"lake-bucket": {"storage_gb": 5120.0}, COMPONENT: {"storage_gb": 10.0, "objects": 2e6}}
    assert usage.file.endswith("usage.dev.yaml")


@pytest.mark.parametrize("text, line, words", [
    ("resource_usage:\n  lake-bucket:\n    storage_gbs: 5\n", 3, "unknown usage key 'storage_gbs'"),
    ("resource_usage:\n  lake-bucket:\n    storage_gb: lots\n", 3, "must be a non-negative number"),
    ("resource_usage:\n  lake-bucket:\n    storage_gb: -1\n", 3, "must be a non-negative number"),
    ("resource_usage:\n  a: {vcpu_hours: 1}\n  a: {vcpu_hours: 2}\n", 3, "'a' is given twice"),
    ("resources:\n  a: {}\n", 1, "unknown top-level key 'resources'"),
    ("resource_usage: [a, b]\n", 1, "must be a mapping"),
    ("resource_usage:\n  a: {storage_gb: 1\n", 3, "not valid YAML"),
])
def test_malformed_usage_file_names_file_and_line(tmp_path, text, line, words):
    path = _write(tmp_path, text)
    with pytest.raises(TollgateError) as err:
        load_usage(path)
    assert err.value.file == str(path) and err.value.line == line and words in err.value.message
    assert "docs/usage.md" in err.value.fix


def _bucket(name: str, parent: str | None = COMPONENT) -> Resource:
    return Resource(f"urn:pulumi:dev::p::{BUCKET}::{name}", BUCKET, name, True, {}, parent=parent)


def _snapshot(component_usage: dict, buckets: list[Resource]) -> Snapshot:
    component = Resource(COMPONENT, "tollgate:components:TieredBucket", "lake", False, {"usage": component_usage})
    return Snapshot("p", "dev", [component, *buckets])


def test_component_usage_is_shared_by_its_buckets():
    items = estimate(_snapshot({"storage_gb": 1000}, [_bucket("a"), _bucket("b")])).resources
    a, b = items[1], items[2]
    assert a.monthly_usd == pytest.approx(500 * 0.023) == b.monthly_usd     # no lifecycle: all STANDARD
    assert "(component lake, 1/2)" in a.basis


def test_usage_file_beats_component_usage_key_by_key():
    snapshot = _snapshot({"storage_gb": 1000, "data_age_days": 30}, [_bucket("a")])
    item = estimate(snapshot, Usage({"a": {"storage_gb": 10}})).resources[1]
    assert item.monthly_usd == pytest.approx(10 * 0.023) and "10 GB (usage file)" in item.basis


def test_usage_entries_that_match_nothing_are_reported():
    est = estimate(_snapshot({}, [_bucket("a")]), Usage({"a-typo": {"storage_gb": 1}}, "stacks/usage.dev.yaml"))
    assert est.notes == ["usage file entry 'a-typo' matches no resource name or URN (stacks/usage.dev.yaml)"]
    assert not est.resources[1].priced and "expected_gb on its TieredBucket" in est.resources[1].basis
    alone = estimate(Snapshot("p", "dev", [_bucket("b", parent=None)])).resources[0]
    assert not alone.priced and alone.basis == ("no expected storage: set storage_gb for b in usage.dev.yaml (beside "
                                                "Pulumi.dev.yaml)")
    at = estimate(Snapshot("p", "dev", [_bucket("b", parent=None)]), load_usage(Path.cwd() / "stacks/usage.dev.yaml"))
    assert at.resources[0].basis.endswith("set storage_gb for b in stacks/usage.dev.yaml")  # the file it would be
