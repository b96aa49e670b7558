from dataclasses import replace
from datetime import timedelta
from typing import Any

from drill.checks.wal_replay import wal_replay
from drill.config import Policy
from drill.engine import evaluate
from drill.facts import DrillOutcome, RestoreFacts, Timings, WalReplay
from drill.model import Finding, Status, Unavailable
from tests import factories

SPEC = wal_replay.__drill_check__  # type: ignore[attr-defined]
REACHED = WalReplay(
    stanza="main",
    repo=1,
    backup="20261122-100000F",
    backup_type="full",
    backup_stopped_at=factories.NOW - timedelta(hours=2),
    pg_version="15",
    replayed_to="0/5000000",
    last_segment="000000010000000000000004",
    archive_newest="000000010000000000000004",
    missing=None,
    last_transaction_at=factories.NOW - timedelta(minutes=5),
)


def judged(replay: WalReplay | None, dump_format: str = "pgbackrest", **policy: Any) -> Finding:
    outcome = DrillOutcome(
        "main", None, dump_format=dump_format, timings=Timings(replay_seconds=1.5), replay=replay
    )
    facts = RestoreFacts(factories.database(), Policy(**policy), factories.NOW, outcome)
    [finding] = evaluate(SPEC, facts)
    return finding


def test_recovery_to_the_archives_newest_segment_passes_with_the_data_age() -> None:
    finding = judged(REACHED)
    assert finding.status is Status.PASS
    assert "newest segment 000000010000000000000004" in finding.message and "5m ago" in finding.message
    assert finding.evidence.data_age_seconds == 300 and finding.evidence.replay_seconds == 1.5


def test_recovery_that_stopped_before_the_archives_end_fails_naming_the_segment() -> None:
    finding = judged(
        replace(
            REACHED,
            last_segment="000000010000000000000002",
            missing="000000010000000000000003",
            replayed_to="0/3000000",
        )
    )
    assert finding.status is Status.FAIL
    assert "000000010000000000000003 is missing" in finding.message and "stopped early" in finding.message
    assert finding.evidence.missing_segment == "000000010000000000000003"


def test_an_archive_that_could_not_be_compared_is_an_error() -> None:
    finding = judged(replace(REACHED, unknown="the archive could not be read: access denied"))
    assert finding.status is Status.ERROR and "access denied" in finding.message


def test_recovered_data_older_than_max_age_warns() -> None:
    finding = judged(
        replace(REACHED, last_transaction_at=factories.NOW - timedelta(days=3)), max_age=timedelta(days=1)
    )
    assert finding.status is Status.WARN and "older than max_age" in finding.message


def test_a_dump_replays_no_wal_and_is_skipped() -> None:
    assert judged(None, dump_format="custom").status is Status.SKIPPED
    assert "nothing was recovered" in judged(None).message


def test_a_drill_that_could_not_run_is_an_error() -> None:
    facts = RestoreFacts(
        factories.database(), Policy(), factories.NOW, Unavailable("no PostgreSQL 16 server")
    )
    [finding] = evaluate(SPEC, facts)
    assert finding.status is Status.ERROR and "PostgreSQL 16" in finding.message
