"""integrity: the restored data is sound: indexes, row counts, integrity queries, sequences, data age."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from drill.config import IntegrityQuery
from drill.durations import format_duration
from drill.facts import PreviousDrill, QueryVerdict, RestoreFacts, Verification, known
from drill.model import Control, Evidence, Phase, Scope, Severity, Status
from drill.registry import Outcome, check

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


@dataclass(frozen=True)
class QueryResult:
    """One configured integrity query on the restored copy: what it returned against what it expects."""

    name: str
    expect: str
    value: float | None
    error: str | None


@dataclass(frozen=True)
class IntegrityEvidence(Evidence):
    """What was verified on the restored copy, with the previous drill's row counts to compare."""

    kind: ClassVar[str] = "integrity"
    table_rows: Mapping[str, int]
    total_rows: int
    previous_drill: str | None
    previous_total_rows: int | None
    indexes_checked: int
    queries: tuple[QueryResult, ...]
    sequences_checked: int
    recovery_point: datetime | None
    data_age_seconds: int | None
    snapshot_age_seconds: int | None
    problems: tuple[str, ...]


def _query_problem(verdict: QueryVerdict, query: IntegrityQuery) -> str | None:
    if verdict.error:
        return f"query {verdict.name!r} failed: {verdict.error}"
    if verdict.value is None:
        return f"query {verdict.name!r} returned no value; expected {verdict.expect}"
    symbol, bound = query.comparison()
    if not _COMPARE[symbol](verdict.value, bound):
        return f"query {verdict.name!r} returned {verdict.value:g}, expected {verdict.expect}"
    return None


def _row_drops(verification: Verification, previous: PreviousDrill | None, max_drop: float) -> list[str]:
    if previous is None:
        return []
    now = {table.table: table.rows for table in verification.tables}
    drops = []
    for table, before in sorted(previous.table_rows.items()):
        after = now.get(table)
        if after is None:
            drops.append(f"table {table} ({before} rows in drill {previous.run_id}) is missing")
        elif before > 0 and after < before * (1 - max_drop):
            drops.append(f"table {table} fell from {before} to {after} rows ({1 - after / before:.0%} fewer)")
    return drops


@check(
    "integrity",
    severity=Severity.HIGH,
    scope=Scope.RESTORE,
    controls=(Control.ISO27001_A_8_13, Control.ISO27001_A_5_30, Control.SOC2_A1_3),
    phase=Phase.RESTORE,
    remediation=(
        "Inspect the restored copy (drill run --keep) and the source database: corrupt indexes, "
        "vanished rows or failing queries mean the backups carry the damage forward."
    ),
    evidence=(IntegrityEvidence,),
)
def integrity(facts: RestoreFacts) -> Iterator[Outcome]:
    """Indexes pass amcheck, no table lost rows, queries meet expectations, sequences are ahead."""
    outcome = known(facts.outcome)
    verification = outcome.verification
    if verification is None:
        yield Outcome.skipped("Nothing was restored, so nothing could be verified; see the restore finding.")
        return
    policy = facts.policy
    critical = [
        f"index {i.index} on {i.table} is corrupt: {i.error}" for i in verification.indexes if i.error
    ]
    critical += _row_drops(verification, facts.previous, policy.max_size_drop)
    queries = {query.name: query for query in facts.database.checks}
    problems = [p for v in verification.queries if (p := _query_problem(v, queries[v.name]))]
    problems += [
        f"sequence {s.sequence} is at {s.last_value} but {s.column} already holds {s.column_max}"
        for s in verification.sequences
        if s.behind
    ]
    data_age = facts.now - verification.recovery_point if verification.recovery_point else None
    snapshot_age = facts.now - outcome.snapshot.created_at if outcome.snapshot else None
    evidence = IntegrityEvidence(
        table_rows={table.table: table.rows for table in verification.tables},
        total_rows=verification.total_rows,
        previous_drill=facts.previous.run_id if facts.previous else None,
        previous_total_rows=sum(facts.previous.table_rows.values()) if facts.previous else None,
        indexes_checked=len(verification.indexes),
        queries=tuple(QueryResult(v.name, v.expect, v.value, v.error) for v in verification.queries),
        sequences_checked=len(verification.sequences),
        recovery_point=verification.recovery_point,
        data_age_seconds=round(data_age.total_seconds()) if data_age else None,
        snapshot_age_seconds=round(snapshot_age.total_seconds()) if snapshot_age else None,
        problems=tuple(critical + problems),
    )
    ages = f"data age {format_duration(data_age)}" if data_age is not None else "no recovery point column"
    summary = (
        f"{len(verification.tables)} tables, {verification.total_rows} rows, "
        f"{len(verification.indexes)} indexes, {len(verification.queries)} queries; {ages}"
    )
    if critical or problems:
        yield Outcome(
            Status.FAIL,
            f"Restored data is not sound: {'; '.join(critical + problems)}.",
            evidence,
            Severity.CRITICAL if critical else None,
        )
    elif verification.recovery_point_error:
        yield Outcome.errored(
            f"Could not read the recovery point: {verification.recovery_point_error}.", evidence
        )
    elif data_age is not None and data_age > policy.max_age:
        yield Outcome.warned(
            f"Restored data is sound but its newest row is {format_duration(data_age)} old, older than max_age "
            f"{format_duration(policy.max_age)}: the dump may come from a stale replica ({summary}).",
            evidence,
        )
    else:
        yield Outcome.passed(f"Restored data is sound: {summary}.", evidence)
