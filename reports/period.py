"""What a review period's runs prove: the summary of an evidence pack, worked out from the runs alone.

Runs are fed one at a time, oldest first, and only running totals are kept, so a quarter of
hourly drills summarises in the memory of one run. A failure is followed from the first run it
failed in to the first later run in which the same check on the same subject passed (or warned):
that run is when it was fixed. A subject that was not judged again (a ``drill check`` run has no
restore findings; a sharded run covers one database) neither fixes nor prolongs it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from drill.checks.restore import RestoreEvidence
from drill.model import Control, DrillRun, Finding, Status
from drill.reports.formatting import as_number
from drill.reports.period_summary import (
    CheckCoverage,
    ControlCoverage,
    DatabaseDrills,
    Gap,
    Incident,
    Period,
    PeriodSummary,
    RunLine,
    Unreadable,
)

# The summary's types are imported from here too: the period is this module's subject.
__all__ = ["Gap", "Incident", "Period", "PeriodAccumulator", "PeriodSummary"]

Subject = tuple[str, str | None, str | None, str | None]  # check, agent, database, target


@dataclass
class _CheckTally:
    title: str
    controls: tuple[str, ...]
    runs: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {status.value: 0 for status in Status})
    last_status: Status = Status.SKIPPED


@dataclass
class _DrillTally:
    drills: int = 0
    passed: int = 0
    last_success: datetime | None = None
    last_success_run: str | None = None
    last_snapshot: str | None = None
    last_recovery_seconds: float | None = None
    last_rto_seconds: float | None = None
    longest: Gap | None = None


@dataclass
class _OpenIncident:
    finding: Finding
    first_failed: datetime
    first_run: str
    last_failed: datetime
    failing_runs: int = 1


def _subject(finding: Finding) -> Subject:
    return (finding.check, finding.agent, finding.database, finding.target)


class PeriodAccumulator:
    """Feed runs oldest first with ``add``; ``summary`` then says what the period proves."""

    def __init__(self, period: Period) -> None:
        self.period = period
        self._runs: list[RunLine] = []
        self._checks: dict[str, _CheckTally] = {}
        self._drills: dict[str, _DrillTally] = {}
        self._open: dict[Subject, _OpenIncident] = {}
        self._closed: list[Incident] = []
        self._days: set[date] = set()
        self._longest_between_runs: Gap | None = None
        self._unreadable: list[Unreadable] = []
        self._drill_version = "-"
        self._databases: set[str] = set()
        self.summary_only = 0

    def unreadable(self, run_id: str, problem: str) -> None:
        self._unreadable.append(Unreadable(run_id, problem))

    def add(self, run: DrillRun) -> None:
        started = run.started_at
        if self._runs:
            previous = self._runs[-1].started_at
            gap = Gap(previous, started, True, True)
            if self._longest_between_runs is None or gap.length > self._longest_between_runs.length:
                self._longest_between_runs = gap
        self._runs.append(
            RunLine(
                run.run_id,
                started,
                run.command,
                run.status,
                tuple((status, count) for status, count in run.counts().items() if count),
                sum(finding.status.is_failing for finding in run.findings),
            )
        )
        self._days.add(started.astimezone(UTC).date())
        self._drill_version = run.drill_version
        self._databases.update(covered.name for covered in run.coverage.databases)
        self._tally_checks(run)
        self._tally_drills(run)
        self._follow_incidents(run)

    def _tally_checks(self, run: DrillRun) -> None:
        infos = {info.id: info for info in run.checks}
        seen: set[str] = set()
        for finding in run.findings:
            info = infos.get(finding.check)
            tally = self._checks.setdefault(
                finding.check,
                _CheckTally(info.title if info else finding.check, info.controls if info else ()),
            )
            if info:  # the newest run's wording and mapping win
                tally.title, tally.controls = info.title, info.controls
            tally.counts[finding.status.value] += 1
            if finding.check not in seen:
                seen.add(finding.check)
                tally.runs += 1
                tally.last_status = finding.status
            elif _worse(finding.status, tally.last_status):
                tally.last_status = finding.status

    def _tally_drills(self, run: DrillRun) -> None:
        by_database: dict[str, list[Finding]] = {}
        for finding in run.findings:
            if finding.check in ("restore", "integrity") and finding.database:
                by_database.setdefault(finding.database, []).append(finding)
        for name, findings in by_database.items():
            tally = self._drills.setdefault(name, _DrillTally())
            tally.drills += 1
            restore = next((finding for finding in findings if finding.check == "restore"), None)
            # A drill proves the backup only if it restored and every verification held.
            if restore is None or any(
                finding.status.is_failing or finding.status is Status.SKIPPED for finding in findings
            ):
                continue
            tally.passed += 1
            gap = Gap(
                tally.last_success or self.period.start, run.finished_at, tally.last_success is not None, True
            )
            if tally.longest is None or gap.length > tally.longest.length:
                tally.longest = gap
            tally.last_success = run.finished_at
            tally.last_success_run = run.run_id
            restored = restore.evidence if isinstance(restore.evidence, RestoreEvidence) else None
            tally.last_snapshot = (restored.snapshot if restored else None) or "-"
            tally.last_recovery_seconds = as_number(restored.total_seconds) if restored else None
            tally.last_rto_seconds = as_number(restored.rto_seconds) if restored else None

    def _follow_incidents(self, run: DrillRun) -> None:
        failing: dict[Subject, Finding] = {}
        holding: set[Subject] = set()
        for finding in run.findings:
            key = _subject(finding)
            if finding.status.is_failing:
                if key not in failing or _worse(finding.status, failing[key].status):
                    failing[key] = finding
            elif finding.status in (Status.PASS, Status.WARN):
                holding.add(key)
        for key, finding in failing.items():
            known = self._open.get(key)
            if known is None:
                self._open[key] = _OpenIncident(finding, run.started_at, run.run_id, run.started_at)
            else:
                known.finding, known.last_failed = finding, run.started_at
                known.failing_runs += 1
        for key in holding - failing.keys():
            fixed = self._open.pop(key, None)
            if fixed is not None:
                self._closed.append(_incident(fixed, run.started_at, run.run_id))

    def summary(self, generated_at: datetime) -> PeriodSummary:
        measured_until = min(self.period.end, generated_at)
        incidents = sorted(
            [*self._closed, *(_incident(item, None, None) for item in self._open.values())],
            key=lambda incident: (not incident.open, incident.first_failed, incident.check, incident.subject),
        )
        # A database the runs covered but never drilled is listed too: it has no restore evidence.
        databases = tuple(
            _database(name, self._drills.get(name, _DrillTally()), self.period, measured_until)
            for name in sorted(self._databases | self._drills.keys())
        )
        commands: dict[str, int] = {}
        for line in self._runs:
            commands[line.command] = commands.get(line.command, 0) + 1
        status, verdict = self._verdict(databases, incidents)
        return PeriodSummary(
            period=self.period,
            generated_at=generated_at,
            measured_until=measured_until,
            drill_version=self._drill_version,
            status=status,
            verdict=verdict,
            runs=tuple(self._runs),
            commands=tuple(sorted(commands.items())),
            days_with_runs=len(self._days),
            longest_gap_between_runs=self._longest_between_runs,
            checks=tuple(
                CheckCoverage(
                    check,
                    tally.title,
                    tally.controls,
                    tally.runs,
                    tuple((status, count) for status, count in tally.counts.items() if count),
                    tally.last_status,
                )
                for check, tally in sorted(self._checks.items())
            ),
            controls=self._controls(incidents),
            databases=databases,
            incidents=tuple(incidents),
            unreadable=tuple(self._unreadable),
            summary_only=self.summary_only,
        )

    def _controls(self, incidents: Iterable[Incident]) -> tuple[ControlCoverage, ...]:
        open_by_check: dict[str, int] = {}
        for incident in incidents:
            if incident.open:
                open_by_check[incident.check] = open_by_check.get(incident.check, 0) + 1
        rows = []
        for control in Control:
            checks = tuple(
                check for check, tally in sorted(self._checks.items()) if control.value in tally.controls
            )
            rows.append(
                ControlCoverage(
                    control.value,
                    control.label,
                    checks,
                    sum(sum(self._checks[check].counts.values()) for check in checks),
                    sum(
                        self._checks[check].counts[Status.FAIL.value]
                        + self._checks[check].counts[Status.ERROR.value]
                        for check in checks
                    ),
                    sum(open_by_check.get(check, 0) for check in checks),
                )
            )
        return tuple(rows)

    def _verdict(
        self, databases: tuple[DatabaseDrills, ...], incidents: list[Incident]
    ) -> tuple[Status, str]:
        """Fail closed: no runs, or runs whose record cannot be read, leave the period unproven."""
        # Unreadable records first: if every run's record is unreadable, runs did happen.
        if self._unreadable:
            return (
                Status.ERROR,
                f"{_many(len(self._unreadable), 'run record')} could not be read; the evidence is incomplete.",
            )
        if not self._runs and self.summary_only:
            return (
                Status.ERROR,
                f"The history lists {_many(self.summary_only, 'run')} in this period but no full record "
                "of any was kept: nothing can be shown.",
            )
        if not self._runs:
            return Status.ERROR, "No drill ran in this period: nothing was verified."
        undrilled = [database.name for database in databases if database.passed == 0]
        still_open = [incident for incident in incidents if incident.open]
        problems = []
        if not databases or all(database.drills == 0 for database in databases):
            problems.append("no restore drill ran in the period")
        elif undrilled:
            problems.append(f"no restore drill passed for {', '.join(undrilled)}")
        if still_open:
            problems.append(f"{_many(len(still_open), 'failure')} still open at the end")
        if problems:
            return Status.FAIL, "Not proven: " + "; ".join(problems) + "."
        if incidents:
            return (
                Status.WARN,
                f"Every failure in the period was fixed ({_many(len(incidents), 'failure')} in all), "
                "and every database was restored.",
            )
        return Status.PASS, "Every database was restored, and nothing failed in the period."


def _many(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


_RANK = {Status.FAIL: 0, Status.ERROR: 1, Status.WARN: 2, Status.PASS: 3, Status.SKIPPED: 4}


def _worse(status: Status, than: Status) -> bool:
    return _RANK[status] < _RANK[than]


def _incident(item: _OpenIncident, fixed_at: datetime | None, fixed_run: str | None) -> Incident:
    finding = item.finding
    return Incident(
        check=finding.check,
        subject=finding.subject,
        severity=finding.severity,
        status=finding.status,
        first_failed=item.first_failed,
        first_run=item.first_run,
        last_failed=item.last_failed,
        failing_runs=item.failing_runs,
        message=finding.message,
        fixed_at=fixed_at,
        fixed_run=fixed_run,
    )


def _database(name: str, tally: _DrillTally, period: Period, measured_until: datetime) -> DatabaseDrills:
    if tally.last_success is None:
        longest = Gap(period.start, measured_until, False, False)
    else:
        # A run that started inside the period may finish after its end: never a negative gap.
        trailing = Gap(tally.last_success, max(tally.last_success, measured_until), True, False)
        longest = tally.longest if tally.longest and tally.longest.length >= trailing.length else trailing
    return DatabaseDrills(
        name=name,
        drills=tally.drills,
        passed=tally.passed,
        last_success=tally.last_success,
        last_success_run=tally.last_success_run,
        last_snapshot=tally.last_snapshot,
        last_recovery_seconds=tally.last_recovery_seconds,
        last_rto_seconds=tally.last_rto_seconds,
        longest_gap=longest,
    )
