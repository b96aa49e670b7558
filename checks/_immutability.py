"""Whether one copy is proven immutable: shared by the ``immutability`` and ``copies_3_2_1`` checks.

A copy is immutable only with proof read off the store: S3 Object Lock in COMPLIANCE mode on the
bucket and on the object itself, a locked GCS retention policy or locked object retention, or on
a filesystem the immutable attribute or a read-only mount. Anything less is not immutable.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from drill.config import Policy, Target
from drill.durations import format_duration
from drill.facts import (
    BucketPosture,
    FilesystemPosture,
    GcsBucketPosture,
    ObjectProtection,
    S3BucketPosture,
    known,
)
from drill.model import Status

_GOVERNANCE = "GOVERNANCE"
_COMPLIANCE = "COMPLIANCE"


@dataclass(frozen=True)
class S3Protection:
    """An S3 bucket's versioning and Object Lock, and the latest snapshot's own lock when there is one."""

    versioning: str | None
    object_lock: bool
    default_mode: str | None
    default_days: int | None
    required_days: int
    snapshot: str | None = None
    version_id: str | None = None
    object_lock_mode: str | None = None
    retain_until: datetime | None = None
    legal_hold: bool | None = None


@dataclass(frozen=True)
class GcsProtection:
    """A GCS bucket's retention policy, and the latest snapshot's own retention when there is one."""

    retention_period_seconds: int | None
    retention_locked: bool
    versioning: bool | None
    soft_delete_seconds: int | None
    required_seconds: int
    snapshot: str | None = None
    object_retention_mode: str | None = None
    retain_until: datetime | None = None
    holds: tuple[str, ...] = ()


@dataclass(frozen=True)
class FilesystemProtection:
    """A directory's mount, and the latest snapshot's immutable attribute when there is one."""

    read_only_mount: bool
    mount_point: str | None
    declared: bool  # the target is declared immutable in the config
    snapshot: str | None = None
    immutable_attribute: bool | None = None


CopyProtection = S3Protection | GcsProtection | FilesystemProtection


@dataclass
class Judgement:
    """PASS: proven immutable; WARN: only by GOVERNANCE, allowed as a warning; FAIL: not immutable."""

    evidence: CopyProtection
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    proofs: list[str] = field(default_factory=list)
    declared_only: bool = False  # filesystem copy not declared immutable: its absence is no failure

    @property
    def status(self) -> Status:
        if self.problems:
            return Status.FAIL
        return Status.WARN if self.warnings else Status.PASS

    @property
    def proven(self) -> bool:
        return self.status is Status.PASS


def required_days(policy: Policy) -> int:
    return math.ceil(policy.min_retention / timedelta(days=1))


def _governance(judgement: Judgement, what: str, policy: Policy) -> None:
    text = f"{what} is in GOVERNANCE mode, which principals with s3:BypassGovernanceRetention can override"
    if policy.governance_is_warning:
        judgement.warnings.append(text + " (allowed as a warning by governance_is_warning)")
    else:
        judgement.problems.append(text)


def _s3(
    target: Target, posture: S3BucketPosture, protection: ObjectProtection | None, policy: Policy
) -> Judgement:
    versioning = known(posture.versioning)
    lock_enabled = known(posture.object_lock_enabled)
    mode = known(posture.default_lock_mode)
    days = known(posture.default_lock_days)
    needed = required_days(policy)
    judgement = Judgement(
        S3Protection(
            versioning=versioning,
            object_lock=lock_enabled,
            default_mode=mode,
            default_days=days,
            required_days=needed,
            snapshot=protection.key if protection else None,
            version_id=protection.version_id if protection else None,
            object_lock_mode=protection.lock_mode if protection else None,
            retain_until=protection.retain_until if protection else None,
            legal_hold=protection.legal_hold if protection else None,
        )
    )
    if versioning != "Enabled":
        judgement.problems.append(f"bucket {target.bucket} has versioning {versioning or 'never enabled'}")
    if not lock_enabled:
        judgement.problems.append(f"bucket {target.bucket} does not have Object Lock enabled")
    elif mode is None:
        judgement.problems.append(f"bucket {target.bucket} has no default retention rule")
    else:
        if mode == _GOVERNANCE:
            _governance(judgement, f"the default retention of bucket {target.bucket}", policy)
        if days is not None and days < needed:
            judgement.problems.append(
                f"the default retention is {days} days, shorter than the required {needed}"
            )
        if mode == _COMPLIANCE and days is not None and days >= needed:
            judgement.proofs.append(f"default retention COMPLIANCE {days} days")
    if protection is not None:
        _s3_object(judgement, protection, policy)
    return judgement


def _s3_object(judgement: Judgement, protection: ObjectProtection, policy: Policy) -> None:
    if protection.legal_hold:
        judgement.proofs.append(f"legal hold on {protection.key}")
    if protection.lock_mode is None or protection.retain_until is None:
        judgement.problems.append(
            f"the latest snapshot {protection.key} carries no Object Lock retention "
            "(S3 shows it only to callers allowed s3:GetObjectRetention)"
        )
        return
    if protection.lock_mode == _GOVERNANCE:
        _governance(judgement, f"the lock on {protection.key}", policy)
    locked_for = protection.retain_until - protection.written_at
    if locked_for < policy.min_retention:
        judgement.problems.append(
            f"{protection.key} is locked until {protection.retain_until:%Y-%m-%d %H:%M}Z, "
            f"{format_duration(locked_for)} after it was written; {format_duration(policy.min_retention)} required"
        )
    elif protection.lock_mode == _COMPLIANCE:
        judgement.proofs.append(
            f"{protection.key} locked in COMPLIANCE until {protection.retain_until:%Y-%m-%d}"
        )


def _gcs(
    target: Target, posture: GcsBucketPosture, protection: ObjectProtection | None, policy: Policy
) -> Judgement:
    period = known(posture.retention_period_seconds)
    locked = known(posture.retention_locked)
    judgement = Judgement(
        GcsProtection(
            retention_period_seconds=period,
            retention_locked=locked,
            versioning=posture.versioning if isinstance(posture.versioning, bool) else None,
            soft_delete_seconds=posture.soft_delete_seconds
            if isinstance(posture.soft_delete_seconds, int)
            else None,
            required_seconds=int(policy.min_retention.total_seconds()),
            snapshot=protection.key if protection else None,
            object_retention_mode=protection.lock_mode if protection else None,
            retain_until=protection.retain_until if protection else None,
            holds=tuple(protection.holds) if protection else (),
        )
    )
    bucket_proof = period is not None and locked and period >= policy.min_retention.total_seconds()
    if bucket_proof:
        judgement.proofs.append(
            f"locked retention policy of {format_duration(timedelta(seconds=period or 0))}"
        )
    elif protection is not None and _gcs_object_locked(protection, policy):
        judgement.proofs.append(
            f"{protection.key} has Locked object retention until {protection.retain_until}"
        )
    elif period is None:
        judgement.problems.append(
            f"bucket {target.bucket} has no retention policy and the snapshot no locked retention"
        )
    elif not locked:
        judgement.problems.append(
            f"the retention policy of bucket {target.bucket} is not locked; anyone with storage.buckets.update can remove it"
        )
    else:
        judgement.problems.append(
            f"the retention policy of bucket {target.bucket} is {format_duration(timedelta(seconds=period))}, "
            f"shorter than the required {format_duration(policy.min_retention)}"
        )
    return judgement


def _gcs_object_locked(protection: ObjectProtection, policy: Policy) -> bool:
    return (
        protection.lock_mode == "Locked"
        and protection.retain_until is not None
        and protection.retain_until - protection.written_at >= policy.min_retention
    )


def _filesystem(
    target: Target, posture: FilesystemPosture, protection: ObjectProtection | None, policy: Policy
) -> Judgement:
    read_only = known(posture.read_only_mount)
    judgement = Judgement(
        FilesystemProtection(
            read_only_mount=read_only,
            mount_point=posture.mount_point,
            declared=target.immutable,
            snapshot=protection.key if protection else None,
            immutable_attribute=protection.immutable_attribute if protection else None,
        ),
        declared_only=not target.immutable,
    )
    if read_only:
        judgement.proofs.append(f"{posture.mount_point} is mounted read-only")
    if protection is not None and protection.immutable_attribute:
        judgement.proofs.append(f"{protection.key} has the immutable attribute")
    if not judgement.proofs:
        judgement.problems.append(
            f"{target.path} is a writable mount and the latest snapshot lacks the immutable attribute"
        )
    return judgement


_JUDGES: dict[type, Callable[[Target, Any, ObjectProtection | None, Policy], Judgement]] = {
    S3BucketPosture: _s3,
    GcsBucketPosture: _gcs,
    FilesystemPosture: _filesystem,
}


def judge(
    target: Target, posture: BucketPosture, protection: ObjectProtection | None, policy: Policy
) -> Judgement:
    """Judge one copy: the bucket (or directory) and, when there is one, its latest snapshot."""
    return _JUDGES[type(posture)](target, posture, protection, policy)
