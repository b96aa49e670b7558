"""History lines as drill.history writes them, and the index view the index tests build from them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from drill.reports.charts import LineChart
from drill.reports.index_view import (
    DatabaseTrend,
    IndexView,
    index_of,
)

DAY_1 = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
GENERATED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
MB = 1024 * 1024


def run_id(number: int) -> str:
    """A drill run id for the ``number``-th run, which starts ``number`` hours after DAY_1."""
    return f"{DAY_1 + timedelta(hours=number):%Y%m%dT%H%M%SZ}-{number:08x}"


def drill(
    passed: bool = True,
    total_seconds: float | None = 16.0,
    rto_seconds: float | None = 3600.0,
    snapshot_size: float | None = 4096,
    total_rows: float | None = 500,
) -> dict[str, Any]:
    return {
        "passed": passed,
        "total_seconds": total_seconds,
        "rto_seconds": rto_seconds,
        "snapshot_size": snapshot_size,
        "total_rows": total_rows,
    }


def line(number: int, status: str = "pass", **overrides: Any) -> dict[str, Any]:
    """A history line as drill.history writes it, for the ``number``-th run."""
    started = DAY_1 + timedelta(hours=number)
    entry: dict[str, Any] = {
        "schema": "drill.history/v1",
        "run_id": run_id(number),
        "command": "run",
        "status": status,
        "started_at": started.isoformat(),
        "finished_at": (started + timedelta(minutes=5)).isoformat(),
        "duration_seconds": 301.235,
        "config_sha256": "ab" * 32,
        "counts": {"pass": 3, "warn": 0, "fail": 0, "error": 0, "skipped": 0},
        "failing": [],
        "drills": {},
    }
    entry.update(overrides)
    return entry


def failing(check: str, database: str | None = "orders", target: str | None = "vault") -> dict[str, Any]:
    return {"check": check, "status": "fail", "database": database, "target": target, "agent": None}


def view_of(*entries: Any, reports: set[str] | None = None) -> IndexView:
    kept = {entry.get("run_id") for entry in entries} if reports is None else reports
    return index_of(entries, generated_at=GENERATED, has_report=lambda name: name in kept)


def trend(view: IndexView, name: str) -> DatabaseTrend:
    (found,) = [each for each in view.trends if each.name == name]
    return found


def chart(of: DatabaseTrend, title: str) -> LineChart:
    (found,) = [each for each in of.charts if each.title == title]
    return found
