"""restore: the newest snapshot restores into a scratch PostgreSQL with zero errors, within the RTO."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from drill.durations import format_duration
from drill.facts import DrillOutcome, RestoreFacts, known
from drill.model import Control, Evidence, Phase, Scope, Severity, Status
from drill.registry import Outcome, check


@dataclass(frozen=True)
class RestoreEvidence(Evidence):
    """What the restore drill fetched, how long each stage took, and where it stopped if it did."""

    kind: ClassVar[str] = "restore"
    source_target: str | None
    snapshot: str | None
    snapshot_size: int | None
    snapshot_created_at: datetime | None
    snapshot_age_seconds: int | None
    dump_format: str | None
    dump_version: str | None
    download_seconds: float
    server_wait_seconds: float
    restore_seconds: float
    verify_seconds: float
    total_seconds: float
    rto_seconds: float | None
    failed_stage: str | None  # fetch, format, restore or verify; None when every stage ran
    total_rows: int | None
    tables: int | None
    kept: str | None  # how to connect, when --keep left the scratch database running
    replay_seconds: float = 0.0  # a physical backup's WAL replay; 0 for a dump


def drill_evidence(outcome: DrillOutcome, facts: RestoreFacts) -> RestoreEvidence:
    snapshot = outcome.snapshot
    verification = outcome.verification
    timings = outcome.timings
    return RestoreEvidence(
        source_target=outcome.source_target,
        snapshot=snapshot.key if snapshot else None,
        snapshot_size=snapshot.size if snapshot else None,
        snapshot_created_at=snapshot.created_at if snapshot else None,
        snapshot_age_seconds=round((facts.now - snapshot.created_at).total_seconds()) if snapshot else None,
        dump_format=outcome.dump_format,
        dump_version=outcome.dump_version,
        download_seconds=round(timings.download_seconds, 3),
        server_wait_seconds=round(timings.server_wait_seconds, 3),
        restore_seconds=round(timings.restore_seconds, 3),
        verify_seconds=round(timings.verify_seconds, 3),
        total_seconds=round(timings.total_seconds, 3),
        rto_seconds=facts.database.rto.total_seconds() if facts.database.rto else None,
        failed_stage=outcome.failed_stage,
        total_rows=verification.total_rows if verification else None,
        tables=len(verification.tables) if verification else None,
        kept=outcome.kept,
        replay_seconds=round(timings.replay_seconds, 3),
    )


@check(
    "restore",
    severity=Severity.CRITICAL,
    scope=Scope.RESTORE,
    controls=(Control.ISO27001_A_8_13, Control.ISO27001_A_5_30, Control.SOC2_A1_3),
    phase=Phase.RESTORE,
    remediation=(
        "Restore the snapshot by hand to see the full error; fix the backup job (a dump that does "
        "not restore is no backup) or, for a missed RTO, make restores faster or the RTO honest."
    ),
    evidence=(RestoreEvidence,),
)
def restore(facts: RestoreFacts) -> Iterator[Outcome]:
    """The newest snapshot restores with zero errors, within the RTO."""
    outcome = known(facts.outcome)
    evidence = drill_evidence(outcome, facts)
    if outcome.failure:
        yield Outcome.failed(f"Restore drill failed at {outcome.failed_stage}: {outcome.failure}", evidence)
        return
    total = timedelta(seconds=outcome.timings.total_seconds)
    timing = outcome.timings.summary()
    source = f"{outcome.snapshot.key if outcome.snapshot else '?'} from {outcome.source_target}"
    rto = facts.database.rto
    if rto is not None and total > rto:
        yield Outcome(
            Status.FAIL,
            f"Restored {source}, but recovery took {format_duration(total)}, over the RTO of {format_duration(rto)} ({timing}).",
            evidence,
            Severity.HIGH,
        )
        return
    target = f" within the RTO of {format_duration(rto)}" if rto else ""
    yield Outcome.passed(f"Restored {source} with zero errors{target} ({timing}).", evidence)
