"""Builders of config models and facts for tests that judge checks without any storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from drill.config import Database, Policy, Target, TargetType
from drill.facts import DatabaseFacts, DatabaseTargetFacts, SnapshotListing, TargetFacts, Unavailable
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
