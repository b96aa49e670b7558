from datetime import timedelta
from typing import Any

from drill.checks.restore import restore
from drill.config import Policy
from drill.engine import evaluate
from drill.facts import DrillOutcome, RestoreFacts, Timings, Verification
from drill.model import Finding, Severity, Status, Unavailable
from tests import factories

SPEC = restore.__drill_check__  # type: ignore[attr-defined]
TIMINGS = Timings(download_seconds=2.0, restore_seconds=10.0, verify_seconds=3.0, total_seconds=15.5)
VERIFIED = Verification(tables=(), indexes=(), queries=(), sequences=(), recovery_point=None)


def drilled(outcome: DrillOutcome | Unavailable, **database: Any) -> Finding:
    facts = RestoreFacts(factories.database(**database), Policy(), factories.NOW, outcome)
    [finding] = evaluate(SPEC, facts)
    return finding


def outcome(**fields: Any) -> DrillOutcome:
    values: dict[str, Any] = {
        "source_target": "vault",
        "snapshot": factories.snapshot(age=timedelta(hours=2)),
        "dump_format": "custom",
        "dump_version": "15.18",
        "timings": TIMINGS,
        "verification": VERIFIED,
    }
    values.update(fields)
    return DrillOutcome(**values)


def test_a_clean_restore_passes_with_its_timings() -> None:
    finding = drilled(outcome())
    assert finding.status is Status.PASS
    assert "zero errors" in finding.message and "total 15.5s" in finding.message
    assert finding.evidence.restore_seconds == 10.0 and finding.evidence.snapshot_age_seconds == 7200


def test_a_clean_restore_within_the_rto_says_so() -> None:
    finding = drilled(outcome(), rto=timedelta(minutes=5))
    assert finding.status is Status.PASS
    assert "within the RTO of 5m" in finding.message
    assert finding.evidence.rto_seconds == 300


def test_a_restore_over_the_rto_fails() -> None:
    finding = drilled(outcome(), rto=timedelta(seconds=10))
    assert finding.status is Status.FAIL
    assert finding.severity is Severity.HIGH
    assert "over the RTO of 10s" in finding.message


def test_a_dump_that_does_not_restore_fails_critical_naming_the_stage_and_cause() -> None:
    finding = drilled(
        outcome(
            failed_stage="restore",
            failure='pg_restore exited with status 1: ERROR: relation "orders" already exists',
            verification=None,
        )
    )
    assert finding.status is Status.FAIL
    assert finding.severity is Severity.CRITICAL
    assert "failed at restore" in finding.message and "already exists" in finding.message
    assert finding.evidence.failed_stage == "restore"


def test_nothing_to_restore_fails() -> None:
    finding = drilled(
        DrillOutcome(
            None,
            None,
            failed_stage="fetch",
            failure="Nothing to restore: no target holds a readable snapshot.",
        )
    )
    assert finding.status is Status.FAIL
    assert "Nothing to restore" in finding.message


def test_a_broken_setup_is_an_error_not_a_verdict_on_the_backup() -> None:
    finding = drilled(
        Unavailable("No PostgreSQL server binaries found; install them with apt-get install postgresql.")
    )
    assert finding.status is Status.ERROR
    assert "apt-get install postgresql" in finding.message
