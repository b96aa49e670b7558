"""freshness: the newest snapshot on each target is younger than the recovery point objective."""

from __future__ import annotations

from collections.abc import Iterator

from drill.durations import format_duration
from drill.facts import DatabaseTargetFacts, known
from drill.model import Control, Scope, Severity
from drill.registry import Outcome, check


@check(
    "freshness",
    severity=Severity.HIGH,
    scope=Scope.DATABASE_TARGET,
    controls=(Control.ISO27001_A_8_13, Control.SOC2_A1_2),
    remediation="Find out why the backup job stopped writing to this target; the RPO is already missed.",
)
def freshness(facts: DatabaseTargetFacts) -> Iterator[Outcome]:
    """Newest snapshot is younger than max_age."""
    listing = known(facts.listing)
    latest = listing.latest
    if latest is None:
        yield Outcome.failed(
            f"No snapshot of {facts.database.name} matches {listing.pattern!r} on {facts.target.name}.",
            pattern=listing.pattern,
            snapshots=0,
        )
        return
    age = facts.now - latest.created_at
    limit = facts.policy.max_age
    evidence = {
        "snapshot": latest.key,
        "created_at": latest.created_at,
        "age_seconds": round(age.total_seconds()),
        "max_age_seconds": round(limit.total_seconds()),
        "snapshots": listing.count,
    }
    if age <= limit:
        yield Outcome.passed(
            f"Newest snapshot {latest.key} is {format_duration(age)} old (limit {format_duration(limit)}).",
            **evidence,
        )
    else:
        yield Outcome.failed(
            f"Newest snapshot {latest.key} is {format_duration(age)} old, "
            f"older than the limit of {format_duration(limit)}.",
            **evidence,
        )
