"""What the HTML report of one run shows, worked out from the run alone.

The template only lays this out: which findings belong to which database, the 3-2-1-1-0
scorecard, the restore drill's numbers and the order (worst first) are decided here, so that
they are tested without a browser.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from drill.checks.copies_3_2_1 import ScorecardCopy, ScorecardEvidence
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
from drill.reports.drill_view import DrillView, drill_view
from drill.reports.evidence_view import EvidenceItem, evidence_items, evidence_note
from drill.reports.formatting import human_seconds, human_time

SEVERITY_ORDER = {
    Severity.CRITICAL: 0,
    Severity.HIGH: 1,
    Severity.MEDIUM: 2,
    Severity.LOW: 3,
    Severity.INFO: 4,
}


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
    evidence_note: str | None  # set when the evidence maps to no type and is drawn as recorded


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
    interrupted: str | None = None  # what a run stopped by a signal says of itself
    baseline: str | None = None  # the approved baseline the run compared with, or why there was none
    baseline_sha256: str | None = None


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
            evidence_note=evidence_note(finding.evidence),
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
            interrupted=run.interrupted.describe() if run.interrupted else None,
            baseline=run.baseline.describe() if run.baseline else None,
            baseline_sha256=run.baseline.sha256 if run.baseline else None,
        )


def scorecard(findings: list[Finding]) -> Scorecard | None:
    """From copies_3_2_1's two findings: the scorecard and the "0"."""
    mine = [finding for finding in findings if finding.check == "copies_3_2_1"]
    card = next((finding for finding in mine if isinstance(finding.evidence, ScorecardEvidence)), None)
    if card is None or not isinstance(card.evidence, ScorecardEvidence):
        return None
    zero = next((finding for finding in mine if finding is not card), None)
    counted = card.evidence
    return Scorecard(
        status=card.status,
        message=card.message,
        requirements=tuple(
            Requirement(name, have, need)
            for (name, have), (_, need) in zip(counted.score.counts(), counted.required.counts(), strict=True)
        ),
        copies=tuple(_copy_row(copy) for copy in counted.copies),
        zero_status=zero.status if zero else None,
        zero_message=zero.message if zero else None,
    )


def _copy_row(copy: ScorecardCopy) -> CopyRow:
    return CopyRow(
        target=copy.target,
        site=copy.site,
        media=copy.media,
        location=copy.location,
        snapshot=_text(copy.snapshot),
        present=copy.snapshot is not None,
        offsite=copy.offsite,
        fresh=copy.fresh,
        consistent=copy.consistent,
        immutable=copy.immutable,
        counted=copy.counted,
        why=copy.why,
    )


def report_view(run: DrillRun) -> ReportView:
    return _Builder(run).build()
