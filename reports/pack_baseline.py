"""The evidence pack's baseline section: the approved baseline, and every drift from it seen in the
period, with when it was fixed or approved again.

Runs are fed oldest first, as the period's summary is. A drift (one item of one subject differing
from the baseline) is followed from the first run that reported it to the first later run that
compared with a usable baseline and no longer reported it: ``fixed`` when that run compared with
the same baseline, ``re-approved`` when with another (a new ``drill baseline approve``). A run
that did not judge the subject (``--database`` narrowed it) neither ends nor prolongs it, unless
the baseline itself changed and no longer names the subject.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Literal

from drill.baseline import codec
from drill.baseline.text import describe
from drill.checks.drift import DriftEvidence
from drill.model import WORST_FIRST, DrillRun, Finding, Status

SubjectKey = tuple[str | None, str | None, str | None]  # agent, database, target


@dataclass(frozen=True)
class ApprovalSeen:
    """One approved baseline the period's runs compared with."""

    sha256: str
    approved_by: str | None
    approved_at: datetime | None
    first_run: str
    first_seen: datetime
    last_seen: datetime
    runs: int


@dataclass(frozen=True)
class DriftSeen:
    subject: str  # "target vault", "database orders", "agent ci"
    item: str
    approved: str
    today: str  # as last seen
    status: Status  # the worst seen
    message: str  # the last
    first_run: str
    first_seen: datetime
    last_seen: datetime
    runs: int
    ended_at: datetime | None = None
    ended_run: str | None = None
    ended_by: Literal["fixed", "re-approved"] | None = None


@dataclass(frozen=True)
class BaselineFile:
    """The baseline file as the pack was built: its lines, or why it cannot be trusted."""

    path: str
    sha256: str | None
    lines: tuple[str, ...] = ()
    problem: str | None = None


@dataclass(frozen=True)
class BaselineSection:
    current: BaselineFile | None
    approvals: tuple[ApprovalSeen, ...]
    drifts: tuple[DriftSeen, ...]
    unusable: tuple[tuple[str, datetime, str], ...]  # run id, started, the baseline's problem


@dataclass
class _Open:
    seen: DriftSeen
    baseline: str


@dataclass
class BaselineAccumulator:
    approvals: dict[str, ApprovalSeen] = field(default_factory=dict)
    open: dict[tuple[SubjectKey, str], _Open] = field(default_factory=dict)
    ended: list[DriftSeen] = field(default_factory=list)
    unusable: list[tuple[str, datetime, str]] = field(default_factory=list)

    def add(self, run: DrillRun) -> None:
        identity = run.baseline
        if identity is None:
            return
        if identity.problem is not None or identity.sha256 is None:
            self.unusable.append((run.run_id, run.started_at, identity.problem or "unreadable"))
            return
        self._approval(run, identity.sha256, identity.approved_by, identity.approved_at)
        judged: set[SubjectKey] = set()
        reported: set[tuple[SubjectKey, str]] = set()
        for finding in run.findings:
            if finding.check != "drift":
                continue
            subject = (finding.agent, finding.database, finding.target)
            judged.add(subject)
            if not isinstance(finding.evidence, DriftEvidence):
                continue
            key = (subject, finding.evidence.item)
            reported.add(key)
            self._seen(key, run, finding, evidence=finding.evidence, baseline=identity.sha256)
        for key, opened in list(self.open.items()):
            if key in reported:
                continue
            changed = opened.baseline != identity.sha256
            if key[0] in judged or changed:
                self.ended.append(_ended(opened.seen, run, "re-approved" if changed else "fixed"))
                del self.open[key]

    def _approval(self, run: DrillRun, sha256: str, by: str | None, at: datetime | None) -> None:
        seen = self.approvals.get(sha256)
        if seen is None:
            self.approvals[sha256] = ApprovalSeen(
                sha256, by, at, run.run_id, run.started_at, run.started_at, 1
            )
        else:
            self.approvals[sha256] = ApprovalSeen(
                sha256, by, at, seen.first_run, seen.first_seen, run.started_at, seen.runs + 1
            )

    def _seen(
        self,
        key: tuple[SubjectKey, str],
        run: DrillRun,
        finding: Finding,
        *,
        evidence: DriftEvidence,
        baseline: str,
    ) -> None:
        opened = self.open.get(key)
        if opened is None:
            first = DriftSeen(
                subject=_subject(key[0]),
                item=evidence.item,
                approved=evidence.approved,
                today=evidence.today,
                status=finding.status,
                message=finding.message,
                first_run=run.run_id,
                first_seen=run.started_at,
                last_seen=run.started_at,
                runs=1,
            )
            self.open[key] = _Open(first, baseline)
            return
        previous = opened.seen
        opened.seen = replace(
            previous,
            today=evidence.today,
            status=min(previous.status, finding.status, key=lambda status: WORST_FIRST[status]),
            message=finding.message,
            last_seen=run.started_at,
            runs=previous.runs + 1,
        )

    def section(self, baseline_file: Path | None) -> BaselineSection:
        drifts = [*self.ended, *(opened.seen for opened in self.open.values())]
        drifts.sort(key=lambda seen: (seen.first_seen, seen.subject, seen.item))
        return BaselineSection(
            current=read_baseline_file(baseline_file) if baseline_file is not None else None,
            approvals=tuple(sorted(self.approvals.values(), key=lambda seen: seen.first_seen)),
            drifts=tuple(drifts),
            unusable=tuple(self.unusable),
        )


def _ended(seen: DriftSeen, run: DrillRun, how: Literal["fixed", "re-approved"]) -> DriftSeen:
    return replace(seen, ended_at=run.started_at, ended_run=run.run_id, ended_by=how)


def _subject(key: SubjectKey) -> str:
    agent, database, target = key
    if target is not None:
        return f"target {target}"
    if database is not None:
        return f"database {database}"
    return f"agent {agent}" if agent is not None else "the baseline"


def read_baseline_file(path: Path) -> BaselineFile | None:
    """The file's lines as ``drill baseline show`` prints them; None when there is no file."""
    try:
        with path.open("rb") as reader:
            data = reader.read(codec.MAX_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as error:
        return BaselineFile(str(path), None, problem=f"it cannot be read: {error.strerror or error}")
    digest = codec.file_sha256(data)
    try:
        baseline = codec.parse(data)
    except codec.BaselineError as error:
        return BaselineFile(str(path), digest, problem=str(error))
    return BaselineFile(str(path), digest, tuple(describe(baseline)))
