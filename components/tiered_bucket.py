"""TieredBucket: a private, encrypted, versioned S3 bucket whose objects get cheaper as they age and then expire.

    TieredBucket("raw", TieredBucketArgs.raw_data(retention_days=730), opts=tagging.resource_options())

The presets follow a common data-lake pattern: warm after 30 days, cold after 90, archived after 180, deleted
after a year; Intelligent-Tiering where access is unpredictable (old experiments). S3's own rules are checked up front, so
`pulumi up` never fails half-way on a rejected lifecycle configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Mapping, Optional

import pulumi
import pulumi_aws as aws

from .catalog import check_usage, usage_props

# S3's minimum storage durations. For STANDARD_IA S3 rejects a shorter stay (first transition >= 30 days,
# next one >= 30 days later); for the Glacier classes it bills the full minimum, so a shorter stay pays
# for storage nobody uses and the step is only worth it when objects stay that long.
MIN_DAYS = {"STANDARD_IA": 30, "GLACIER_IR": 90, "GLACIER": 90, "DEEP_ARCHIVE": 180}
IT_ARCHIVE_DAYS = (90, 730)  # Intelligent-Tiering ARCHIVE_ACCESS bounds (S3)
IT_DEEP_ARCHIVE_DAYS = (180, 730)  # DEEP_ARCHIVE_ACCESS bounds (S3)


class Tiering(str, Enum):
    FIXED = "fixed"
    """STANDARD -> STANDARD_IA -> archive class -> DEEP_ARCHIVE at fixed ages (the default)."""
    INTELLIGENT = "intelligent"
    """S3 Intelligent-Tiering from day 0: S3 moves each object by its own access pattern; for data whose
    access is unpredictable (no retrieval fees, a small monitoring fee per object)."""
    NONE = "none"
    """No transitions and no expiry: everything stays in S3 Standard forever. The expensive choice; the
    bucket-lifecycle guardrail (TG008) reports it. The day-count fields and retention_days are ignored;
    incomplete uploads and old versions are still cleaned up."""


class ArchiveClass(str, Enum):
    GLACIER_IR = "GLACIER_IR"
    """Glacier Instant Retrieval: millisecond reads, so archived data stays usable (the default)."""
    GLACIER = "GLACIER"
    """Glacier Flexible Retrieval: cheaper storage, but reads need a restore of minutes to hours."""


def _fail(field_name: str, problem: str) -> ValueError:
    return ValueError(f"TieredBucketArgs.{field_name}: {problem}")


def _check_days(field_name: str, value: Any, minimum: int, optional: bool = True) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(field_name, f"must be a whole number of days >= {minimum}"
                                f"{' or None to skip it' if optional else ''}, got {value!r}")


def _choice(field_name: str, enum: type[Enum], value: Any) -> Any:
    """The enum member for a member or its value (stack config gives strings such as "intelligent")."""
    try:
        return enum(value)
    except ValueError:
        raise _fail(field_name, f"must be one of {', '.join(repr(m.value) for m in enum)}, got {value!r}") from None


def _with_data_class(data_class: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """A preset's overrides, its bucket tagged with the data class (cost reports per class of data)."""
    return {**overrides, "tags": {"data-class": data_class, **overrides.get("tags", {})}}


