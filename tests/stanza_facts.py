"""Builders of pgBackRest repository facts in the shapes drill.storage.pgbackrest produces, for check
tests that judge a stanza without running pgBackRest."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from drill.config import Policy, TargetType
from drill.facts import (
    BucketPosture,
    FilesystemPosture,
    RepoSettings,
    RepositoryFacts,
    Retention,
    StanzaBackup,
    StanzaRepo,
    Unavailable,
    WalArchive,
    WalRange,
)
from tests.factories import NOW, target

SEGMENT_SIZE = 16 << 20


def backup(
    label: str = "20261122-100000F", *, stopped: datetime | None = None, kind: str = "full", **fields: Any
) -> StanzaBackup:
    stopped_at = stopped or NOW - timedelta(hours=2)
    values: dict[str, Any] = {
        "label": label,
        "type": kind,
        "started_at": stopped_at - timedelta(minutes=5),
        "stopped_at": stopped_at,
        "repo": 1,
        "error": False,
        "wal": WalRange("000000010000000000000004", "000000010000000000000004"),
        "lsn_start": "0/4000028",
        "lsn_stop": "0/4000100",
        "database_size": 30_000_000,
        "repo_size": 4_000_000,
        "pg_version": "15",
    }
    values.update(fields)
    return StanzaBackup(**values)


def archive(**fields: Any) -> WalArchive:
    values: dict[str, Any] = {
        "archive_id": "15-1",
        "oldest": "000000010000000000000001",
        "newest": "000000010000000000000009",
        "segment_size": SEGMENT_SIZE,
        "listed_from": "000000010000000000000004",
        "listed_segments": 6,
    }
    values.update(fields)
    return WalArchive(**values)


def repo(
    *,
    backups: tuple[StanzaBackup, ...] | None = None,
    wal: WalArchive | Unavailable | None = None,
    settings: RepoSettings | None = None,
    cipher: str = "none",
    **fields: Any,
) -> StanzaRepo:
    values: dict[str, Any] = {
        "stanza": "main",
        "config": "/etc/pgbackrest/pgbackrest.conf",
        "settings": settings or RepoSettings(key=1, type="posix", path="/var/lib/pgbackrest"),
        "status_code": 0,
        "status": "ok",
        "backups": (backup(),) if backups is None else backups,
        "archive": wal or archive(),
        "pg_versions": ("15",),
        "cipher": cipher,
    }
    values.update(fields)
    return StanzaRepo(**values)


def s3_settings(**fields: Any) -> RepoSettings:
    values: dict[str, Any] = {"key": 1, "type": "s3", "path": "/pgbackrest", "bucket": "repo-main"}
    values.update(fields)
    return RepoSettings(**values)


def retention(full: int | None, full_type: str = "count", **fields: Any) -> Retention:
    return Retention(full=full, full_type=full_type, **fields)


def facts(
    stanza: StanzaRepo | Unavailable | None = None,
    *,
    posture: BucketPosture | Unavailable | None = None,
    policy: Policy | None = None,
) -> RepositoryFacts:
    found = repo() if stanza is None else stanza
    on_s3 = isinstance(found, StanzaRepo) and found.settings.type == "s3"
    copy = (
        target("main.repo1", prefix="pgbackrest")
        if on_s3
        else target("main.repo1", type=TargetType.FILESYSTEM, path="/var/lib/pgbackrest")
    )
    return RepositoryFacts(
        target=copy,
        configured="main",
        policy=policy or Policy(),
        now=NOW,
        repo=found,
        posture=posture or FilesystemPosture(read_only_mount=False, mount_point="/"),
    )


def with_retention(stanza: StanzaRepo, value: Retention) -> StanzaRepo:
    return replace(stanza, settings=replace(stanza.settings, retention=value))
