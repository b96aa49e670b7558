"""What a pgBackRest stanza's repositories hold, as ``pgbackrest info``, ``repo-ls`` and the
stanza's config told drill: settings, backups, the WAL archive. Secrets never come here.

Filled by the storage layer (drill.storage.pgbackrest) and read by the repository checks, the
copies the database checks judge, and the physical restore drill.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from drill.config import Policy, Target
from drill.facts.base import Subject
from drill.facts.posture import BucketPosture
from drill.model import Unavailable


@dataclass(frozen=True)
class Retention:
    """How long ``expire`` keeps backups and WAL in one repository, as configured (None: not set)."""

    full: int | None
    full_type: str = "count"  # count | time (time: full is a number of days)
    diff: int | None = None
    archive: int | None = None
    archive_type: str = "full"  # full | diff | incr


@dataclass(frozen=True)
class RepoSettings:
    """One repository as the stanza's config describes it; never a secret."""

    key: int
    type: str  # posix | cifs | s3 | gcs | azure
    path: str
    bucket: str | None = None
    endpoint: str | None = None
    region: str | None = None
    port: int | None = None
    verify_tls: bool = True
    uri_style: str | None = None
    cipher_type: str = "none"  # none | aes-256-cbc
    retention: Retention = Retention(full=None)
    host: str | None = None  # repo-host: the repository lives on another host

    @property
    def local(self) -> bool:
        """Whether the repository is a directory on the host pgBackRest runs on."""
        return self.type in ("posix", "cifs") and self.host is None

    def describe_storage(self) -> str:
        """``s3 bucket backups, path /pgbackrest`` or ``posix directory /var/lib/pgbackrest``."""
        if self.host is not None:
            return f"{self.type} repository on host {self.host}, path {self.path}"
        if self.bucket is not None:
            return f"{self.type} bucket {self.bucket}, path {self.path}"
        return f"{self.type} directory {self.path}"


@dataclass(frozen=True)
class WalRange:
    """The first and last WAL segment one backup needs to be consistent."""

    start: str
    stop: str


@dataclass(frozen=True)
class StanzaBackup:
    """One backup in one repository, as ``pgbackrest info`` lists it."""

    label: str
    type: str  # full | diff | incr
    started_at: datetime
    stopped_at: datetime
    repo: int
    error: bool | None  # page checksum errors found while backing up; None: info did not say
    wal: WalRange | None
    lsn_start: str | None
    lsn_stop: str | None
    database_size: int
    repo_size: int
    pg_version: str | None  # the PostgreSQL version of the cluster it was taken from


@dataclass(frozen=True)
class WalArchive:
    """The repository's WAL archive for the stanza's current database: its ends and its holes.

    Holes are looked for from the latest backup's first segment to the newest archived one, the
    WAL a restore of the latest backup replays; ``missing`` keeps the first few, ``missing_count``
    counts them all.
    """

    archive_id: str | None  # "15-1": PostgreSQL version and database id
    oldest: str | None  # the archive's min, as info reports it
    newest: str | None  # the archive's max
    segment_size: int | None  # bytes, inferred from the latest backup's start LSN and segment
    listed_from: str | None = None  # the first segment the listing covered
    listed_segments: int = 0  # segments found from listed_from to the newest
    missing: tuple[str, ...] = ()
    missing_count: int = 0
    backup_range_missing: tuple[str, ...] = ()  # of the latest backup's own start..stop segments


@dataclass(frozen=True)
class StanzaRepo:
    """One repository of one stanza: its settings, its backups (oldest first) and its WAL archive."""

    stanza: str
    config: str | None  # the pgBackRest config file drill read (None: pgBackRest's default lookup)
    settings: RepoSettings
    status_code: int  # info's per-repository status: 0 ok, 2 no valid backups, ...
    status: str
    backups: tuple[StanzaBackup, ...]
    archive: WalArchive | Unavailable
    pg_versions: tuple[str, ...]  # every PostgreSQL version in the stanza's history, newest last
    cipher: str  # as info reports it for the repository

    @property
    def latest(self) -> StanzaBackup | None:
        return self.backups[-1] if self.backups else None


@dataclass(frozen=True)
class RepositoryFacts:
    """One repository of a pgBackRest stanza, judged against the strictest policy of its databases.

    ``target`` is the copy the repository is (a bucket or a directory), named after the configured
    target; ``posture`` is that bucket's or directory's protection.
    """

    target: Target
    configured: str  # the name of the pgbackrest target in the config
    policy: Policy
    now: datetime
    repo: StanzaRepo | Unavailable
    posture: BucketPosture | Unavailable

    @property
    def subject(self) -> Subject:
        return Subject(target=self.target.name)
