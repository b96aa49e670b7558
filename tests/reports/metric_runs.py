"""The runs the metrics tests publish: one that passes, one that fails, and their restore findings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from prometheus_client import generate_latest

from drill.model import DrillRun, Finding, Severity, Status
from drill.reports.metrics import (
    registry_for,
)
from tests.reports.runs import CHECKS, at, finding, make_run, verified

STARTED = at(10, 3)
YESTERDAY = STARTED - timedelta(days=1)
LAST_WEEK = STARTED - timedelta(days=7)
CHECK_IDS = {info.id for info in CHECKS}


def restore_finding(
    database: str,
    status: Status = Status.PASS,
    *,
    failed_stage: str | None = None,
    total_seconds: float = 42.5,
    rto_seconds: float | None = 3600.0,
    snapshot_age_seconds: float | None = 5400.0,
) -> Finding:
    """A restore finding with the evidence checks/restore.py records."""
    return finding(
        "restore",
        status,
        database=database,
        severity=Severity.CRITICAL,
        evidence={
            "snapshot": f"{database}/{database}-latest.dump",
            "source_target": "vault",
            "total_seconds": total_seconds,
            "rto_seconds": rto_seconds,
            "snapshot_age_seconds": snapshot_age_seconds,
            "failed_stage": failed_stage,
        },
    )


def passing_run(command: str = "run", started: Any = STARTED) -> DrillRun:
    return make_run(
        started,
        restore_finding("orders"),
        verified("orders"),
        restore_finding("billing", total_seconds=900.0, rto_seconds=None, snapshot_age_seconds=60.0),
        verified("billing"),
        finding("freshness", database="orders", target="vault"),
        finding("copies_3_2_1", Status.WARN, database="billing"),
        command=command,
        databases=("orders", "billing"),
        duration=timedelta(minutes=5),
    )


def failing_run(command: str = "run") -> DrillRun:
    return make_run(
        STARTED,
        restore_finding("orders", Status.FAIL, failed_stage="restore", total_seconds=12.0),
        finding("integrity", Status.SKIPPED, database="orders"),
        restore_finding("billing", Status.FAIL, total_seconds=7200.0),  # over its RTO, but it restored
        verified("billing"),
        finding("freshness", Status.FAIL, database="billing", target="vault"),
        finding("immutability", Status.ERROR, database=None, target="vault"),
        finding("copies_3_2_1", database="orders"),
        command=command,
        databases=("orders", "billing"),
        duration=timedelta(seconds=90),
    )


def exposition(run: DrillRun, last_success: dict[str, Any] | None = None) -> str:
    return generate_latest(registry_for(run, last_success or {})).decode()
