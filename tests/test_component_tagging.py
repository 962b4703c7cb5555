"""Tagging: tag-set validation, merging and the transform in plain Python; under the SDK mocks, the same
program with and without Tagging (required-tags passes only with it) and a stack whose tollgate:tags is wrong."""

from __future__ import annotations

import asyncio

import pulumi
import pytest

from conftest import capture_source
from tollgate.errors import TollgateError
from tollgate.evaluate import evaluate

from tollgate_components import tagging as tagging_module
from tollgate_components.tagging import Tagging, check_tags

TAGS = {"project": "tollgate", "environment": "dev", "team": "data", "cost-center": "cc-7", "owner": "data@example.com"}
PROGRAM = """
import pulumi, pulumi_aws as aws
{setup}
aws.s3.Bucket("plain")  # default provider, no tags
aws.s3.Bucket("own", tags={{"owner": "lake@example.com", "purpose": "lake"}})
aws.s3.Bucket("blank", tags={{"team": " "}})
aws.iam.Role("role", assume_role_policy="{{}}")
aws.s3.BucketPolicy("policy", bucket="b", policy="{{}}")  # not taggable
aws.s3.Bucket("explicit", opts={opts})
"""
WITH = PROGRAM.format(setup="from tollgate_components.tagging import Tagging\ntagging = Tagging.from_config()\n"
                            "assert Tagging.from_config() is tagging",
                      opts="tagging.resource_options()")
WITHOUT = PROGRAM.format(setup="", opts="None")


@pytest.fixture(scope="module")
def tagged(tmp_path_factory):
    return capture_source(tmp_path_factory.mktemp("tagged"), WITH, {"tollgate:tags": TAGS})


@pytest.fixture(scope="module")
def untagged(tmp_path_factory):
    return capture_source(tmp_path_factory.mktemp("untagged"), WITHOUT, {"tollgate:tags": TAGS})


def _named(snapshot):
    return {r.name: r for r in snapshot.resources}


def test_transform_tags_default_provider_resources_and_keeps_their_own_values(tagged):
    names = _named(tagged)
    assert names["plain"].inputs["tags"] == TAGS
    assert names["own"].inputs["tags"] == {**TAGS, "owner": "lake@example.com", "purpose": "lake"}
    assert names["blank"].inputs["tags"] == TAGS  # a blank value counts as missing
    assert names["role"].inputs["tags"] == TAGS
    assert "tags" not in names["policy"].inputs


def test_explicit_provider_carries_the_tags_as_default_tags(tagged):
    names = _named(tagged)
    provider = names["tagged-aws"]
    assert provider.type == "pulumi:providers:aws"
    assert provider.inputs["defaultTags"] == {"tags": TAGS}
    assert provider.inputs["region"] == "us-east-1"
    explicit = names["explicit"]
    assert explicit.provider.urn == provider.urn
    assert "tags" not in explicit.inputs  # the provider's default tags cover it: no duplicates in its diff


def test_tagging_passes_required_tags_and_its_absence_does_not(tagged, untagged):
    # Only required-tags: the bare buckets here are meant to lack a lifecycle (that is TieredBucket's job).
    assert [f for f in evaluate(tagged)[1] if f.rule == "required-tags"] == []
    flagged = {f.name for f in evaluate(untagged)[1] if f.rule == "required-tags" and f.enforcement == "mandatory"}
    assert flagged == {"plain", "own", "blank", "role", "explicit"}


def test_wrong_stack_tags_fail_the_program_naming_the_config_key(tmp_path):
    with pytest.raises(TollgateError, match=r"tollgate:tags: missing or empty required tag\(s\) team, owner"):
        capture_source(tmp_path, WITH, {"tollgate:tags": {**TAGS, "team": "", "owner": None}})


@pytest.mark.parametrize("tags, problem", [
    ({k: v for k, v in TAGS.items() if k != "cost-center"}, r"required tag\(s\) cost-center;"),
    ({**TAGS, "owner": "  "}, r"required tag\(s\) owner;"),
    ({**TAGS, "environment": "qa"}, r"environment is 'qa'; use one of dev, staging, prod"),
    ({**TAGS, "cost-center": 1234}, r"cost-center need a string value"),
    ({**TAGS, "aws:createdBy": "me"}, r"aws:createdBy need a string value .* 'aws:'"),
    (["project", "dev"], r"must be an object"),
])
def test_invalid_tag_sets_name_the_config_key_and_the_tag(tags, problem):
    with pytest.raises(ValueError, match=rf"^tollgate:tags: .*{problem}"):
        check_tags(tags)


def test_tags_for_merges_and_stays_valid():
    tagging = Tagging(TAGS)
    assert tagging.tags_for({"team": "ml", "purpose": "training"}) == {**TAGS, "team": "ml", "purpose": "training"}
    assert tagging.tags_for() == TAGS
    with pytest.raises(ValueError, match=r"^Tagging.tags_for: environment is 'test'"):
        tagging.tags_for({"environment": "test"})


def test_merge_fills_maps_and_autoscaling_tag_lists():
    tagging = Tagging(TAGS)
    assert tagging.merge("aws:s3/bucket:Bucket", None) == TAGS
    assert tagging.merge("aws:s3/bucket:Bucket", {"team": "ml", "owner": ""}) == {**TAGS, "team": "ml"}
    asg = tagging.merge("aws:autoscaling/group:Group", [{"key": "team", "value": "ml", "propagateAtLaunch": False},
                                                        {"key": "owner", "value": "", "propagateAtLaunch": True}])
    assert asg[0] == {"key": "team", "value": "ml", "propagateAtLaunch": False}
    assert {t["key"]: t["value"] for t in asg} == {**TAGS, "team": "ml"}
    assert all(t["propagateAtLaunch"] for t in asg[1:])  # instances the group launches are tagged too


def test_transform_skips_what_it_must_not_tag():
    tagging = Tagging(TAGS)

    def run(type_, custom=True, props=None):
        args = pulumi.ResourceTransformArgs(custom, type_, "r", props or {}, pulumi.ResourceOptions())
        return asyncio.run(tagging.transform(args))

    assert run("aws:s3/bucket:Bucket", props={"bucket": "b"}).props == {"bucket": "b", "tags": TAGS}
    assert run("aws:s3/bucketPolicy:BucketPolicy") is None  # accepts no tags
    assert run("kubernetes:core/v1:Namespace") is None
    assert run("aws:s3/bucket:Bucket", custom=False) is None


def test_from_config_registers_the_transform_once(monkeypatch):
    registered = []
    monkeypatch.setattr(tagging_module, "_stack_tagging", None)
    monkeypatch.setattr(pulumi.runtime, "register_resource_transform", registered.append)
    monkeypatch.setattr(pulumi.Config, "require_object", lambda self, key: TAGS if key == "tags" else None)
    first = Tagging.from_config()
    assert Tagging.from_config() is first
    assert registered == [first.transform]
    first.register_transform()
    assert len(registered) == 1
