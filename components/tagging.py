"""Tagging: the stack's required tag set (config `tollgate:tags`), in one place, on every taggable AWS resource.

    tagging = Tagging.from_config()        # validates tollgate:tags, registers the stack transform once
    opts = tagging.resource_options()      # the "tagged-aws" provider, whose default tags carry the set
    TieredBucket("raw", TieredBucketArgs.raw_data(), opts=opts)
    aws.s3.Bucket("logs")                  # default provider: the transform still tags it

Two mechanisms, because each misses something: provider default tags only reach resources created with
that provider, and the transform only sees types it knows (tollgate/data/aws-taggable-types.json).

Tagging is a plain class, not a ComponentResource: tags are not a cloud resource, a component parent would
change the provider's URN, and the transform is stack-wide, not scoped to a component's children.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Optional

import pulumi
import pulumi_aws as aws

from tollgate.bundled import DATA_DIR, RULES_DIR

CONFIG_KEY = "tollgate:tags"
TAGGABLE_TYPES = DATA_DIR / "aws-taggable-types.json"
# The required-tags guardrail's own defaults (TG001), so the component and the rule cannot drift apart.
_RULE = json.loads((RULES_DIR / "data.json").read_text(encoding="utf-8"))["config"]["required-tags"]
REQUIRED, ENVIRONMENTS = tuple(_RULE["tags"]), tuple(_RULE["environments"])
LIST_TAGGED = {"aws:autoscaling/group:Group"}  # tags as [{key, value, propagateAtLaunch}], not a map

_stack_tagging: Optional["Tagging"] = None  # the one Tagging whose transform is registered in this program


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def check_tags(tags: Any, where: str = CONFIG_KEY) -> dict[str, str]:
    """The tag set, or a ValueError naming the config key and the tag to fix."""
    if not isinstance(tags, Mapping):
        raise ValueError(f"{where}: must be an object of tag names to values, got {tags!r}")
    missing = [k for k in REQUIRED if _blank(tags.get(k))]
    if missing:
        raise ValueError(f"{where}: missing or empty required tag(s) {', '.join(missing)}; "
                         f"every stack sets {', '.join(REQUIRED)}")
    if tags["environment"] not in ENVIRONMENTS:
        raise ValueError(f"{where}: environment is {tags['environment']!r}; use one of {', '.join(ENVIRONMENTS)}")
    bad = [k for k, v in tags.items() if not isinstance(k, str) or k.startswith("aws:") or not isinstance(v, str)]
    if bad:
        raise ValueError(f"{where}: tag(s) {', '.join(map(str, bad))} need a string value (quote numbers in YAML) "
                         f"and a name not starting with 'aws:' (reserved by AWS)")
    return dict(tags)


def taggable_types() -> frozenset[str]:
    return frozenset(json.loads(TAGGABLE_TYPES.read_text(encoding="utf-8"))["types"])


class Tagging:
    def __init__(self, tags: Mapping[str, str], provider_name: str = "tagged-aws", **provider_args: Any):
        """`tags`: the stack's tag set (validated). `provider_args`: extra aws.Provider arguments (an explicit
        provider does not read the stack's aws:* config; only aws:region is passed on by default)."""
        self.tags = check_tags(tags)
        self._provider_name, self._provider_args = provider_name, provider_args
        self._provider: Optional[aws.Provider] = None
        self._types = taggable_types()
        self._registered = False

    @classmethod
    def from_config(cls, **provider_args: Any) -> "Tagging":
        """The stack's Tagging from `tollgate:tags`, its transform registered; later calls return the same one."""
        global _stack_tagging
        if _stack_tagging is None:
            tagging = cls(pulumi.Config("tollgate").require_object("tags"), **provider_args)
            tagging.register_transform()
            _stack_tagging = tagging
        return _stack_tagging

    @property
    def provider(self) -> aws.Provider:
        """An AWS provider whose default tags are the tag set (created on first use, once)."""
        if self._provider is None:
            args = {"region": aws.config.region, **self._provider_args}
            self._provider = aws.Provider(self._provider_name, **args,
                                          default_tags=aws.ProviderDefaultTagsArgs(tags=self.tags))
        return self._provider

    def resource_options(self, **options: Any) -> pulumi.ResourceOptions:
        """ResourceOptions using the tagged provider (plus any other options given)."""
        return pulumi.ResourceOptions(provider=self.provider, **options)

    def tags_for(self, extra: Optional[Mapping[str, str]] = None) -> dict[str, str]:
        """The tag set with `extra` on top (extra wins), still a valid required tag set."""
        return check_tags({**self.tags, **(extra or {})}, where="Tagging.tags_for")

    def register_transform(self) -> None:
        """Register the stack transform (once) that tags resources the tagged provider does not create."""
        if not self._registered:
            pulumi.runtime.register_resource_transform(self.transform)
            self._registered = True

    async def transform(self, args: pulumi.ResourceTransformArgs) -> Optional[pulumi.ResourceTransformResult]:
        """The stack transform: fills in the tag set on a taggable AWS resource (async: it awaits provider URNs)."""
        if args.type_ not in self._types or not args.custom:
            return None
        # The tagged provider's default tags already cover its resources: no duplicate tags in their diffs.
        # Not Auto Scaling groups: the provider's default tags never reach them (nor their instances).
        if self._provider is not None and args.opts.provider is not None and args.type_ not in LIST_TAGGED:
            if await args.opts.provider.urn.future() == await self._provider.urn.future():
                return None
        tags = self.merge(args.type_, args.props.get("tags"))
        return pulumi.ResourceTransformResult(props={**args.props, "tags": tags}, opts=args.opts)

    def merge(self, type_: str, own: Any) -> Any:
        """A resource's tags with the tag set's keys it lacks (or left blank) filled in; its own values win."""
        if isinstance(own, pulumi.Output):
            return own.apply(lambda value: self.merge(type_, value))
        if type_ in LIST_TAGGED or isinstance(own, list):
            kept = [t for t in own or [] if not _blank(t.get("value"))]
            present = {t.get("key") for t in kept}
            # propagateAtLaunch: the instances the group launches carry the cost tags too.
            return [*kept, *({"key": k, "value": v, "propagateAtLaunch": True}
                             for k, v in self.tags.items() if k not in present)]
        own = dict(own or {})
        return {**self.tags, **{k: v for k, v in own.items() if not _blank(v)}}
