"""What the HTML report shows of one database's restore drill: its figures and what was verified.

Worked out from the ``restore`` and ``integrity`` findings' evidence alone; a finding whose
evidence is of another kind (the drill could not run, or a record this drill cannot read) shows
its message and dashes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drill.checks.integrity import IntegrityEvidence
from drill.checks.restore import RestoreEvidence
from drill.model import Finding, Status
from drill.reports.formatting import as_number, human_bytes, human_count, human_seconds, human_time

# A report lists at most this many tables' row counts per database; run.json has them all.
MAX_TABLES = 50


@dataclass(frozen=True)
class Timing:
    label: str
    seconds: float | None

    @property
    def text(self) -> str:
        return human_seconds(self.seconds)


@dataclass(frozen=True)
class QueryRow:
    name: str
    expect: str
    value: str
    error: str | None


@dataclass(frozen=True)
class TableRows:
    table: str
    rows: int


@dataclass(frozen=True)
class DrillView:
    status: Status
    message: str
    source_target: str
    snapshot: str
    snapshot_size: str
    snapshot_created: str
    snapshot_age: str
    dump_format: str
    failed_stage: str | None
    timings: tuple[Timing, ...]
    total: Timing
    rto: Timing | None
    within_rto: bool | None
    integrity_status: Status | None
    integrity_message: str | None
    recovery_point: str
    data_age: str
    total_rows: str
    previous_total_rows: str | None
    tables: tuple[TableRows, ...]
    tables_omitted: int
    queries: tuple[QueryRow, ...]
    problems: tuple[str, ...]


def _text(value: Any) -> str:
    return "-" if value is None else str(value)


def drill_view(findings: list[Finding]) -> DrillView | None:
    """From the restore and integrity findings of one database."""
    restore = next((finding for finding in findings if finding.check == "restore"), None)
    if restore is None:
        return None
    integrity = next((finding for finding in findings if finding.check == "integrity"), None)
    restored = restore.evidence if isinstance(restore.evidence, RestoreEvidence) else None
    checked = integrity.evidence if integrity and isinstance(integrity.evidence, IntegrityEvidence) else None
    total = as_number(restored.total_seconds) if restored else None
    rto = as_number(restored.rto_seconds) if restored else None
    failed_stage = restored.failed_stage if restored else None
    tables = sorted(
        (TableRows(name, rows) for name, rows in (checked.table_rows.items() if checked else ())),
        key=lambda entry: (-entry.rows, entry.table),
    )
    previous_total = checked.previous_total_rows if checked else None
    return DrillView(
        status=restore.status,
        message=restore.message,
        source_target=_text(restored.source_target if restored else None),
        snapshot=_text(restored.snapshot if restored else None),
        snapshot_size=human_bytes(restored.snapshot_size if restored else None),
        snapshot_created=human_time(restored.snapshot_created_at if restored else None),
        snapshot_age=human_seconds(restored.snapshot_age_seconds if restored else None),
        dump_format=_text(restored.dump_format if restored else None),
        failed_stage=failed_stage,
        timings=_timings(restored),
        total=Timing("total", total),
        rto=Timing("RTO target", rto) if rto is not None else None,
        # A drill that stopped half-way never recovered, so it is neither within nor over the RTO.
        within_rto=None if rto is None or total is None or failed_stage else total <= rto,
        integrity_status=integrity.status if integrity else None,
        integrity_message=integrity.message if integrity else None,
        recovery_point=human_time(checked.recovery_point if checked else None),
        data_age=human_seconds(checked.data_age_seconds if checked else None),
        total_rows=human_count(
            (checked.total_rows if checked else None) or (restored.total_rows if restored else None)
        ),
        previous_total_rows=human_count(previous_total) if previous_total is not None else None,
        tables=tuple(tables[:MAX_TABLES]),
        tables_omitted=max(0, len(tables) - MAX_TABLES),
        queries=tuple(
            QueryRow(query.name, query.expect, human_count(as_number(query.value)), query.error)
            for query in (checked.queries if checked else ())
        ),
        problems=checked.problems if checked else (),
    )


def _timings(restored: RestoreEvidence | None) -> tuple[Timing, ...]:
    stages = (
        ("download", restored.download_seconds if restored else None),
        ("server start (not hidden by the download)", restored.server_wait_seconds if restored else None),
        ("restore", restored.restore_seconds if restored else None),
        ("verify", restored.verify_seconds if restored else None),
    )
    return tuple(Timing(label, as_number(seconds)) for label, seconds in stages)
