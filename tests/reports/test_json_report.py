"""The run record: written as drill.run/v1 and read back, older records included."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from drill.model import (
    CheckInfo,
    ConfigIdentity,
    Coverage,
    CoveredDatabase,
    DrillRun,
    Finding,
    Phase,
    Scope,
    Severity,
    Status,
)
from drill.reports.json_report import RunRecordError, parse_json, render_json, run_from_dict, run_to_dict
from tests.reports.runs import recorded

STARTED = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
RUN = DrillRun(
    run_id="20261130T030000Z-0000abcd",
    command="run",
    started_at=STARTED,
    finished_at=STARTED + timedelta(seconds=5),
    config=ConfigIdentity("/etc/drill/drill.toml", "ab" * 32),
    drill_version="0.1.0",
    findings=(
        Finding(
            "restore",
            Status.FAIL,
            Severity.CRITICAL,
            "failed",
            database="orders",
            evidence=recorded("restore", {"total_seconds": 1.5}),
            remediation="Fix it.",
        ),
        Finding("trust_separation", Status.PASS, Severity.HIGH, "fine", agent="deployer", target="vault"),
    ),
    checks=(
        CheckInfo(
            "restore", "Restores", Scope.RESTORE, Phase.RESTORE, Severity.CRITICAL, ("ISO 27001 A.8.13",)
        ),
    ),
    coverage=Coverage((CoveredDatabase("orders", "prod", ("vault",)),), ("vault",), ("deployer",)),
)


def test_a_record_reads_back_as_the_run_it_was_written_from() -> None:
    assert parse_json(render_json(RUN)) == RUN


def test_a_record_from_before_checks_and_coverage_were_kept_still_loads() -> None:
    data = run_to_dict(RUN)
    del data["checks"], data["coverage"]
    old = run_from_dict(data)
    assert old.checks == () and old.coverage == Coverage()
    assert old.findings == RUN.findings


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json", "not JSON"),
        ("[]", "not a drill.run/v1 record"),
        (json.dumps({"schema": "drill.run/v2"}), "not a drill.run/v1 record"),
        (json.dumps({**run_to_dict(RUN), "findings": [{"check": "x", "status": "maybe"}]}), "malformed"),
        (json.dumps({**run_to_dict(RUN), "started_at": "yesterday"}), "malformed"),
    ],
)
def test_anything_else_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(RunRecordError, match=reason):
        parse_json(text)


def test_a_record_whose_times_carry_no_offset_is_read_as_utc() -> None:
    data = run_to_dict(RUN)
    data["started_at"], data["finished_at"] = "2026-11-30T03:00:00", "2026-11-30T03:00:05"
    assert run_from_dict(data).started_at == STARTED
