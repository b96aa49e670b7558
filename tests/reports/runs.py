"""Builders of finished runs for the report tests, and a way to publish them into a real report directory."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from drill import evidence
from drill.model import (
    CheckInfo,
    ConfigIdentity,
    Control,
    Coverage,
    CoveredDatabase,
    DrillRun,
    Evidence,
    Finding,
    Phase,
    Scope,
    Severity,
    Status,
)
from drill.reports.directory import publish

# The third quarter of 2026; every run below is placed relative to its first moment.
Q3_START = datetime(2026, 7, 1, tzinfo=UTC)
CONFIG = ConfigIdentity(path="drill.toml", sha256="c" * 64)

# What a run records of the checks it ran, with the controls each evidences.
CHECKS = (
    CheckInfo(
        "restore",
        "The newest snapshot restores with zero errors, within the RTO.",
        Scope.RESTORE,
        Phase.RESTORE,
        Severity.CRITICAL,
        (Control.ISO27001_A_8_13.value, Control.ISO27001_A_5_30.value, Control.SOC2_A1_3.value),
    ),
    CheckInfo(
        "integrity",
        "Indexes, row counts and integrity queries hold on the restored copy.",
        Scope.RESTORE,
        Phase.RESTORE,
        Severity.HIGH,
        (Control.ISO27001_A_8_13.value, Control.ISO27001_A_5_30.value, Control.SOC2_A1_3.value),
    ),
    CheckInfo(
        "freshness",
        "The newest snapshot is younger than the policy's max_age.",
        Scope.DATABASE_TARGET,
        Phase.POSTURE,
        Severity.HIGH,
        (Control.ISO27001_A_8_13.value, Control.SOC2_A1_2.value),
    ),
    CheckInfo(
        "copies_3_2_1",
        "The newest snapshot exists in enough separate, fresh, consistent and immutable copies.",
        Scope.DATABASE,
        Phase.POSTURE,
        Severity.HIGH,
        (Control.ISO27001_A_8_13.value, Control.SOC2_A1_2.value, Control.SOC2_A1_3.value),
    ),
    CheckInfo(
        "immutability",
        "The target proves its snapshots cannot be deleted or rewritten.",
        Scope.TARGET,
        Phase.POSTURE,
        Severity.CRITICAL,
        (Control.ISO27001_A_8_13.value, Control.SOC2_A1_2.value),
    ),
)


# Every field the restore and integrity checks record, blank: a builder names only what its test reads.
RESTORE_FIELDS: Mapping[str, Any] = {
    "source_target": None,
    "snapshot": None,
    "snapshot_size": None,
    "snapshot_created_at": None,
    "snapshot_age_seconds": None,
    "dump_format": None,
    "dump_version": None,
    "download_seconds": 0.0,
    "server_wait_seconds": 0.0,
    "restore_seconds": 0.0,
    "verify_seconds": 0.0,
    "total_seconds": 0.0,
    "rto_seconds": None,
    "failed_stage": None,
    "total_rows": None,
    "tables": None,
    "kept": None,
}
INTEGRITY_FIELDS: Mapping[str, Any] = {
    "table_rows": {},
    "total_rows": 0,
    "previous_drill": None,
    "previous_total_rows": None,
    "indexes_checked": 0,
    "queries": [],
    "sequences_checked": 0,
    "recovery_point": None,
    "data_age_seconds": None,
    "snapshot_age_seconds": None,
    "problems": [],
}
_BLANK_FIELDS = {"restore": RESTORE_FIELDS, "integrity": INTEGRITY_FIELDS}


def recorded(check: str, fields: Mapping[str, Any] | None) -> Evidence | None:
    """``fields`` as a run record of ``check`` holds them, read back as drill reads run records.

    The restore and integrity checks' fields not named take blank values. A field the check does
    not record keeps the whole evidence raw (UnparsedEvidence), as a foreign record would.
    """
    if not fields:
        return None
    written = json.dumps({**_BLANK_FIELDS.get(check, {}), **fields}, default=_isoformat)
    return evidence.from_json(json.loads(written), check)


def _isoformat(value: datetime) -> str:
    return value.isoformat()


def at(days: float = 0, hours: float = 0) -> datetime:
    """A moment in the quarter: ``at(3, 2)`` is 2026-07-04 02:00 UTC."""
    return Q3_START + timedelta(days=days, hours=hours)


def run_id(started: datetime, serial: int = 0) -> str:
    return f"{started.astimezone(UTC):%Y%m%dT%H%M%SZ}-{serial:08x}"


def finding(
    check: str,
    status: Status = Status.PASS,
    *,
    database: str | None = "orders",
    target: str | None = None,
    agent: str | None = None,
    message: str | None = None,
    severity: Severity = Severity.HIGH,
    evidence: Mapping[str, Any] | None = None,
) -> Finding:
    subject = " / ".join(part for part in (agent, database, target) if part) or "-"
    return Finding(
        check=check,
        status=status,
        severity=severity,
        message=message or f"{check} on {subject}: {status.value}.",
        target=target,
        database=database,
        agent=agent,
        evidence=recorded(check, evidence),
    )


def restored(
    database: str = "orders",
    status: Status = Status.PASS,
    *,
    snapshot: str | None = None,
    total_seconds: float = 42.5,
    rto_seconds: float | None = 3600.0,
    message: str | None = None,
) -> Finding:
    """The ``restore`` finding of one drill, with the evidence the restore check records."""
    return finding(
        "restore",
        status,
        database=database,
        severity=Severity.CRITICAL,
        message=message,
        evidence={
            "snapshot": snapshot or f"{database}/{database}-latest.dump",
            "source_target": "vault",
            "total_seconds": total_seconds,
            "rto_seconds": rto_seconds,
        },
    )


def verified(database: str = "orders", status: Status = Status.PASS) -> Finding:
    """The ``integrity`` finding of one drill."""
    return finding(
        "integrity",
        status,
        database=database,
        evidence={"table_rows": {"public.orders": 10}, "total_rows": 10},
    )


def drill(
    database: str = "orders",
    restore: Status = Status.PASS,
    integrity: Status = Status.PASS,
    **restore_evidence: Any,
) -> tuple[Finding, Finding]:
    """Both findings of one restore drill of ``database``."""
    return restored(database, restore, **restore_evidence), verified(database, integrity)


def make_run(
    started: datetime,
    *findings: Finding | Iterable[Finding],
    command: str = "run",
    databases: Iterable[str] = ("orders",),
    duration: timedelta = timedelta(minutes=5),
    serial: int = 0,
) -> DrillRun:
    """A run started at ``started`` covering ``databases``; findings may be given singly or as drills."""
    flat: list[Finding] = []
    for item in findings:
        if isinstance(item, Finding):
            flat.append(item)
        else:
            flat.extend(item)
    return DrillRun(
        run_id=run_id(started, serial),
        command=command,
        started_at=started,
        finished_at=started + duration,
        config=CONFIG,
        drill_version="0.1.0",
        findings=tuple(flat),
        checks=CHECKS,
        coverage=Coverage(
            databases=tuple(CoveredDatabase(name, "prod", ("vault",)) for name in databases),
            targets=("vault",),
        ),
    )


def publish_all(report_dir: Path, *runs: DrillRun) -> None:
    """Write each run into ``report_dir`` as ``drill run`` does: run.json, report.html, a history line."""
    for run in runs:
        publish(run, report_dir, now=run.finished_at)
