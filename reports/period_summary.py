"""What a review period's runs prove, as data: the summary an evidence pack shows.

``reports.period`` works it out from the runs; the pack's summary page lays it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from drill.model import Severity, Status


@dataclass(frozen=True)
class Period:
    """Whole days, inclusive, in UTC: 2026-07-01 to 2026-09-30 is the third quarter."""

    since: date
    until: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.since, time(), UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.until + timedelta(days=1), time(), UTC)

    def holds(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class RunLine:
    run_id: str
    started_at: datetime
    command: str
    status: Status
    counts: tuple[tuple[str, int], ...]
    failing: int


@dataclass(frozen=True)
class CheckCoverage:
    id: str
    title: str
    controls: tuple[str, ...]
    runs: int
    counts: tuple[tuple[str, int], ...]
    last_status: Status


@dataclass(frozen=True)
class Incident:
    """One check failing on one subject, from the first run it failed in until it was fixed."""

    check: str
    subject: str
    severity: Severity
    status: Status
    first_failed: datetime
    first_run: str
    last_failed: datetime
    failing_runs: int
    message: str
    fixed_at: datetime | None
    fixed_run: str | None

    @property
    def open(self) -> bool:
        return self.fixed_at is None


@dataclass(frozen=True)
class Gap:
    start: datetime
    end: datetime
    start_is_drill: bool  # False: the gap starts at the beginning of the period
    end_is_drill: bool  # False: the gap runs to the end of the period (or to now)

    @property
    def length(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class DatabaseDrills:
    name: str
    drills: int
    passed: int
    last_success: datetime | None
    last_success_run: str | None
    last_snapshot: str | None
    last_recovery_seconds: float | None
    last_rto_seconds: float | None
    longest_gap: Gap


@dataclass(frozen=True)
class ControlCoverage:
    control: str
    label: str
    checks: tuple[str, ...]
    findings: int
    failing: int
    open_incidents: int


@dataclass(frozen=True)
class Unreadable:
    run_id: str
    problem: str


@dataclass(frozen=True)
class PeriodSummary:
    period: Period
    generated_at: datetime
    measured_until: datetime  # the end of the period, or now if the period has not ended
    drill_version: str
    status: Status
    verdict: str
    runs: tuple[RunLine, ...]
    commands: tuple[tuple[str, int], ...]
    days_with_runs: int
    longest_gap_between_runs: Gap | None
    checks: tuple[CheckCoverage, ...]
    controls: tuple[ControlCoverage, ...]
    databases: tuple[DatabaseDrills, ...]
    incidents: tuple[Incident, ...]
    unreadable: tuple[Unreadable, ...]
    summary_only: int  # runs the history lists in the period whose full record was not kept

    @property
    def open_incidents(self) -> tuple[Incident, ...]:
        return tuple(incident for incident in self.incidents if incident.open)
