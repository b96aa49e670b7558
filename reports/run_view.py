"""What the HTML report of one run shows, worked out from the run alone.

The template only lays this out: which findings belong to which database, the 3-2-1-1-0
scorecard, the restore drill's numbers and the order (worst first) are decided here, so that
they are tested without a browser.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from drill.model import (
    WORST_FIRST,
    CheckInfo,
    CoveredDatabase,
    DrillRun,
    Finding,
    Severity,
    Status,
    overall_status,
)
from drill.reports.evidence_view import EvidenceItem, evidence_items, to_json_values
from drill.reports.formatting import as_number, human_bytes, human_count, human_seconds, human_time

SEVERITY_ORDER = {
    Severity.CRITICAL: 0,
    Severity.HIGH: 1,
    Severity.MEDIUM: 2,
    Severity.LOW: 3,
    Severity.INFO: 4,
}
# A report lists at most this many tables' row counts per database; run.json has them all.
MAX_TABLES = 50


def worst_first(findings: Iterable[tuple[int, Finding]]) -> list[tuple[int, Finding]]:
    return sorted(
        findings,
        key=lambda pair: (
            WORST_FIRST[pair[1].status],
            SEVERITY_ORDER[pair[1].severity],
            pair[1].check,
            pair[1].subject,
        ),
    )


@dataclass(frozen=True)
class FindingView:
    anchor: str
    check: str
    check_title: str
    status: Status
    severity: Severity
    subject: str
    message: str
    remediation: str | None
    controls: tuple[str, ...]
    evidence: tuple[EvidenceItem, ...]


@dataclass(frozen=True)
class Requirement:
    name: str
    have: int
    need: int

    @property
    def met(self) -> bool:
        return self.have >= self.need


@dataclass(frozen=True)
class CopyRow:
    target: str
    site: str
    media: str
    location: str
    snapshot: str
    present: bool
    offsite: bool
    fresh: bool
    consistent: bool
    immutable: bool | None  # None: could not be verified
    counted: bool
    why: str


@dataclass(frozen=True)
class Scorecard:
    status: Status
    message: str
    requirements: tuple[Requirement, ...]
    copies: tuple[CopyRow, ...]
    zero_status: Status | None  # the "0": a drill passed within the proof window
    zero_message: str | None


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


@dataclass(frozen=True)
class TrustRow:
    anchor: str
    agent: str
    target: str
    status: Status
    message: str


@dataclass(frozen=True)
class DatabaseSection:
    name: str
    anchor: str
    site: str
    targets: tuple[str, ...]
    status: Status
    scorecard: Scorecard | None
    drill: DrillView | None
    trust: tuple[TrustRow, ...]
    findings: tuple[FindingView, ...]


@dataclass(frozen=True)
class OtherSection:
    """Findings that belong to no database of the run: agents' exposure, targets no database uses."""

    status: Status
    findings: tuple[FindingView, ...]


@dataclass(frozen=True)
class FailureLink:
    anchor: str
    status: Status
    severity: Severity
    check: str
    subject: str
    message: str


@dataclass(frozen=True)
class ReportView:
    run_id: str
    command: str
    status: Status
    started: str
    finished: str
    duration: str
    config_path: str
    config_sha256: str
    drill_version: str
    counts: tuple[tuple[str, int], ...]
    failures: tuple[FailureLink, ...]
    databases: tuple[DatabaseSection, ...]
    other: OtherSection | None
    checks: tuple[CheckInfo, ...]


def _text(value: Any) -> str:
    return "-" if value is None else str(value)


class _Builder:
    """Builds one ReportView; keeps the anchors unique across sections."""

    def __init__(self, run: DrillRun) -> None:
        self.run = run
        self.checks = {info.id: info for info in run.checks}
        self.first_anchor: dict[int, str] = {}

    def finding_view(self, index: int, finding: Finding, section: str) -> FindingView:
        anchor = f"{section}-f{index}"
        self.first_anchor.setdefault(index, anchor)
        info = self.checks.get(finding.check)
        return FindingView(
            anchor=anchor,
            check=finding.check,
            check_title=info.title if info else finding.check,
            status=finding.status,
            severity=finding.severity,
            subject=finding.subject,
            message=finding.message,
            remediation=finding.remediation,
            controls=info.controls if info else (),
            evidence=evidence_items(finding.evidence),
        )

    def database_section(self, position: int, covered: CoveredDatabase) -> tuple[DatabaseSection, set[int]]:
        section = f"db{position}"
        targets = set(covered.targets)
        mine = [
            (index, finding)
            for index, finding in enumerate(self.run.findings)
            if finding.database == covered.name or (finding.database is None and finding.target in targets)
        ]
        ordered = worst_first(mine)
        views = [self.finding_view(index, finding, section) for index, finding in ordered]
        trust = tuple(
            TrustRow(
                view.anchor, finding.agent or "-", finding.target or "-", finding.status, finding.message
            )
            for (_, finding), view in zip(ordered, views, strict=True)
            if finding.check == "trust_separation"
        )
        status = overall_status([finding for _, finding in mine]) if mine else Status.SKIPPED
        return (
            DatabaseSection(
                name=covered.name,
                anchor=section,
                site=covered.site,
                targets=covered.targets,
                status=status,
                scorecard=scorecard([finding for _, finding in mine if finding.database == covered.name]),
                drill=drill_view([finding for _, finding in mine if finding.database == covered.name]),
                trust=trust,
                findings=tuple(views),
            ),
            {index for index, _ in mine},
        )

    def build(self) -> ReportView:
        run = self.run
        sections = []
        placed: set[int] = set()
        for position, covered in enumerate(run.coverage.databases):
            section, indexes = self.database_section(position, covered)
            sections.append(section)
            placed |= indexes
        rest = [(index, finding) for index, finding in enumerate(run.findings) if index not in placed]
        other = (
            OtherSection(
                overall_status([finding for _, finding in rest]),
                tuple(self.finding_view(index, finding, "other") for index, finding in worst_first(rest)),
            )
            if rest
            else None
        )
        failures = tuple(
            FailureLink(
                self.first_anchor[index],
                finding.status,
                finding.severity,
                finding.check,
                finding.subject,
                finding.message,
            )
            for index, finding in worst_first(enumerate(run.findings))
            if finding.status.is_failing
        )
        return ReportView(
            run_id=run.run_id,
            command=run.command,
            status=run.status,
            started=human_time(run.started_at),
            finished=human_time(run.finished_at),
            duration=human_seconds(run.duration_seconds),
            config_path=run.config.path,
            config_sha256=run.config.sha256,
            drill_version=run.drill_version,
            counts=tuple((status, count) for status, count in run.counts().items() if count),
            failures=failures,
            databases=tuple(sections),
            other=other,
            checks=run.checks,
        )


