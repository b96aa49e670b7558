"""The review period the period tests summarise, and how they summarise runs over it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from drill.model import DrillRun
from drill.reports.period import Period, PeriodAccumulator, PeriodSummary

Q3 = Period(date(2026, 7, 1), date(2026, 9, 30))
Q3_END = datetime(2026, 10, 1, tzinfo=UTC)
AFTER_Q3 = datetime(2026, 10, 2, 9, 30, tzinfo=UTC)


def summarise(
    *runs: DrillRun, period: Period = Q3, generated_at: datetime = AFTER_Q3, unreadable: int = 0
) -> PeriodSummary:
    accumulator = PeriodAccumulator(period)
    for number in range(unreadable):
        accumulator.unreadable(f"20260702T000000Z-{number:08x}", "not JSON")
    for run in runs:
        accumulator.add(run)
    return accumulator.summary(generated_at)


def only_incident(summary: PeriodSummary) -> tuple[str, bool, int]:
    assert len(summary.incidents) == 1, summary.incidents
    incident = summary.incidents[0]
    return incident.check, incident.open, incident.failing_runs
