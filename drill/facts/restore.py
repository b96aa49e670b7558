"""What a restore drill did and found: stage by stage, table by table, and the drill before it.

Filled by the restore layer and the run history; read by the restore and integrity checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from drill.config import Database, Policy
from drill.facts.base import Subject
from drill.model import Snapshot, Unavailable


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
    replay_seconds: float = 0.0  # a physical backup's WAL replay, from the server's start to its promotion

    def summary(self) -> str:
        if self.replay_seconds:
            return (
                f"restore {self.restore_seconds:.1f}s, WAL replay {self.replay_seconds:.1f}s, "
                f"verify {self.verify_seconds:.1f}s, total {self.total_seconds:.1f}s"
            )
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
class WalReplay:
    """How far a physical backup's recovery replayed its WAL archive, against what the archive holds.

    ``missing`` is the first segment recovery needed and did not get, when it stopped before the
    archive's newest segment: the WAL after it is silently gone from the restored copy.
    """

    stanza: str
    repo: int
    backup: str  # the backup's label
    backup_type: str  # full | diff | incr
    backup_stopped_at: datetime
    pg_version: str | None
    replayed_to: str | None  # the LSN recovery ended at; None: nothing was replayed
    last_segment: str | None  # the segment that LSN lies in
    archive_newest: str | None  # the newest segment the archive held when drill listed it
    missing: str | None
    last_transaction_at: datetime | None  # the last replayed commit: how old the restored data is
    unknown: str | None = None  # why replay could not be compared with the archive


@dataclass(frozen=True)
class PageChecksums:
    """``pg_checksums --check`` on the recovered, stopped cluster (None fields: not run)."""

    enabled: bool
    status: int | None = None  # its exit status; None: it was stopped or could not run
    report: str | None = None  # its last lines
    not_run: str | None = None  # why it was not run on purpose (--keep leaves the server running)


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
    replay: WalReplay | None = None  # a physical backup's recovery; None for a dump
    checksums: PageChecksums | None = None  # a physical backup's page checksums; None for a dump


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
