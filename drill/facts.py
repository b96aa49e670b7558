"""Facts collected from storage before any check runs. Checks read these and do no I/O themselves.

A fact that could not be collected is an ``Unavailable`` with the reason; a check that needs it
calls ``known()``, which raises ``FactUnavailable``, and the engine turns that into an ``error``
finding that carries the reason. A denied read therefore never looks like a negative verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar, overload

from drill.config import Database, Policy, Target
from drill.model import FactUnavailable, Snapshot, Unavailable
from drill.posture import BucketPosture, ObjectProtection, Sidecar

__all__ = ["FactUnavailable", "Unavailable", "known"]  # re-exported: checks import them from here

T = TypeVar("T")


@overload
def known(value: BucketPosture | Unavailable) -> BucketPosture: ...
@overload
def known(value: T | Unavailable) -> T: ...
def known(value: object) -> object:
    """The fact itself, or FactUnavailable with the reason it could not be collected.

    The first overload keeps the posture union intact: inference over a union of several classes
    and Unavailable would otherwise widen to ``object``.
    """
    if isinstance(value, Unavailable):
        raise FactUnavailable(value.reason)
    return value


@dataclass(frozen=True)
class Subject:
    """Whom a finding is about; every facts class names its subject."""

    target: str | None = None
    database: str | None = None
    agent: str | None = None


@dataclass(frozen=True)
class SnapshotListing:
    """What a target holds for one snapshot pattern: how many, and only the newest few.

    Only the newest are kept so that memory stays flat however many snapshots a target holds.
    """

    pattern: str
    count: int
    newest: tuple[Snapshot, ...]  # newest first
    sidecar_keys: frozenset[str] = frozenset()  # checksum files seen beside the newest snapshots

    @property
    def latest(self) -> Snapshot | None:
        return self.newest[0] if self.newest else None

    @property
    def previous(self) -> Snapshot | None:
        return self.newest[1] if len(self.newest) > 1 else None


NOT_COLLECTED = Unavailable("This fact was not collected.")


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


@dataclass(frozen=True)
class TableRows:
    table: str
    rows: int


@dataclass(frozen=True)
class IndexVerdict:
    index: str
    table: str
    error: str | None  # None: amcheck found nothing wrong


@dataclass(frozen=True)
class QueryVerdict:
    name: str
    expect: str
    value: float | None
    error: str | None  # the query itself failed


@dataclass(frozen=True)
class SequenceVerdict:
    sequence: str
    column: str  # "table.column" it feeds
    last_value: int | None
    column_max: int | None

    @property
    def behind(self) -> bool:
        return self.column_max is not None and (self.last_value is None or self.last_value < self.column_max)


@dataclass(frozen=True)
class Timings:
    """Wall time of one drill. The scratch server starts while the snapshot downloads;
    ``server_wait_seconds`` is only the part of its start that the download did not hide."""

    download_seconds: float = 0.0
    server_wait_seconds: float = 0.0
    restore_seconds: float = 0.0
    verify_seconds: float = 0.0
    total_seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"download {self.download_seconds:.1f}s, server start {self.server_wait_seconds:.1f}s, "
            f"restore {self.restore_seconds:.1f}s, verify {self.verify_seconds:.1f}s, "
            f"total {self.total_seconds:.1f}s"
        )


@dataclass(frozen=True)
class Verification:
    tables: tuple[TableRows, ...]
    indexes: tuple[IndexVerdict, ...]
    queries: tuple[QueryVerdict, ...]
    sequences: tuple[SequenceVerdict, ...]
    recovery_point: datetime | None  # the newest timestamp in the configured columns
    recovery_point_error: str | None = None

    @property
    def total_rows(self) -> int:
        return sum(table.rows for table in self.tables)


@dataclass(frozen=True)
class DrillOutcome:
    """What one restore drill of one database did, stage by stage.

    ``failure`` names the first stage that failed (fetch, format, restore, verify) and why: a
    corrupt or truncated dump is a failed drill, not an error of drill itself.
    """

    source_target: str | None
    snapshot: Snapshot | None
    dump_format: str | None = None
    dump_version: str | None = None
    raw_bytes: int = 0
    timings: Timings = Timings()
    failed_stage: str | None = None
    failure: str | None = None
    verification: Verification | None = None
    kept: str | None = None  # how to connect, when --keep left the scratch database running


@dataclass(frozen=True)
class PreviousDrill:
    """The last recorded drill of the same database, from the run history."""

    run_id: str
    finished_at: datetime
    passed: bool
    table_rows: Mapping[str, int]


@dataclass(frozen=True)
class RestoreFacts:
    """One database's restore drill. ``outcome`` is Unavailable when drill could not even try
    (no PostgreSQL binaries, no scratch server): that is an error of the setup, not of the backup."""

    database: Database
    policy: Policy
    now: datetime
    outcome: DrillOutcome | Unavailable
    previous: PreviousDrill | None = None

    @property
    def subject(self) -> Subject:
        return Subject(database=self.database.name)
