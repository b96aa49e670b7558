"""pgbackrest_backups: each repository of a stanza holds a backup, and none with page checksum errors.

pgBackRest checks every page's checksum while it copies a cluster with data checksums; a page
that does not match is copied as it is and the backup is flagged (``error`` in ``info``). The
backup then restores a database with corrupt pages: a finding, whatever its age.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from drill.facts import RepositoryFacts, known
from drill.model import Control, Evidence, Scope, Severity, Status
from drill.registry import Outcome, check


@dataclass(frozen=True)
class BackupsEvidence(Evidence):
    """What ``pgbackrest info`` says of the repository's backups."""

    kind: ClassVar[str] = "pgbackrest_backups"
    stanza: str
    repo: int
    status: str  # info's status of the repository
    backups: int
    latest: str | None
    latest_type: str | None
    latest_stopped_at: datetime | None
    with_errors: tuple[str, ...]  # labels flagged with page checksum errors
    unflagged: tuple[str, ...] = ()  # labels for which info did not say


@check(
    "pgbackrest_backups",
    severity=Severity.HIGH,
    scope=Scope.REPOSITORY,
    controls=(Control.ISO27001_A_8_13, Control.SOC2_A1_2),
    remediation=(
        "Run `pgbackrest backup` for the stanza into this repository; for checksum errors, find the "
        "corrupt pages (`pg_amcheck`, the backup's log) and repair them before the next full backup."
    ),
    evidence=(BackupsEvidence,),
)
def pgbackrest_backups(facts: RepositoryFacts) -> Iterator[Outcome]:
    """Repository holds backups, none flagged with page checksum errors."""
    repo = known(facts.repo)
    latest = repo.latest
    where = f"repo{repo.settings.key} of stanza {repo.stanza} ({facts.target.name})"
    evidence = BackupsEvidence(
        stanza=repo.stanza,
        repo=repo.settings.key,
        status=repo.status,
        backups=len(repo.backups),
        latest=latest.label if latest else None,
        latest_type=latest.type if latest else None,
        latest_stopped_at=latest.stopped_at if latest else None,
        with_errors=tuple(backup.label for backup in repo.backups if backup.error),
        unflagged=tuple(backup.label for backup in repo.backups if backup.error is None),
    )
    if latest is None:
        yield Outcome.failed(f"{where} holds no backup (pgBackRest says: {repo.status}).", evidence)
        return
    if evidence.with_errors:
        latest_too = latest.label in evidence.with_errors
        yield Outcome(
            Status.FAIL,
            f"{where}: pgBackRest found page checksum errors while backing up "
            f"{', '.join(evidence.with_errors)}"
            + (", the latest backup: a restore brings back corrupt pages." if latest_too else "."),
            evidence,
            Severity.CRITICAL if latest_too else None,
        )
        return
    if repo.status_code != 0:
        yield Outcome.failed(f"{where} is not healthy: pgBackRest says {repo.status!r}.", evidence)
        return
    if evidence.unflagged:
        yield Outcome.errored(
            f"{where}: info does not say whether {', '.join(evidence.unflagged)} had checksum errors; "
            "not verified.",
            evidence,
        )
        return
    yield Outcome.passed(
        f"{where} holds {len(repo.backups)} backup(s), none with page checksum errors; the latest is "
        f"{latest.label} ({latest.type}, finished {latest.stopped_at:%Y-%m-%d %H:%M} UTC).",
        evidence,
    )
