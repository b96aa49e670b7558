"""The history line of a run (``drill.history/v1``): what ``history.jsonl`` keeps of it.

Its verdict, counts and failing findings (check, status and subject only), and each database's
restore drill in brief, read from the restore and integrity findings' evidence. Nothing else a
finding's evidence holds reaches the line, so no secret a finding quotes is kept there.
"""

from __future__ import annotations

from typing import Any

from drill.checks.integrity import IntegrityEvidence
from drill.checks.restore import RestoreEvidence
from drill.model import DrillRun, Evidence, Status


def summary(run: DrillRun) -> dict[str, Any]:
    """The history line of a run: its verdict, what failed, and each database's drill in brief; a run
    stopped by a signal also names it (``interrupted``), so a line written by an older drill stays as it was."""
    drills: dict[str, dict[str, Any]] = {}
    for finding in run.findings:
        if finding.check not in ("restore", "integrity") or finding.database is None:
            continue
        drill = drills.setdefault(finding.database, {"passed": True})
        drill["passed"] = (
            drill["passed"] and not finding.status.is_failing and finding.status is not Status.SKIPPED
        )
        if finding.check == "restore":
            drill.update(_restore_figures(finding.evidence))
        else:
            verified = finding.evidence if isinstance(finding.evidence, IntegrityEvidence) else None
            drill["table_rows"] = dict(verified.table_rows) if verified else {}
            drill["total_rows"] = verified.total_rows if verified else None
            drill["data_age_seconds"] = verified.data_age_seconds if verified else None
    line = {
        "schema": "drill.history/v1",
        "run_id": run.run_id,
        "command": run.command,
        "status": run.status.value,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat(),
        "duration_seconds": round(run.duration_seconds, 3),
        "config_sha256": run.config.sha256,
        "databases": [covered.name for covered in run.coverage.databases],
        "counts": run.counts(),
        "failing": [
            {
                "check": f.check,
                "status": f.status.value,
                "database": f.database,
                "target": f.target,
                "agent": f.agent,
            }
            for f in run.findings
            if f.status.is_failing
        ],
        "drills": drills,
    }
    if run.interrupted is not None:
        line["interrupted"] = run.interrupted.signal
    return line


def _restore_figures(evidence: Evidence | None) -> dict[str, Any]:
    """What a history line keeps of a restore drill; null where the finding recorded no drill."""
    restored = evidence if isinstance(evidence, RestoreEvidence) else None
    return {
        "snapshot": restored.snapshot if restored else None,
        "snapshot_size": restored.snapshot_size if restored else None,
        "source_target": restored.source_target if restored else None,
        "download_seconds": restored.download_seconds if restored else None,
        "server_wait_seconds": restored.server_wait_seconds if restored else None,
        "restore_seconds": restored.restore_seconds if restored else None,
        "verify_seconds": restored.verify_seconds if restored else None,
        "total_seconds": restored.total_seconds if restored else None,
        "rto_seconds": restored.rto_seconds if restored else None,
        "snapshot_age_seconds": restored.snapshot_age_seconds if restored else None,
    }
