"""Runs the history tests summarise and record: restore and integrity findings with the evidence their checks record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from drill import history
from drill.model import ConfigIdentity, DrillRun, Finding, Severity, Status
from drill.reports import history_line
from tests.reports.runs import recorded

DAY_1 = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
SECRET = "hunter2-s3cr3t"
DSN = f"postgresql://drill:{SECRET}@db.internal:5432/orders"


def finding(check: str, status: Status, database: str | None = "orders", **evidence: Any) -> Finding:
    return Finding(
        check=check,
        status=status,
        severity=Severity.HIGH,
        message=f"{check} on {database}: {status.value}",
        database=database,
        evidence=recorded(check, evidence),
    )


def restore(status: Status = Status.PASS, database: str = "orders", **evidence: Any) -> Finding:
    fields: dict[str, Any] = {
        "snapshot": f"{database}/{database}-1.dump",
        "snapshot_size": 4096,
        "source_target": "vault",
        "download_seconds": 1.5,
        "server_wait_seconds": 0.25,
        "restore_seconds": 12.25,
        "verify_seconds": 2.0,
        "total_seconds": 16.0,
        "rto_seconds": 3600.0,
        "snapshot_age_seconds": 7200,
    }
    fields.update(evidence)
    return finding("restore", status, database, **fields)


def integrity(rows: dict[str, int], status: Status = Status.PASS, database: str = "orders") -> Finding:
    return finding(
        "integrity",
        status,
        database,
        table_rows=rows,
        total_rows=sum(rows.values()),
        data_age_seconds=5400,
    )


def run(run_id: str, day: int, *findings: Finding, command: str = "run") -> DrillRun:
    started = DAY_1 + timedelta(days=day - 1)
    return DrillRun(
        run_id=run_id,
        command=command,
        started_at=started,
        finished_at=started + timedelta(minutes=5, seconds=1.2345),
        config=ConfigIdentity(path="/etc/drill/drill.toml", sha256="ab" * 32),
        drill_version="0.1.0",
        findings=findings,
    )


def record(report_dir: Path, *runs: DrillRun) -> None:
    for each in runs:
        history.append(report_dir, history_line.summary(each))
