"""The run as JSON, schema ``drill.run/v1``: the machine-readable record other reports build on."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from drill.model import DrillRun, Finding

SCHEMA = "drill.run/v1"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    return {
        "check": finding.check,
        "status": finding.status.value,
        "severity": finding.severity.value,
        "target": finding.target,
        "database": finding.database,
        "agent": finding.agent,
        "message": finding.message,
        "evidence": dict(finding.evidence),
        "remediation": finding.remediation,
    }


def run_to_dict(run: DrillRun) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "run_id": run.run_id,
        "command": run.command,
        "status": run.status.value,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat(),
        "duration_seconds": round(run.duration_seconds, 3),
        "config": {"path": run.config.path, "sha256": run.config.sha256},
        "drill_version": run.drill_version,
        "counts": run.counts(),
        "findings": [finding_to_dict(finding) for finding in run.findings],
    }


def render_json(run: DrillRun) -> str:
    return json.dumps(run_to_dict(run), indent=2, default=_plain, ensure_ascii=False) + "\n"
