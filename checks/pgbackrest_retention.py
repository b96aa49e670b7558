"""pgbackrest_retention: pgBackRest's own expire keeps backups at least as long as the policy promises.

``expire`` (run after every backup) removes backups by the stanza's config: ``repoN-retention-full``
full backups (``-full-type=count``) or the full backups of the last N days (``time``), with their
differentials and incrementals, and the WAL they need. A repository that expires earlier than
``min_retention`` breaks the promise however the storage is locked; a count is turned into days
from the cadence of the full backups ``info`` lists, and said to be an estimate. A storage lock
longer than the retention is noted too: pgBackRest's expire then fails to delete until it passes.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

from drill.durations import format_duration
from drill.facts import GcsBucketPosture, RepositoryFacts, S3BucketPosture, StanzaRepo, known
from drill.model import Control, Evidence, Scope, Severity
from drill.registry import Outcome, check


@dataclass(frozen=True)
class RetentionEvidence(Evidence):
    """The repository's retention settings, the days they keep, and the policy's minimum."""

    kind: ClassVar[str] = "pgbackrest_retention"
    stanza: str
    repo: int
    full_type: str
    full: int | None  # None: not set, expire keeps every full backup
    diff: int | None
    archive: int | None
    archive_type: str
    kept_seconds: int | None  # None: unbounded, or unknown (see estimated and cadence_seconds)
    estimated: bool  # a count turned into days by the cadence of the full backups
    cadence_seconds: int | None  # the median time between two full backups in the repository
    full_backups: int  # full backups info lists
    min_retention_seconds: int
    lock_seconds: int | None = None  # the storage's default lock or retention period


def _lock(facts: RepositoryFacts) -> timedelta | None:
    posture = facts.posture
    if isinstance(posture, S3BucketPosture) and isinstance(posture.default_lock_days, int):
        return timedelta(days=posture.default_lock_days)
    if isinstance(posture, GcsBucketPosture) and isinstance(posture.retention_period_seconds, int):
        return timedelta(seconds=posture.retention_period_seconds)
    return None


def _cadence(repo: StanzaRepo) -> timedelta | None:
    fulls = [backup.stopped_at for backup in repo.backups if backup.type == "full"]
    gaps = [later - earlier for earlier, later in itertools.pairwise(fulls)]
    return timedelta(seconds=statistics.median(gap.total_seconds() for gap in gaps)) if gaps else None


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else round(value.total_seconds())


def _archive_note(repo: StanzaRepo) -> str:
    """What a repoN-retention-archive below the full backups kept costs: the older backups lose the
    WAL after their end, so they restore to that end only, never to a point in time after it."""
    retention = repo.settings.retention
    counted = retention.full_type == "count" and retention.archive_type == "full"
    if (
        not counted
        or retention.archive is None
        or retention.full is None
        or retention.archive >= retention.full
    ):
        return ""
    return (
        f" WAL is kept for the newest {retention.archive} of the {retention.full} full backups only "
        f"(repo{repo.settings.key}-retention-archive): the older ones restore to their end, not to a point in time."
    )


@check(
    "pgbackrest_retention",
    severity=Severity.HIGH,
    scope=Scope.REPOSITORY,
    controls=(Control.ISO27001_A_8_13, Control.SOC2_A1_2),
    remediation=(
        "Raise repoN-retention-full (or set repoN-retention-full-type=time with the policy's days) so that "
        "expire keeps at least min_retention; keep a storage lock no longer than what expire keeps, or "
        "expire fails on locked files."
    ),
    evidence=(RetentionEvidence,),
)
def pgbackrest_retention(facts: RepositoryFacts) -> Iterator[Outcome]:
    """Repository keeps backups for at least min_retention."""
    repo = known(facts.repo)
    retention = repo.settings.retention
    where = f"repo{repo.settings.key} of stanza {repo.stanza} ({facts.target.name})"
    required = facts.policy.min_retention
    cadence = _cadence(repo)
    lock = _lock(facts)
    kept: timedelta | None = None
    estimated = False
    if retention.full is not None and retention.full_type == "time":
        kept = timedelta(days=retention.full)
    elif retention.full is not None and retention.full == 1:
        kept = timedelta(0)  # the older full backup goes as soon as the next one is taken
    elif retention.full is not None and cadence is not None:
        kept, estimated = cadence * (retention.full - 1), True
    evidence = RetentionEvidence(
        stanza=repo.stanza,
        repo=repo.settings.key,
        full_type=retention.full_type,
        full=retention.full,
        diff=retention.diff,
        archive=retention.archive,
        archive_type=retention.archive_type,
        kept_seconds=_seconds(kept),
        estimated=estimated,
        cadence_seconds=_seconds(cadence),
        full_backups=sum(backup.type == "full" for backup in repo.backups),
        min_retention_seconds=round(required.total_seconds()),
        lock_seconds=_seconds(lock),
    )
    policy = f"min_retention {format_duration(required)}"
    if retention.full is None:
        yield Outcome.passed(
            f"{where} sets no repo{repo.settings.key}-retention-full: expire keeps every backup ({policy} is met; "
            "the repository grows without bound).",
            evidence,
        )
        return
    if kept is None:
        yield Outcome.errored(
            f"{where} keeps {retention.full} full backups, but info lists "
            f"{evidence.full_backups} full backup(s), too few to tell how often they are taken: how many days "
            f"that keeps is unknown, so {policy} is not verified.",
            evidence,
        )
        return
    how = (
        f"keeps {retention.full} full backups, taken about every {format_duration(cadence)}: about "
        f"{format_duration(kept)} (an estimate from the backups listed)"
        if estimated and cadence is not None
        else f"keeps {format_duration(kept)} of full backups"
        if retention.full_type == "time"
        else "keeps one full backup: the previous one goes as soon as the next is taken"
    )
    lock_note = (
        f" Its storage lock ({format_duration(lock)}) is longer than that: pgBackRest's expire fails to delete "
        "the locked files until the lock passes."
        if lock is not None and lock > kept
        else ""
    )
    archive_note = _archive_note(repo)
    if kept < required:
        yield Outcome.failed(f"{where} {how}, less than {policy}.{lock_note}", evidence)
    elif lock_note or archive_note:
        yield Outcome.warned(f"{where} {how}, meeting {policy}.{lock_note}{archive_note}", evidence)
    else:
        yield Outcome.passed(f"{where} {how}, meeting {policy}.", evidence)
