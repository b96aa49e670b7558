"""What storage says about how a copy is protected, as read off the store; judged by the checks.

Each store reports its own shape (an S3 bucket's Object Lock is not a GCS retention policy);
the checks dispatch on the shape once. A part that could not be read is ``Unavailable`` with
the reason, so that a denied ``GetBucketLifecycleConfiguration`` is an error, never a pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from drill.model import Unavailable


@dataclass(frozen=True)
class LifecycleRule:
    """A rule that deletes or expires objects, normalised across S3 and GCS, with the raw rule as evidence.

    ``prefix`` None means the rule applies to every object. Days count from the object's
    creation (current versions) or from when it became noncurrent (noncurrent versions).
    """

    rule_id: str
    enabled: bool
    prefix: str | None
    expire_current_days: int | None = None
    expire_noncurrent_days: int | None = None
    expire_on: datetime | None = None  # S3 Expiration.Date: from this date every matching object expires
    delete_created_before: datetime | None = None  # GCS createdBefore: objects created before it are deleted
    conditions_unknown: bool = False  # a filter drill cannot evaluate (tags, sizes): assume it may apply
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ObjectProtection:
    """How one stored object (version) is protected, from a HEAD/metadata read of that object alone."""

    key: str
    size: int
    written_at: datetime
    version_id: str | None = None
    lock_mode: str | None = None  # S3: COMPLIANCE | GOVERNANCE; GCS object retention: Locked | Unlocked
    retain_until: datetime | None = None
    legal_hold: bool = False  # S3 legal hold; GCS event-based or temporary hold
    holds: tuple[str, ...] = ()
    immutable_attribute: bool = False  # filesystem: chattr +i
    checksums: Mapping[str, str] = field(default_factory=dict)  # algorithm -> value as the store spells it


@dataclass(frozen=True)
class DocumentDigest:
    """A bucket policy, ACL or IAM policy reduced to the SHA-256 of its canonical JSON, and its size.

    Canonical: keys sorted and no whitespace, so that only a change of content changes the digest.
    What the document grants is judged by the trust checks; the digest only tells that it changed.
    """

    sha256: str
    entries: int  # statements, grants or bindings
    noun: str  # what an entry is: "statement", "grant", "binding"

    def describe(self) -> str:
        plural = "" if self.entries == 1 else "s"
        return f"{self.entries} {self.noun}{plural}, sha256 {self.sha256[:12]}"


# Parts of a posture that a store did not read (one built by hand, or by an older store).
NOT_READ = Unavailable("This part of the bucket's settings was not read.")


@dataclass(frozen=True)
class S3BucketPosture:
    versioning: str | Unavailable | None  # "Enabled", "Suspended", or None if never enabled
    object_lock_enabled: bool | Unavailable
    default_lock_mode: str | Unavailable | None  # COMPLIANCE | GOVERNANCE | None
    default_lock_days: int | Unavailable | None  # years are converted to 365 days each
    lifecycle: tuple[LifecycleRule, ...] | Unavailable
    policy: DocumentDigest | Unavailable | None = NOT_READ  # None: the bucket has no policy
    acl: DocumentDigest | Unavailable = NOT_READ


@dataclass(frozen=True)
class GcsBucketPosture:
    retention_period_seconds: int | Unavailable | None
    retention_locked: bool | Unavailable
    versioning: bool | Unavailable
    soft_delete_seconds: int | Unavailable | None
    object_retention_enabled: bool | Unavailable
    lifecycle: tuple[LifecycleRule, ...] | Unavailable
    iam_policy: DocumentDigest | Unavailable = NOT_READ


@dataclass(frozen=True)
class FilesystemPosture:
    read_only_mount: bool | Unavailable
    mount_point: str | None


BucketPosture = S3BucketPosture | GcsBucketPosture | FilesystemPosture


@dataclass(frozen=True)
class Sidecar:
    """A checksum file beside a snapshot (``NAME.sha256``): the digest it promises."""

    key: str
    algorithm: str  # sha256 | md5
    digest: str  # lowercase hex
