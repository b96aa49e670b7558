"""Builders of config models and facts for tests that judge checks without any storage."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from drill.config import Database, Policy, Target, TargetType
from drill.facts import (
    BucketPosture,
    DatabaseFacts,
    DatabaseTargetFacts,
    FilesystemPosture,
    GcsBucketPosture,
    LifecycleRule,
    ObjectProtection,
    S3BucketPosture,
    Sidecar,
    SnapshotListing,
    TargetFacts,
    Unavailable,
)
from drill.model import Checksum, Snapshot

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def target(name: str = "vault", **overrides: Any) -> Target:
    fields: dict[str, Any] = {
        "name": name,
        "type": TargetType.S3,
        "bucket": f"{name}-bucket",
        "site": "aws:1:eu",
    }
    if overrides.get("type") is TargetType.FILESYSTEM:
        fields.pop("bucket")
        fields["path"] = f"/backups/{name}"
    fields.update(overrides)
    return Target(**fields)


def database(name: str = "orders", targets: tuple[str, ...] = ("vault",), **overrides: Any) -> Database:
    fields: dict[str, Any] = {
        "name": name,
        "site": "prod",
        "targets": targets,
        "snapshot_pattern": f"{name}/*.dump",
    }
    fields.update(overrides)
    return Database(**fields)


def snapshot(
    key: str = "orders/orders-1.dump",
    *,
    age: timedelta = timedelta(hours=1),
    size: int = 1_000_000,
    checksums: tuple[Checksum, ...] = (),
) -> Snapshot:
    return Snapshot(key=key, size=size, created_at=NOW - age, checksums=checksums)


def listing(*snapshots: Snapshot, pattern: str = "orders/*.dump") -> SnapshotListing:
    newest = tuple(sorted(snapshots, key=lambda s: (s.created_at, s.key), reverse=True))
    return SnapshotListing(pattern=pattern, count=len(snapshots), newest=newest)


def database_target_facts(
    found: SnapshotListing | Unavailable,
    *,
    policy: Policy | None = None,
    target_model: Target | None = None,
    database_model: Database | None = None,
) -> DatabaseTargetFacts:
    return DatabaseTargetFacts(
        database=database_model or database(),
        target=target_model or target(),
        policy=policy or Policy(),
        now=NOW,
        listing=found,
    )


def target_facts(target_model: Target | None = None, policy: Policy | None = None) -> TargetFacts:
    return TargetFacts(target=target_model or target(), policy=policy or Policy(), now=NOW)


def database_facts(*copies: DatabaseTargetFacts, policy: Policy | None = None) -> DatabaseFacts:
    database_model = copies[0].database if copies else database()
    return DatabaseFacts(database=database_model, policy=policy or Policy(), now=NOW, copies=copies)


# Lifecycle and posture builders for retention_lifecycle; the raw rules are shaped as each store returns them.


def lifecycle_rule(
    rule_id: str = "expire-snapshots",
    *,
    prefix: str | None = None,
    current_days: int | None = None,
    noncurrent_days: int | None = None,
    expire_on: datetime | None = None,
    enabled: bool = True,
    conditions_unknown: bool = False,
) -> LifecycleRule:
    """An S3 lifecycle rule (Expiration, NoncurrentVersionExpiration) with its raw configuration."""
    raw: dict[str, Any] = {
        "ID": rule_id,
        "Status": "Enabled" if enabled else "Disabled",
        "Filter": {"Prefix": prefix or ""},
    }
    if current_days is not None:
        raw["Expiration"] = {"Days": current_days}
    if expire_on is not None:
        raw["Expiration"] = {"Date": expire_on.isoformat()}
    if noncurrent_days is not None:
        raw["NoncurrentVersionExpiration"] = {"NoncurrentDays": noncurrent_days}
    if conditions_unknown:
        raw["Filter"] = {"And": {"Prefix": prefix or "", "Tags": [{"Key": "tier", "Value": "cold"}]}}
    return LifecycleRule(
        rule_id=rule_id,
        enabled=enabled,
        prefix=prefix,
        expire_current_days=current_days,
        expire_noncurrent_days=noncurrent_days,
        expire_on=expire_on,
        conditions_unknown=conditions_unknown,
        raw=raw,
    )


def gcs_lifecycle_rule(
    rule_id: str = "lifecycle[0]",
    *,
    prefix: str | None = None,
    age_days: int | None = None,
    noncurrent_days: int | None = None,
    created_before: datetime | None = None,
) -> LifecycleRule:
    """A GCS lifecycle Delete rule (condition age, daysSinceNoncurrentTime or createdBefore), raw included."""
    condition: dict[str, Any] = {}
    if created_before is not None:
        condition["createdBefore"] = f"{created_before:%Y-%m-%d}"
    if age_days is not None:
        condition["age"] = age_days
    if noncurrent_days is not None:
        condition["daysSinceNoncurrentTime"] = noncurrent_days
    if prefix:
        condition["matchesPrefix"] = [prefix]
    return LifecycleRule(
        rule_id=rule_id,
        enabled=True,
        prefix=prefix,
        expire_current_days=age_days,
        expire_noncurrent_days=noncurrent_days,
        delete_created_before=created_before,
        raw={"action": {"type": "Delete"}, "condition": condition},
    )


def s3_lifecycle_posture(*rules: LifecycleRule) -> S3BucketPosture:
    return S3BucketPosture(
        versioning="Enabled",
        object_lock_enabled=True,
        default_lock_mode="COMPLIANCE",
        default_lock_days=30,
        lifecycle=rules,
    )


def gcs_lifecycle_posture(*rules: LifecycleRule) -> GcsBucketPosture:
    return GcsBucketPosture(
        retention_period_seconds=30 * 86400,
        retention_locked=True,
        versioning=True,
        soft_delete_seconds=7 * 86400,
        object_retention_enabled=False,
        lifecycle=rules,
    )


def unmounted_filesystem_posture() -> FilesystemPosture:
    return FilesystemPosture(read_only_mount=False, mount_point="/backups")


def target_posture_facts(
    posture: BucketPosture | Unavailable,
    *,
    policy: Policy | None = None,
    target_model: Target | None = None,
    databases: tuple[Database, ...] | None = None,
) -> TargetFacts:
    """A target with its posture and, for each database on it, an empty listing of its pattern."""
    target_model = target_model or target()
    copies = tuple(
        database_target_facts(
            listing(pattern=model.snapshot_pattern), target_model=target_model, database_model=model
        )
        for model in (databases if databases is not None else (database(),))
    )
    return TargetFacts(
        target=target_model, policy=policy or Policy(), now=NOW, posture=posture, latest=copies
    )


# Builders for snapshot_sanity: what HEAD and the sidecar say about the latest snapshot.


def head_of(
    snapshot_model: Snapshot, *, size: int | None = None, checksums: dict[str, str] | None = None
) -> ObjectProtection:
    """The metadata a HEAD of ``snapshot_model`` returns; ``size`` differs from the listing if given."""
    return ObjectProtection(
        key=snapshot_model.key,
        size=snapshot_model.size if size is None else size,
        written_at=snapshot_model.created_at,
        checksums=checksums or {},
    )


def sidecar_of(snapshot_model: Snapshot, algorithm: str, digest: str) -> Sidecar:
    return Sidecar(key=f"{snapshot_model.key}.{algorithm}", algorithm=algorithm, digest=digest)


def latest_facts(
    found: SnapshotListing | Unavailable,
    *,
    protection: ObjectProtection | Unavailable | None,
    sidecar: Sidecar | Unavailable | None = None,
    policy: Policy | None = None,
) -> DatabaseTargetFacts:
    """One database on one target with what was read about its latest snapshot."""
    return replace(database_target_facts(found, policy=policy), protection=protection, sidecar=sidecar)
