from datetime import datetime, timedelta
from typing import Any

from drill.checks.integrity import integrity
from drill.config import IntegrityQuery, Policy
from drill.engine import evaluate
from drill.facts import (
    DrillOutcome,
    IndexVerdict,
    PreviousDrill,
    QueryVerdict,
    RestoreFacts,
    SequenceVerdict,
    TableRows,
    Verification,
)
from drill.model import Finding, Severity, Status, Unavailable
from tests import factories

SPEC = integrity.__drill_check__  # type: ignore[attr-defined]
QUERIES = (
    IntegrityQuery(name="customers", sql="SELECT count(*) FROM customers", expect=">= 1000"),
    IntegrityQuery(name="orphans", sql="SELECT count(*) FROM lines", expect="== 0"),
)


def verification(**fields: Any) -> Verification:
    values: dict[str, Any] = {
        "tables": (TableRows("public.customers", 1200), TableRows("public.orders", 5000)),
        "indexes": (IndexVerdict("public.orders_pkey", "public.orders", None),),
        "queries": (
            QueryVerdict("customers", ">= 1000", 1200.0, None),
            QueryVerdict("orphans", "== 0", 0.0, None),
        ),
        "sequences": (SequenceVerdict("public.orders_id_seq", "public.orders.id", 5000, 5000),),
        "recovery_point": factories.NOW - timedelta(hours=3),
    }
    values.update(fields)
    return Verification(**values)


def judged(
    found: Verification | None = None,
    *,
    previous: PreviousDrill | None = None,
    outcome: DrillOutcome | Unavailable | None = None,
    policy: Policy | None = None,
) -> Finding:
    drill = outcome or DrillOutcome(
        "vault", factories.snapshot(age=timedelta(hours=1)), verification=found or verification()
    )
    facts = RestoreFacts(
        factories.database(checks=QUERIES), policy or Policy(), factories.NOW, drill, previous
    )
    [finding] = evaluate(SPEC, facts)
    return finding


def previous(**rows: int) -> PreviousDrill:
    return PreviousDrill("run-1", datetime(2026, 11, 21, tzinfo=factories.NOW.tzinfo), True, rows)


def test_sound_data_passes_with_counts_and_data_age() -> None:
    finding = judged()
    assert finding.status is Status.PASS
    assert finding.evidence.total_rows == 6200
    assert finding.evidence.table_rows == {"public.customers": 1200, "public.orders": 5000}
    assert finding.evidence.data_age_seconds == 3 * 3600
    assert "data age 3h" in finding.message


def test_a_corrupt_index_fails_critical() -> None:
    broken = IndexVerdict(
        "public.orders_pkey", "public.orders", 'item order invariant violated for index "orders_pkey"'
    )
    finding = judged(verification(indexes=(broken,)))
    assert finding.status is Status.FAIL
    assert finding.severity is Severity.CRITICAL
    assert "orders_pkey" in finding.message and "invariant violated" in finding.message


def test_a_table_that_lost_more_than_max_size_drop_of_its_rows_fails_critical() -> None:
    finding = judged(previous=previous(**{"public.customers": 1200, "public.orders": 20000}))
    assert finding.status is Status.FAIL
    assert finding.severity is Severity.CRITICAL
    assert "public.orders fell from 20000 to 5000 rows (75% fewer)" in finding.message


def test_a_table_that_shrank_within_max_size_drop_passes() -> None:
    finding = judged(previous=previous(**{"public.customers": 1300, "public.orders": 6000}))
    assert finding.status is Status.PASS
    assert finding.evidence.previous_total_rows == 7300


def test_a_table_missing_since_the_previous_drill_fails() -> None:
    finding = judged(
        previous=previous(**{"public.customers": 1200, "public.orders": 5000, "public.invoices": 10})
    )
    assert finding.status is Status.FAIL
    assert "public.invoices" in finding.message and "missing" in finding.message


def test_a_query_below_its_expectation_fails() -> None:
    found = verification(
        queries=(QueryVerdict("customers", ">= 1000", 12.0, None), QueryVerdict("orphans", "== 0", 0.0, None))
    )
    finding = judged(found)
    assert finding.status is Status.FAIL
    assert "query 'customers' returned 12, expected >= 1000" in finding.message


def test_a_query_that_errors_fails_naming_the_cause() -> None:
    found = verification(
        queries=(
            QueryVerdict("customers", ">= 1000", None, 'relation "customers" does not exist'),
            QueryVerdict("orphans", "== 0", 0.0, None),
        )
    )
    finding = judged(found)
    assert finding.status is Status.FAIL
    assert "query 'customers' failed: relation \"customers\" does not exist" in finding.message


def test_a_sequence_behind_its_column_fails() -> None:
    found = verification(sequences=(SequenceVerdict("public.orders_id_seq", "public.orders.id", 10, 5000),))
    finding = judged(found)
    assert finding.status is Status.FAIL
    assert "sequence public.orders_id_seq is at 10 but public.orders.id already holds 5000" in finding.message


def test_stale_data_in_a_fresh_snapshot_warns() -> None:
    finding = judged(verification(recovery_point=factories.NOW - timedelta(days=4)))
    assert finding.status is Status.WARN
    assert "stale replica" in finding.message


def test_an_unreadable_recovery_point_column_is_an_error() -> None:
    finding = judged(
        verification(
            recovery_point=None, recovery_point_error='orders.created: column "created" does not exist'
        )
    )
    assert finding.status is Status.ERROR


def test_nothing_restored_means_nothing_to_verify() -> None:
    outcome = DrillOutcome("vault", factories.snapshot(), failed_stage="fetch", failure="truncated")
    finding = judged(outcome=outcome)
    assert finding.status is Status.SKIPPED


def test_a_broken_setup_is_an_error() -> None:
    finding = judged(outcome=Unavailable("initdb failed."))
    assert finding.status is Status.ERROR
