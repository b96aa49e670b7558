"""What storage holds for each database and target: snapshot listings, and each copy's protection.

Collected before any check runs; checks read these and do no I/O themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from drill.config import Database, Policy, Target
from drill.facts.base import NOT_COLLECTED, Subject
from drill.facts.pgbackrest import StanzaRepo
from drill.facts.posture import BucketPosture, ObjectProtection, Sidecar
from drill.model import Snapshot, Unavailable, UnfollowedEntry


def full_pattern(target: Target, pattern: str) -> str:
    """The snapshot pattern below the target's prefix; a prefix is a folder, with or without its '/'."""
    prefix = target.prefix.strip("/")
    return f"{prefix}/{pattern.lstrip('/')}" if prefix else pattern.lstrip("/")


@dataclass(frozen=True)
class SnapshotListing:
    """What a target holds for one snapshot pattern: how many, the newest few and the oldest.

    Only these are kept so that memory stays flat however many snapshots a target holds; the
    oldest is the other end of what retention keeps, which the trust checks judge too.
    """

    pattern: str
    count: int
    newest: tuple[Snapshot, ...]  # newest first
    sidecar_keys: frozenset[str] = frozenset()  # checksum files seen beside the newest snapshots
    oldest: Snapshot | None = None  # the oldest snapshot still listed
    unfollowed: tuple[UnfollowedEntry, ...] = ()  # the first few links and special files, by key
    unfollowed_count: int = 0  # how many such entries the listing met in all

    @property
    def latest(self) -> Snapshot | None:
        return self.newest[0] if self.newest else None

    @property
    def previous(self) -> Snapshot | None:
        return self.newest[1] if len(self.newest) > 1 else None


@dataclass(frozen=True)
class DatabaseTargetFacts:
    """One database's snapshots on one target, and how the latest of them is protected."""

    database: Database
    target: Target
    policy: Policy
    now: datetime
    listing: SnapshotListing | Unavailable
    posture: BucketPosture | Unavailable = NOT_COLLECTED
    protection: ObjectProtection | Unavailable | None = NOT_COLLECTED  # None: there is no latest snapshot
    sidecar: Sidecar | Unavailable | None = NOT_COLLECTED  # None: the latest snapshot has no sidecar
    # A pgBackRest repository's copy: what its stanza says of it (None: the target holds dumps). Its
    # listing is then the repository's backups, each named by its manifest.
    repository: StanzaRepo | Unavailable | None = None

    @property
    def subject(self) -> Subject:
        return Subject(target=self.target.name, database=self.database.name)


@dataclass(frozen=True)
class TargetFacts:
    """One target as a whole, judged against the strictest policy of the databases it holds."""

    target: Target
    policy: Policy
    now: datetime
    posture: BucketPosture | Unavailable = NOT_COLLECTED
    latest: tuple[DatabaseTargetFacts, ...] = ()  # each database's snapshots on this target

    @property
    def subject(self) -> Subject:
        return Subject(target=self.target.name)


@dataclass(frozen=True)
class DatabaseFacts:
    """One database across all of its targets."""

    database: Database
    policy: Policy
    now: datetime
    copies: tuple[DatabaseTargetFacts, ...]
    last_passing_drill: datetime | Unavailable | None = NOT_COLLECTED  # from the run history

    @property
    def subject(self) -> Subject:
        return Subject(database=self.database.name)
