"""freshness: the newest snapshot on each target is younger than the recovery point objective."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from drill.durations import format_duration
from drill.facts import DatabaseTargetFacts, known
from drill.model import Control, Evidence, Scope, Severity
from drill.registry import Outcome, check

_CLOCK_SKEW = timedelta(minutes=5)  # clocks that disagree by less are not worth a finding


@dataclass(frozen=True)
class FreshnessEvidence(Evidence):
    """The newest snapshot on the target and its age against max_age."""

    kind: ClassVar[str] = "freshness"
    snapshot: str
    created_at: datetime
    age_seconds: int
    max_age_seconds: int
    snapshots: int  # how many snapshots match the pattern


@dataclass(frozen=True)
class NoSnapshotEvidence(Evidence):
    """No snapshot on the target matches the database's pattern."""

    kind: ClassVar[str] = "freshness.no_snapshot"
    pattern: str
    snapshots: int


@check(
    "freshness",
    severity=Severity.HIGH,
    scope=Scope.DATABASE_TARGET,
    controls=(Control.ISO27001_A_8_13, Control.SOC2_A1_2),
    remediation="Find out why the backup job stopped writing to this target; the RPO is already missed.",
    evidence=(FreshnessEvidence, NoSnapshotEvidence),
)
def freshness(facts: DatabaseTargetFacts) -> Iterator[Outcome]:
    """Newest snapshot is younger than max_age."""
    listing = known(facts.listing)
    latest = listing.latest
    if latest is None:
        links = listing.unfollowed_count
        unfollowed = (
            f" drill followed none of the {links} symbolic links or special files there (snapshot_links)."
            if links > 1
            else " drill did not follow the symbolic link or special file there (snapshot_links)."
            if links
            else ""
        )
        yield Outcome.failed(
            f"No snapshot of {facts.database.name} matches {listing.pattern!r} on {facts.target.name}."
            + unfollowed,
            NoSnapshotEvidence(pattern=listing.pattern, snapshots=0),
        )
        return
    age = facts.now - latest.created_at
    limit = facts.policy.max_age
    evidence = FreshnessEvidence(
        snapshot=latest.key,
        created_at=latest.created_at,
        age_seconds=round(age.total_seconds()),
        max_age_seconds=round(limit.total_seconds()),
        snapshots=listing.count,
    )
    if age < -_CLOCK_SKEW:
        # A file's time can be set by whoever writes the directory: a stale dump dated ahead would
        # otherwise pass forever. Its age is unknown, so this is an error, not a pass.
        yield Outcome.errored(
            f"Newest snapshot {latest.key} is dated {format_duration(-age)} in the future "
            f"({latest.created_at:%Y-%m-%d %H:%M} UTC): its time was set ahead, or the writer's clock is "
            "wrong, so its age cannot be judged.",
            evidence,
        )
    elif age <= limit:
        yield Outcome.passed(
            f"Newest snapshot {latest.key} is {format_duration(age)} old (limit {format_duration(limit)}).",
            evidence,
        )
    else:
        yield Outcome.failed(
            f"Newest snapshot {latest.key} is {format_duration(age)} old, "
            f"older than the limit of {format_duration(limit)}.",
            evidence,
        )
