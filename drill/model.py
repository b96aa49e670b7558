"""The vocabulary every layer shares: statuses, severities, snapshots, findings and runs.

Everything here is a frozen dataclass or an enum and does no I/O, so checks, reports and
tests can build these objects freely.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

# The "0" of 3-2-1-1-0: a restore drill with zero errors within this window proves the backups.
PROOF_WINDOW = timedelta(days=90)


@dataclass(frozen=True)
class Unavailable:
    reason: str


class FactUnavailable(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class Status(enum.StrEnum):
    """The verdict of one finding. ``error`` means "could not verify" and fails closed."""

    PASS = "pass"  # noqa: S105 - a verdict, not a password
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"
    SKIPPED = "skipped"

    @property
    def is_failing(self) -> bool:
        return self in (Status.FAIL, Status.ERROR)


# Worst first, as reports list findings: what failed, what could not be verified, what holds with a caveat.
WORST_FIRST = {Status.FAIL: 0, Status.ERROR: 1, Status.WARN: 2, Status.SKIPPED: 3, Status.PASS: 4}


class Severity(enum.StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Scope(enum.StrEnum):
    """What one call of a check judges; the engine calls the check once per such subject."""

    TARGET = "target"
    DATABASE = "database"
    DATABASE_TARGET = "database_target"
    AGENT = "agent"
    AGENT_TARGET = "agent_target"
    VERIFIER_TARGET = "verifier_target"
    REPOSITORY = "repository"  # one repository of a pgBackRest stanza
    RESTORE = "restore"


class Phase(enum.StrEnum):
    """``posture`` checks read storage only; ``restore`` checks need a restore drill."""

    POSTURE = "posture"
    RESTORE = "restore"


@dataclass(frozen=True)
class Checksum:
    """A digest the store recorded, as the store spells it: hex for etag and md5 sidecars, base64 for S3 sha256 and GCS md5/crc32c."""

    algorithm: str
    value: str


@dataclass(frozen=True)
class Snapshot:
    """One backup object as the store lists it. ``key`` is relative to the store's root, prefix included,
    and escaped (``drill.names``): printable text whatever bytes the store holds."""

    key: str
    size: int
    created_at: datetime
    checksums: tuple[Checksum, ...] = ()
    version_id: str | None = None

    def checksum(self, algorithm: str) -> str | None:
        for checksum in self.checksums:
            if checksum.algorithm == algorithm:
                return checksum.value
        return None


class EntryKind(enum.StrEnum):
    """What a directory entry that drill does not read as a snapshot is."""

    FILE_LINK = "file_link"  # a symbolic link to a file
    DIRECTORY_LINK = "directory_link"  # a symbolic link to a directory
    DANGLING_LINK = "dangling_link"  # a symbolic link to nothing
    SPECIAL_FILE = "special_file"  # a FIFO, socket or device: reading one could block or never end


@dataclass(frozen=True)
class UnfollowedEntry:
    """An entry of a filesystem target where a snapshot could be, that drill neither follows nor reads.

    A copy that is a link to somewhere else is not a copy, and a link leaving the target would make
    drill read (and quote) a file outside it. ``key`` and ``destination`` are escaped names
    (``drill.names``); ``destination`` is the link's text as written, None for a special file.
    """

    key: str
    kind: EntryKind
    destination: str | None = None
    leaves_target: bool = False  # the link resolves outside the target's directory


@dataclass(frozen=True)
class Evidence:
    """What a finding judged, as one frozen dataclass per shape, declared beside the check that records it.

    ``kind`` names the shape in a run record and ``version`` its layout, so that a record written
    by another drill is read into the type it was written from, or kept raw when it cannot be
    (``drill.evidence`` writes and reads the JSON). Fields are named as the run record's keys.
    Nested parts (a copy row, a query result) are frozen dataclasses too, without a kind.
    """

    kind: ClassVar[str]
    version: ClassVar[int] = 1


@dataclass(frozen=True)
class CouldNotVerify(Evidence):
    """A fact the check needed could not be read: the engine records it when a check reads one."""

    kind: ClassVar[str] = "could_not_verify"
    reason: str


@dataclass(frozen=True)
class UnparsedEvidence(Evidence):
    """Evidence in a run record that maps to no type this drill knows, kept exactly as recorded.

    Reports show it as raw evidence; written back, it is the recorded mapping unchanged.
    """

    kind: ClassVar[str] = "unparsed"
    raw: Mapping[str, Any]
    problem: str  # why it could not be read into a type, for whoever looks at the raw form


@dataclass(frozen=True)
class Finding:
    """One verdict of one check on one subject, with the evidence it judged."""

    check: str
    status: Status
    severity: Severity
    message: str
    target: str | None = None
    database: str | None = None
    agent: str | None = None
    evidence: Evidence | None = None  # None: the check recorded nothing beyond its message
    remediation: str | None = None

    @property
    def subject(self) -> str:
        parts = [part for part in (self.agent, self.database, self.target) if part]
        return " / ".join(parts) if parts else "-"


def overall_status(findings: tuple[Finding, ...] | list[Finding]) -> Status:
    """The run's verdict: a fail outranks an error, an error outranks a warning; nothing found is an error."""
    statuses = {finding.status for finding in findings}
    if not statuses:
        return Status.ERROR
    for status in (Status.FAIL, Status.ERROR, Status.WARN, Status.PASS):
        if status in statuses:
            return status
    return Status.SKIPPED