@dataclass
class TieredBucketArgs:
    tiering: Tiering = Tiering.FIXED
    """How objects move to cheaper storage; Tiering.NONE (no lifecycle savings) must be asked for."""
    standard_ia_days: Optional[int] = 30
    """FIXED: age (days) at which objects move to STANDARD_IA (S3: >= 30); None skips the step."""
    archive_days: Optional[int] = 90
    """FIXED: age at which objects move to archive_class (>= standard_ia_days + 30); None skips it."""
    archive_class: ArchiveClass = ArchiveClass.GLACIER_IR
    """FIXED: the archive storage class; GLACIER (Flexible Retrieval) needs restores before reads."""
    deep_archive_days: Optional[int] = 180
    """FIXED: age at which objects move to DEEP_ARCHIVE (>= archive_days + 90: Glacier bills 90 days
    minimum); None skips it."""
    retention_days: Optional[int] = 365
    """Age at which objects expire (deleted; in a versioned bucket they become noncurrent first), after the
    last transition plus its class's minimum stay (DEEP_ARCHIVE: 180 days); None keeps objects forever."""
    abort_multipart_days: int = 7
    """Days after which S3 removes the parts of an unfinished multipart upload (invisible, but billed)."""
    noncurrent_expiration_days: int = 30
    """Days after which a replaced or deleted object version is removed."""
    noncurrent_versions_kept: Optional[int] = None
    """How many newest noncurrent versions survive noncurrent_expiration_days (1..100); None keeps none."""
    intelligent_archive_days: Optional[int] = None
    """INTELLIGENT: days without access before the asynchronous Archive Access tier (90..730); reads then
    need a restore, so it is off unless asked for."""
    intelligent_deep_archive_days: Optional[int] = None
    """INTELLIGENT: days without access before the Deep Archive Access tier (180..730, > archive)."""
    versioning: bool = True
    """Keep previous versions of overwritten or deleted objects (expired after noncurrent_expiration_days)."""
    kms_key_id: Optional[pulumi.Input[str]] = None
    """Encrypt with this KMS key (with an S3 Bucket Key, which cuts KMS request cost); default SSE-S3 AES256."""
    force_destroy: bool = False
    """Let `pulumi destroy` delete a bucket that still holds objects (dev and test stacks only)."""
    tags: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Extra tags on the bucket, on top of the stack's tag set (e.g. {"data-class": "raw"})."""
    expected_gb: Optional[float] = None
    """GB the bucket holds at steady state; recorded (as the component's `usage`) for the cost estimate."""

    def __post_init__(self) -> None:
        check_usage("TieredBucketArgs", "expected_gb", self.expected_gb)
        self.tiering = _choice("tiering", Tiering, self.tiering)
        self.archive_class = _choice("archive_class", ArchiveClass, self.archive_class)
        _check_days("abort_multipart_days", self.abort_multipart_days, 1, optional=False)
        _check_days("noncurrent_expiration_days", self.noncurrent_expiration_days, 1, optional=False)
        _check_days("noncurrent_versions_kept", self.noncurrent_versions_kept, 1)
        if self.noncurrent_versions_kept is not None and self.noncurrent_versions_kept > 100:
            raise _fail("noncurrent_versions_kept", f"S3 keeps at most 100, got {self.noncurrent_versions_kept}")
        _check_days("retention_days", self.retention_days, 1)
        if self.tiering is Tiering.FIXED:
            self._check_fixed()
        elif self.tiering is Tiering.INTELLIGENT:
            self._check_intelligent()

    def transitions(self) -> list[tuple[int, str]]:
        """(age in days, storage class) in order, as the lifecycle rule will hold them."""
        if self.tiering is Tiering.INTELLIGENT:
            return [(0, "INTELLIGENT_TIERING")]
        if self.tiering is Tiering.NONE:
            return []
        steps = [(self.standard_ia_days, "STANDARD_IA"), (self.archive_days, self.archive_class.value),
                 (self.deep_archive_days, "DEEP_ARCHIVE")]
        return [(days, cls) for days, cls in steps if days is not None]

    def _check_fixed(self) -> None:
        _check_days("standard_ia_days", self.standard_ia_days, 30)  # S3 rejects STANDARD_IA before day 30
        _check_days("archive_days", self.archive_days, 0)
        _check_days("deep_archive_days", self.deep_archive_days, 0)
        names = {"GLACIER_IR": "archive_days", "GLACIER": "archive_days", "DEEP_ARCHIVE": "deep_archive_days",
                 "EXPIRED": "retention_days"}
        steps = self.transitions()
        if self.retention_days is not None:
            steps.append((self.retention_days, "EXPIRED"))
        if not steps:
            raise _fail("tiering", "FIXED with no transition and no retention_days does nothing; set one, "
                                   "or ask for Tiering.NONE explicitly")
        # Each step must leave objects in the previous class for that class's minimum stay (which also puts
        # the steps in increasing order).
        for (before, cls), (days, nxt) in zip(steps, steps[1:]):
            if days < before + MIN_DAYS[cls]:
                why = "S3 rejects less" if cls == "STANDARD_IA" else "S3 bills that minimum anyway"
                raise _fail(names[nxt], f"{days} is too early: objects reach {cls} at day {before} and must stay "
                                        f"there {MIN_DAYS[cls]} days ({why}); use >= {before + MIN_DAYS[cls]} "
                                        f"or drop a step (None)")

    def _check_intelligent(self) -> None:
        archive, deep = self.intelligent_archive_days, self.intelligent_deep_archive_days
        for name, days, (low, high) in (("intelligent_archive_days", archive, IT_ARCHIVE_DAYS),
                                        ("intelligent_deep_archive_days", deep, IT_DEEP_ARCHIVE_DAYS)):
            _check_days(name, days, low)
            if days is not None and days > high:
                raise _fail(name, f"S3 allows {low}..{high} days, got {days}")
        if archive is not None and deep is not None and deep <= archive:
            raise _fail("intelligent_deep_archive_days", f"must be later than intelligent_archive_days ({archive}), "
                                                         f"got {deep}")

    # Presets for the three data classes of a data lake; every field can still be overridden.
    @classmethod
    def raw_data(cls, **overrides: Any) -> "TieredBucketArgs":
        """Raw data: warm (STANDARD_IA) at 30 days, cold at 90, DEEP_ARCHIVE at 180, deleted after a year
        (30 days, not fewer: S3 refuses a STANDARD_IA transition before an object is 30 days old)."""
        return cls(**{"standard_ia_days": 30, "archive_days": 90, "deep_archive_days": 180,
                      "retention_days": 365, **_with_data_class("raw", overrides)})

    @classmethod
    def processed_features(cls, **overrides: Any) -> "TieredBucketArgs":
        """Processed features: hot for 30 days, warm until 90, then Glacier IR; no DEEP_ARCHIVE and
        deleted after a year, since features can be recomputed from the raw data they came from."""
        return cls(**{"standard_ia_days": 30, "archive_days": 90, "deep_archive_days": None,
                      "retention_days": 365, **_with_data_class("features", overrides)})

    @classmethod
    def model_artifacts(cls, **overrides: Any) -> "TieredBucketArgs":
        """Model artifacts: Intelligent-Tiering (old experiments are read rarely and unpredictably), so the production model stays
        hot while it is read, whatever its age; never expired; the 5 latest versions of a key kept (the current
        one and 4 noncurrent)."""
        return cls(**{"tiering": Tiering.INTELLIGENT, "retention_days": None, "noncurrent_versions_kept": 4,
                      **_with_data_class("model-artifacts", overrides)})


