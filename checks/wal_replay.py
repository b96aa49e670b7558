"""wal_replay: a physical backup's recovery replays its WAL archive to the archive's newest segment."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from drill.durations import format_duration
from drill.facts import RestoreFacts, known
from drill.model import Control, Evidence, Phase, Scope, Severity
from drill.registry import Outcome, check


@dataclass(frozen=True)
class WalReplayEvidence(Evidence):
    """How far recovery got against what the archive holds, and how old the recovered data is (RPO)."""

    kind: ClassVar[str] = "wal_replay"
    stanza: str
    repo: int
    backup: str
    backup_type: str
    backup_stopped_at: datetime
    pg_version: str | None
    replayed_to: str | None
    last_segment: str | None
    archive_newest: str | None
    missing_segment: str | None
    last_transaction_at: datetime | None
    data_age_seconds: int | None  # from the last replayed transaction to the run
    replay_seconds: float


@check(
    "wal_replay",
    severity=Severity.CRITICAL,
    scope=Scope.RESTORE,
    controls=(Control.ISO27001_A_8_13, Control.SOC2_A1_3),
    phase=Phase.RESTORE,
    remediation=(
        "Find why the segment is missing from the archive (archive_command failures in the server's "
        "log, an expire run, a deleted file) and take a new full backup: until then, a restore loses "
        "every transaction after the hole."
    ),
    evidence=(WalReplayEvidence,),
)
def wal_replay(facts: RestoreFacts) -> Iterator[Outcome]:
    """Recovery of the latest physical backup reaches the newest WAL segment the archive holds."""
    outcome = known(facts.outcome)
    replay = outcome.replay
    if replay is None:
        reason = (
            "nothing was recovered; see the restore finding"
            if outcome.dump_format == "pgbackrest"
            else "the drill restored a dump, which replays no WAL"
        )
        yield Outcome.skipped(f"No WAL replay to judge: {reason}.")
        return
    age = facts.now - replay.last_transaction_at if replay.last_transaction_at else None
    evidence = WalReplayEvidence(
        stanza=replay.stanza,
        repo=replay.repo,
        backup=replay.backup,
        backup_type=replay.backup_type,
        backup_stopped_at=replay.backup_stopped_at,
        pg_version=replay.pg_version,
        replayed_to=replay.replayed_to,
        last_segment=replay.last_segment,
        archive_newest=replay.archive_newest,
        missing_segment=replay.missing,
        last_transaction_at=replay.last_transaction_at,
        data_age_seconds=round(age.total_seconds()) if age is not None else None,
        replay_seconds=round(outcome.timings.replay_seconds, 3),
    )
    backup = f"backup {replay.backup} of stanza {replay.stanza} (repo{replay.repo})"
    if replay.unknown:
        yield Outcome.errored(f"Could not tell how far recovery of {backup} got: {replay.unknown}.", evidence)
        return
    if replay.missing:
        yield Outcome.failed(
            f"Recovery of {backup} stopped early: WAL segment {replay.missing} is missing from the archive, "
            f"so replay ended in {replay.last_segment} (at {replay.replayed_to}) although the archive holds WAL "
            f"up to {replay.archive_newest}; every transaction after the hole is lost from a restore.",
            evidence,
        )
        return
    data = (
        f"last transaction at {replay.last_transaction_at:%Y-%m-%d %H:%M:%S %Z}, {format_duration(age)} ago"
        if replay.last_transaction_at and age is not None
        else "no transaction was replayed after the backup"
    )
    message = (
        f"Recovery of {backup} replayed the archive to its newest segment {replay.archive_newest} "
        f"(ended at {replay.replayed_to}); {data}; the backup stopped at "
        f"{replay.backup_stopped_at:%Y-%m-%d %H:%M:%S %Z}."
    )
    if age is not None and age > facts.policy.max_age:
        yield Outcome.warned(
            f"{message} The recovered data is older than max_age {format_duration(facts.policy.max_age)}: "
            "is WAL still being archived?",
            evidence,
        )
        return
    yield Outcome.passed(message, evidence)
