"""Builders of posture facts in the shapes the storage layer produces, for check tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from drill.facts import (
    FilesystemPosture,
    GcsBucketPosture,
    LifecycleRule,
    ObjectProtection,
    S3BucketPosture,
)
from tests.factories import NOW

DAY = timedelta(days=1)


def s3(
    *,
    versioning: Any = "Enabled",
    lock: Any = True,
    mode: Any = "COMPLIANCE",
    days: Any = 30,
    lifecycle: Any = (),
) -> S3BucketPosture:
    return S3BucketPosture(
        versioning=versioning,
        object_lock_enabled=lock,
        default_lock_mode=mode,
        default_lock_days=days,
        lifecycle=lifecycle,
    )


def gcs(
    *,
    period_days: int | None = 30,
    locked: Any = True,
    versioning: Any = False,
    soft_delete_days: int | None = 7,
    lifecycle: tuple[LifecycleRule, ...] = (),
) -> GcsBucketPosture:
    return GcsBucketPosture(
        retention_period_seconds=None if period_days is None else period_days * 86400,
        retention_locked=locked,
        versioning=versioning,
        soft_delete_seconds=None if soft_delete_days is None else soft_delete_days * 86400,
        object_retention_enabled=False,
        lifecycle=lifecycle,
    )


def filesystem(*, read_only: Any = False) -> FilesystemPosture:
    return FilesystemPosture(read_only_mount=read_only, mount_point="/backups")


def locked_object(
    key: str = "orders/orders-1.dump",
    *,
    mode: str | None = "COMPLIANCE",
    locked_for: timedelta | None = 30 * DAY,
    age: timedelta = timedelta(hours=1),
    size: int = 1_000_000,
    legal_hold: bool = False,
    immutable_attribute: bool = False,
    checksums: dict[str, str] | None = None,
) -> ObjectProtection:
    written = NOW - age
    return ObjectProtection(
        key=key,
        size=size,
        written_at=written,
        version_id="v1",
        lock_mode=mode,
        retain_until=None if locked_for is None else written + locked_for,
        legal_hold=legal_hold,
        immutable_attribute=immutable_attribute,
        checksums=checksums or {},
    )
