"""The run as JSON, schema ``drill.run/v1``: the machine-readable record other reports build on.

``run_from_dict`` reads such a record back, so that an evidence pack can be built from the runs a
report directory kept. Fields added later (``checks``, ``coverage``, ``interrupted``, ``baseline``) are optional on the way in:
runs recorded by an older drill still load. Each finding's evidence is written and read by
``drill.evidence``; the record's JSON schema is ``reports.run_schema``'s.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from drill import evidence
from drill.model import (
    BaselineIdentity,
    CheckInfo,
    ConfigIdentity,
    Coverage,
    CoveredDatabase,
    DrillRun,
    Finding,
    Interruption,
    Phase,
    Scope,
    Severity,
    Status,
)
from drill.reports.formatting import as_datetime

SCHEMA = "drill.run/v1"


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    return {
        "check": finding.check,
        "status": finding.status.value,
        "severity": finding.severity.value,
        "target": finding.target,
        "database": finding.database,
        "agent": finding.agent,
        "message": finding.message,
        "evidence": evidence.to_json(finding.evidence),
        "remediation": finding.remediation,
    }


def run_to_dict(run: DrillRun) -> dict[str, Any]:
    """The record; ``interrupted`` is there only for a run a signal stopped, so older records read the same."""
    record = {
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
        "checks": [
            {
                "id": info.id,
                "title": info.title,
                "scope": info.scope.value,
                "phase": info.phase.value,
                "severity": info.severity.value,
                "controls": list(info.controls),
            }
            for info in run.checks
        ],
        "coverage": {
            "databases": [
                {"name": covered.name, "site": covered.site, "targets": list(covered.targets)}
                for covered in run.coverage.databases
            ],
            "targets": list(run.coverage.targets),
            "agents": list(run.coverage.agents),
        },
        "findings": [finding_to_dict(finding) for finding in run.findings],
    }
    if run.interrupted is not None:
        record["interrupted"] = {"signal": run.interrupted.signal, "during": run.interrupted.during.value}
    if run.baseline is not None:
        record["baseline"] = _baseline_to_dict(run.baseline)
    return record


def _baseline_to_dict(baseline: BaselineIdentity) -> dict[str, Any]:
    return {
        "path": baseline.path,
        "sha256": baseline.sha256,
        "approved_by": baseline.approved_by,
        "approved_at": baseline.approved_at.isoformat() if baseline.approved_at else None,
        "problem": baseline.problem,
    }


def render_json(run: DrillRun) -> str:
    return json.dumps(run_to_dict(run), indent=2, ensure_ascii=False) + "\n"


class RunRecordError(ValueError):
    """A file that is not a drill.run/v1 record, or one with a field of the wrong shape."""


def _finding_from_dict(data: dict[str, Any]) -> Finding:
    check = str(data["check"])
    return Finding(
        check=check,
        status=Status(data["status"]),
        severity=Severity(data["severity"]),
        message=str(data["message"]),
        target=data.get("target"),
        database=data.get("database"),
        agent=data.get("agent"),
        evidence=evidence.from_json(data.get("evidence"), check),
        remediation=data.get("remediation"),
    )


def _check_from_dict(data: dict[str, Any]) -> CheckInfo:
    return CheckInfo(
        id=str(data["id"]),
        title=str(data["title"]),
        scope=Scope(data["scope"]),
        phase=Phase(data["phase"]),
        severity=Severity(data["severity"]),
        controls=tuple(str(control) for control in data.get("controls") or ()),
    )


def _coverage_from_dict(data: dict[str, Any]) -> Coverage:
    return Coverage(
        databases=tuple(
            CoveredDatabase(str(item["name"]), str(item["site"]), tuple(map(str, item["targets"])))
            for item in data.get("databases") or ()
        ),
        targets=tuple(map(str, data.get("targets") or ())),
        agents=tuple(map(str, data.get("agents") or ())),
    )


def _interruption_from_dict(data: Any) -> Interruption | None:
    if data is None:
        return None
    return Interruption(signal=str(data["signal"]), during=Phase(data["during"]))


def _baseline_from_dict(data: Any) -> BaselineIdentity | None:
    if data is None:
        return None
    approved_at = data.get("approved_at")

    def text(key: str) -> str | None:
        value = data.get(key)
        return None if value is None else str(value)

    return BaselineIdentity(
        path=str(data["path"]),
        sha256=text("sha256"),
        approved_by=text("approved_by"),
        approved_at=None if approved_at is None else _moment(approved_at),
        problem=text("problem"),
    )


def _moment(text: Any) -> datetime:
    """drill writes UTC with its offset; a hand-made record without one is taken as UTC too."""
    moment = as_datetime(text)
    if moment is None:
        raise ValueError(f"{text!r} is not an ISO 8601 time")
    return moment


def run_from_dict(data: Any) -> DrillRun:
    """The run a drill.run/v1 record describes, its evidence read into the types the checks declare."""
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise RunRecordError(f"not a {SCHEMA} record")
    try:
        config = data["config"]
        return DrillRun(
            run_id=str(data["run_id"]),
            command=str(data["command"]),
            started_at=_moment(data["started_at"]),
            finished_at=_moment(data["finished_at"]),
            config=ConfigIdentity(str(config["path"]), str(config["sha256"])),
            drill_version=str(data["drill_version"]),
            findings=tuple(_finding_from_dict(item) for item in data["findings"]),
            checks=tuple(_check_from_dict(item) for item in data.get("checks") or ()),
            coverage=_coverage_from_dict(data.get("coverage") or {}),
            interrupted=_interruption_from_dict(data.get("interrupted")),
            baseline=_baseline_from_dict(data.get("baseline")),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise RunRecordError(f"malformed {SCHEMA} record: {type(error).__name__}: {error}") from None


def parse_json(text: str | bytes) -> DrillRun:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RunRecordError(f"not JSON: {error}") from None
    return run_from_dict(data)
