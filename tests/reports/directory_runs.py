"""Runs the report directory tests publish, and what they read back out of the directory."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from drill import history
from drill.model import ConfigIdentity, DrillRun, Finding, Severity, Status
from tests.reports.runs import recorded

DAY_1 = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
PROJECT = Path(__file__).resolve().parents[2]
HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def finding(check: str, status: Status, database: str | None = "orders", **evidence: Any) -> Finding:
    return Finding(
        check=check,
        status=status,
        severity=Severity.HIGH,
        message=f"{check} on {database}: {status.value}.",
        database=database,
        target="vault",
        evidence=recorded(check, evidence),
    )


def restore(status: Status = Status.PASS, size: int = 100 * 1024 * 1024) -> Finding:
    return finding("restore", status, snapshot_size=size, total_seconds=16.0, rto_seconds=3600.0)


def integrity(rows: int, status: Status = Status.PASS) -> Finding:
    return finding("integrity", status, table_rows={"public.orders": rows}, total_rows=rows)


def run(day: int, *findings: Finding, command: str = "run") -> DrillRun:
    started = DAY_1 + timedelta(days=day - 1)
    return DrillRun(
        run_id=f"{started:%Y%m%dT%H%M%SZ}-{day:08x}",
        command=command,
        started_at=started,
        finished_at=started + timedelta(minutes=5),
        config=ConfigIdentity(path="/etc/drill/drill.toml", sha256="ab" * 32),
        drill_version="0.1.0",
        findings=findings or (restore(), integrity(1000)),
    )


def links(index_html: str) -> list[str]:
    return re.findall(r'href="(runs/[^"]*)"', index_html)


def hidden_files(report_dir: Path) -> list[Path]:
    return [path for path in report_dir.rglob("*") if path.name.startswith(".")]


def history_lines(report_dir: Path) -> list[bytes]:
    return (report_dir / history.HISTORY_FILE).read_bytes().split(b"\n")