class Control(enum.StrEnum):
    """A control of an audit framework that a check's findings evidence.

    Which check evidences which control is drill's own mapping (declared on each check), offered
    to reviewers as a starting point, not as a certification body's reading of the standard.
    """

    ISO27001_A_5_30 = "ISO 27001 A.5.30"
    ISO27001_A_8_3 = "ISO 27001 A.8.3"
    ISO27001_A_8_13 = "ISO 27001 A.8.13"
    SOC2_A1_2 = "SOC 2 A1.2"
    SOC2_A1_3 = "SOC 2 A1.3"
    SOC2_CC6_1 = "SOC 2 CC6.1"

    @property
    def label(self) -> str:
        """The control's name in its standard, such as 'Information backup'."""
        return _CONTROL_LABELS[self]


_CONTROL_LABELS = {
    Control.ISO27001_A_5_30: "ICT readiness for business continuity",
    Control.ISO27001_A_8_3: "Information access restriction",
    Control.ISO27001_A_8_13: "Information backup",
    Control.SOC2_A1_2: "Data backup processes and recovery infrastructure",
    Control.SOC2_A1_3: "Recovery plan procedures are tested",
    Control.SOC2_CC6_1: "Logical access security over protected information assets",
}


@dataclass(frozen=True)
class CheckInfo:
    """What a run records of each check it ran, so that a report explains a check without the code."""

    id: str
    title: str
    scope: Scope
    phase: Phase
    severity: Severity
    controls: tuple[str, ...] = ()


@dataclass(frozen=True)
class CoveredDatabase:
    name: str
    site: str
    targets: tuple[str, ...]


@dataclass(frozen=True)
class Coverage:
    """What a run looked at: each database with its targets, every target, every agent."""

    databases: tuple[CoveredDatabase, ...] = ()
    targets: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConfigIdentity:
    path: str
    sha256: str


@dataclass(frozen=True)
class Interruption:
    """A run stopped by SIGTERM or Ctrl-C before it finished: its findings are those reached by then,
    and what was still being read is an ``error`` saying so."""

    signal: str  # SIGTERM or SIGINT
    during: Phase  # posture: collecting or checking; restore: a restore drill

    def describe(self) -> str:
        what = "a restore drill" if self.during is Phase.RESTORE else "the posture checks"
        return (
            f"Interrupted by {self.signal} during {what}: the findings are those reached by then, and "
            "what was still being read is an error."
        )


@dataclass(frozen=True)
class DrillRun:
    """Everything one invocation found; reports read only this."""

    run_id: str
    command: str
    started_at: datetime
    finished_at: datetime
    config: ConfigIdentity
    drill_version: str
    findings: tuple[Finding, ...]
    checks: tuple[CheckInfo, ...] = ()
    coverage: Coverage = field(default_factory=Coverage)
    interrupted: Interruption | None = None

    @property
    def status(self) -> Status:
        """The findings' verdict; an interrupted run never passes, whatever it had reached."""
        status = overall_status(self.findings)
        return Status.ERROR if self.interrupted is not None and not status.is_failing else status

    @property
    def duration_seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def counts(self) -> dict[str, int]:
        counts = {status.value: 0 for status in Status}
        for finding in self.findings:
            counts[finding.status.value] += 1
        return counts