def _lifecycle_rules(args: TieredBucketArgs) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    """Two rules over the whole bucket (empty filter): "tiering" moves and expires current objects,
    "cleanup" removes what is billed but never read (unfinished multipart uploads, old versions).
    Tiering.NONE keeps only "cleanup"."""
    everything = aws.s3.BucketLifecycleConfigurationRuleFilterArgs()
    abort = aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
        days_after_initiation=args.abort_multipart_days)
    # Kept without versioning too: a bucket whose versioning was suspended still holds old versions.
    noncurrent = aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
        noncurrent_days=args.noncurrent_expiration_days, newer_noncurrent_versions=args.noncurrent_versions_kept)
    rules = [aws.s3.BucketLifecycleConfigurationRuleArgs(id="cleanup", status="Enabled", filter=everything,
                                                         abort_incomplete_multipart_upload=abort,
                                                         noncurrent_version_expiration=noncurrent)]
    if args.tiering is Tiering.NONE:
        return rules
    expiration = None
    if args.retention_days is not None:
        expiration = aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.retention_days)
    transitions = [aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(days=days, storage_class=cls)
                   for days, cls in args.transitions()]
    rules.insert(0, aws.s3.BucketLifecycleConfigurationRuleArgs(
        id="tiering", status="Enabled", filter=everything, transitions=transitions or None, expiration=expiration))
    return rules


def _encryption_rule(args: TieredBucketArgs) -> aws.s3.BucketServerSideEncryptionConfigurationRuleArgs:
    """SSE-S3 (AES256) by default; with a KMS key also an S3 Bucket Key: one data key per bucket instead of
    a KMS request (billed) per object."""
    kms = args.kms_key_id is not None
    default = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
        sse_algorithm="aws:kms" if kms else "AES256", kms_master_key_id=args.kms_key_id)
    return aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
        apply_server_side_encryption_by_default=default, bucket_key_enabled=True if kms else None)


class TieredBucket(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    bucket_name: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: TieredBucketArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("tollgate:components:TieredBucket", name, usage_props(storage_gb=args.expected_gb), opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(f"{name}-bucket", force_destroy=args.force_destroy,
                                    tags=dict(args.tags) or None,  # the stack's tags come from Tagging
                                    opts=child)
        bucket = self.bucket.id
        aws.s3.BucketPublicAccessBlock(f"{name}-public-access", bucket=bucket, block_public_acls=True,
                                       block_public_policy=True, ignore_public_acls=True,
                                       restrict_public_buckets=True, opts=child)
        # ACLs off: access is decided by policies alone, and the bucket owner owns every object.
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership", bucket=bucket, opts=child,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"))
        aws.s3.BucketServerSideEncryptionConfiguration(f"{name}-encryption", bucket=bucket,
                                                       rules=[_encryption_rule(args)], opts=child)
        lifecycle_opts = child
        if args.versioning:
            versioning = aws.s3.BucketVersioning(
                f"{name}-versioning", bucket=bucket, opts=child,
                versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"))
            # The provider's advice: a lifecycle with noncurrent-version rules waits for versioning.
            lifecycle_opts = pulumi.ResourceOptions(parent=self, depends_on=[versioning])
        aws.s3.BucketLifecycleConfiguration(f"{name}-lifecycle", bucket=bucket, rules=_lifecycle_rules(args),
                                            opts=lifecycle_opts)
        if args.tiering is Tiering.INTELLIGENT:
            self._archive_tiers(name, args)
        self.bucket_name = self.bucket.bucket
        self.arn = self.bucket.arn
        self.register_outputs({"bucket": self.bucket, "bucket_name": self.bucket_name, "arn": self.arn})

    def _archive_tiers(self, name: str, args: TieredBucketArgs) -> None:
        """The optional asynchronous archive tiers of Intelligent-Tiering (the instant tiers need no setup)."""
        tiers = [aws.s3.BucketIntelligentTieringConfigurationTieringArgs(access_tier=tier, days=days)
                 for tier, days in (("ARCHIVE_ACCESS", args.intelligent_archive_days),
                                    ("DEEP_ARCHIVE_ACCESS", args.intelligent_deep_archive_days)) if days is not None]
        if tiers:
            aws.s3.BucketIntelligentTieringConfiguration(f"{name}-archive-tiers", bucket=self.bucket.id,
                                                         name="archive", status="Enabled", tierings=tiers,
                                                         opts=pulumi.ResourceOptions(parent=self))
