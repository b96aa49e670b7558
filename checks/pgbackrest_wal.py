"""pgbackrest_wal: the WAL archive holds every segment from the latest backup's start to its newest.

A backup is consistent only with the WAL written while it ran, and a restore reaches the present
only by replaying every segment since. A missing segment is silent: ``info`` still says ``ok``,
and recovery stops at the hole and promotes, so what was written after it is gone without an
error. drill lists the archive from the latest backup's first segment on and names the holes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from drill.facts import RepositoryFacts, known
from drill.model import Control, Evidence, Scope, Severity, Status
from drill.registry import Outcome, check


@dataclass(frozen=True)
class WalEvidence(Evidence):
    """The archive's ends, the range listed, and the segments found missing there."""

    kind: ClassVar[str] = "pgbackrest_wal"
    stanza: str
    repo: int
    archive_id: str | None
    oldest: str | None
    newest: str | None
    backup: str | None
    backup_start: str | None
    backup_stop: str | None
    listed_segments: int = 0
    missing: tuple[str, ...] = ()  # the first few
    missing_count: int = 0
    backup_range_missing: tuple[str, ...] = ()


@check(
    "pgbackrest_wal",
    severity=Severity.HIGH,
    scope=Scope.REPOSITORY,
    controls=(Control.ISO27001_A_8_13, Control.SOC2_A1_2),
    remediation=(
        "Find why archive-push lost the segment (the archive_command's failures in PostgreSQL's log, a "
        "purge); take a new full backup at once: until then, no restore reaches past the hole."
    ),
    evidence=(WalEvidence,),
)
def pgbackrest_wal(facts: RepositoryFacts) -> Iterator[Outcome]:
    """WAL archive has no hole from the latest backup on."""
    repo = known(facts.repo)
    where = f"repo{repo.settings.key} of stanza {repo.stanza} ({facts.target.name})"
    latest = repo.latest
    if latest is None:
        yield Outcome.skipped(f"{where} holds no backup; pgbackrest_backups fails it.")
        return
    archive = known(repo.archive)
    evidence = WalEvidence(
        stanza=repo.stanza,
        repo=repo.settings.key,
        archive_id=archive.archive_id,
        oldest=archive.oldest,
        newest=archive.newest,
        backup=latest.label,
        backup_start=latest.wal.start if latest.wal else None,
        backup_stop=latest.wal.stop if latest.wal else None,
        listed_segments=archive.listed_segments,
        missing=archive.missing,
        missing_count=archive.missing_count,
        backup_range_missing=archive.backup_range_missing,
    )
    if archive.newest is None:
        yield Outcome.failed(
            f"{where} has no WAL archive: backup {latest.label} cannot be made consistent.", evidence
        )
        return
    if latest.wal is None or archive.segment_size is None or archive.listed_from is None:
        yield Outcome.errored(
            f"{where}: info gives no WAL range (or no start LSN) for backup {latest.label}, so the archive "
            "could not be checked for holes; not verified.",
            evidence,
        )
        return
    if archive.backup_range_missing:
        yield Outcome(
            Status.FAIL,
            f"{where}: WAL segment {archive.backup_range_missing[0]} is missing from the archive, and backup "
            f"{latest.label} needs it ({latest.wal.start} to {latest.wal.stop}) to be consistent: it cannot be "
            "restored.",
            evidence,
            Severity.CRITICAL,
        )
        return
    if archive.missing:
        more = f" and {archive.missing_count - 1} more" if archive.missing_count > 1 else ""
        yield Outcome.failed(
            f"{where}: WAL segment {archive.missing[0]}{more} is missing from the archive after backup "
            f"{latest.label}: a restore replays only up to the segment before it, and everything written "
            f"after is silently lost (archive {archive.oldest} to {archive.newest}).",
            evidence,
        )
        return
    yield Outcome.passed(
        f"{where}: the archive holds every WAL segment from {latest.wal.start} (backup {latest.label}) to "
        f"{archive.newest} ({archive.listed_segments} listed).",
        evidence,
    )