def scorecard(findings: list[Finding]) -> Scorecard | None:
    """From copies_3_2_1's two findings: the scorecard (it carries ``copies``) and the "0"."""
    mine = [finding for finding in findings if finding.check == "copies_3_2_1"]
    card = next((finding for finding in mine if "copies" in finding.evidence), None)
    zero = next((finding for finding in mine if finding is not card), None)
    if card is None:
        return None
    evidence = to_json_values(dict(card.evidence))
    score: Mapping[str, Any] = evidence.get("score") or {}
    required: Mapping[str, Any] = evidence.get("required") or {}
    return Scorecard(
        status=card.status,
        message=card.message,
        requirements=tuple(
            Requirement(name, int(score.get(name) or 0), int(required.get(name) or 0)) for name in required
        ),
        copies=tuple(_copy_row(copy) for copy in evidence.get("copies") or () if isinstance(copy, dict)),
        zero_status=zero.status if zero else None,
        zero_message=zero.message if zero else None,
    )


def _copy_row(copy: Mapping[str, Any]) -> CopyRow:
    immutable = copy.get("immutable")
    return CopyRow(
        target=_text(copy.get("target")),
        site=_text(copy.get("site")),
        media=_text(copy.get("media")),
        location=_text(copy.get("location")),
        snapshot=_text(copy.get("snapshot")),
        present=copy.get("snapshot") is not None,
        offsite=bool(copy.get("offsite")),
        fresh=bool(copy.get("fresh")),
        consistent=bool(copy.get("consistent")),
        immutable=immutable if isinstance(immutable, bool) else None,
        counted=bool(copy.get("counted")),
        why=_text(copy.get("why")),
    )


def drill_view(findings: list[Finding]) -> DrillView | None:
    """From the restore and integrity findings of one database."""
    restore = next((finding for finding in findings if finding.check == "restore"), None)
    if restore is None:
        return None
    integrity = next((finding for finding in findings if finding.check == "integrity"), None)
    evidence = to_json_values(dict(restore.evidence))
    checked = to_json_values(dict(integrity.evidence)) if integrity else {}
    total = as_number(evidence.get("total_seconds"))
    rto = as_number(evidence.get("rto_seconds"))
    table_rows = checked.get("table_rows") or {}
    tables = sorted(
        (TableRows(str(name), int(rows)) for name, rows in table_rows.items() if as_number(rows) is not None),
        key=lambda entry: (-entry.rows, entry.table),
    )
    previous_total = as_number(checked.get("previous_total_rows"))
    return DrillView(
        status=restore.status,
        message=restore.message,
        source_target=_text(evidence.get("source_target")),
        snapshot=_text(evidence.get("snapshot")),
        snapshot_size=human_bytes(as_number(evidence.get("snapshot_size"))),
        snapshot_created=human_time(evidence.get("snapshot_created_at")),
        snapshot_age=human_seconds(as_number(evidence.get("snapshot_age_seconds"))),
        dump_format=_text(evidence.get("dump_format")),
        failed_stage=evidence.get("failed_stage"),
        timings=tuple(
            Timing(label, as_number(evidence.get(key)))
            for label, key in (
                ("download", "download_seconds"),
                ("server start (not hidden by the download)", "server_wait_seconds"),
                ("restore", "restore_seconds"),
                ("verify", "verify_seconds"),
            )
        ),
        total=Timing("total", total),
        rto=Timing("RTO target", rto) if rto is not None else None,
        # A drill that stopped half-way never recovered, so it is neither within nor over the RTO.
        within_rto=None if rto is None or total is None or evidence.get("failed_stage") else total <= rto,
        integrity_status=integrity.status if integrity else None,
        integrity_message=integrity.message if integrity else None,
        recovery_point=human_time(checked.get("recovery_point")),
        data_age=human_seconds(as_number(checked.get("data_age_seconds"))),
        total_rows=human_count(as_number(checked.get("total_rows") or evidence.get("total_rows"))),
        previous_total_rows=human_count(previous_total) if previous_total is not None else None,
        tables=tuple(tables[:MAX_TABLES]),
        tables_omitted=max(0, len(tables) - MAX_TABLES),
        queries=tuple(
            QueryRow(
                str(query.get("name")),
                _text(query.get("expect")),
                human_count(as_number(query.get("value"))),
                query.get("error"),
            )
            for query in checked.get("queries") or ()
            if isinstance(query, dict)
        ),
        problems=tuple(str(problem) for problem in checked.get("problems") or ()),
    )


def report_view(run: DrillRun) -> ReportView:
    return _Builder(run).build()
