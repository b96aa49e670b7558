"""What the report directory's ``index.html`` shows, worked out from the history's summary.

The summary (``drill.history_summary``) keeps a bounded tail, updated with each run: the newest
runs for the table and the strip, and per database its drill tallies and newest drills for the
charts. So the page costs the same to write after ten runs or after years of them, and the
history itself is not read. A line that does not parse as a run is not in the summary's tail.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from drill.history_summary import TAIL_DRILLS, TAIL_RUNS, HistorySummary
from drill.model import Status
from drill.reports.charts import (
    LineChart,
    Sample,
    StatusStrip,
    line_chart,
    nice_duration_ceiling,
    status_strip,
)
from drill.reports.formatting import (
    as_datetime,
    as_number,
    human_bytes,
    human_seconds,
    human_time,
    short_count,
)

MAX_RUNS_LISTED = TAIL_RUNS
MAX_RUNS_IN_STRIP = 200
MAX_DRILLS_CHARTED = TAIL_DRILLS
# Run ids become directory names and links: only drill's own shape is trusted (no "/", no "..").
# \Z, not $: "$" also matches before a trailing line break, which must not pass into a path.
RUN_ID = re.compile(r"\A[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}\Z")


@dataclass(frozen=True)
class RunRow:
    run_id: str
    started: str
    command: str
    status: Status
    duration: str
    counts: tuple[tuple[str, int], ...]
    failing: tuple[str, ...]  # the first few failing findings, "check: subject"
    failing_omitted: int
    href: str | None
    interrupted: str | None = None  # the signal that stopped the run, if one did


@dataclass(frozen=True)
class DatabaseTrend:
    name: str
    drills: int
    passed: int
    last_passed: str
    charts: tuple[LineChart, ...]


@dataclass(frozen=True)
class IndexView:
    generated: str
    total_runs: int
    runs: tuple[RunRow, ...]
    strip: StatusStrip
    trends: tuple[DatabaseTrend, ...]
    pruning: str | None = None  # what the report directory keeps, when it prunes

    @property
    def omitted_runs(self) -> int:
        return self.total_runs - len(self.runs)


@dataclass(frozen=True)
class _Drill:
    at: datetime
    run_id: str
    passed: bool
    total_seconds: float | None
    rto_seconds: float | None
    snapshot_size: float | None
    total_rows: float | None


@dataclass(frozen=True)
class _Run:
    run_id: str
    started: datetime
    command: str
    status: Status
    duration: float | None
    counts: Mapping[str, int]
    failing: tuple[str, ...]
    failing_count: int
    interrupted: str | None


def _parse(entry: Mapping[str, Any]) -> _Run | None:
    run_id = entry.get("run_id")
    started = as_datetime(entry.get("started_at"))
    try:
        status = Status(str(entry.get("status")))
    except ValueError:
        return None
    if not isinstance(run_id, str) or started is None:
        return None
    counts = entry.get("counts") if isinstance(entry.get("counts"), dict) else {}
    raw_failing = entry.get("failing")
    failing = tuple(
        f"{item.get('check')}: {' / '.join(str(part) for part in (item.get('agent'), item.get('database'), item.get('target')) if part) or '-'}"
        for item in (raw_failing if isinstance(raw_failing, list) else ())
        if isinstance(item, dict)
    )
    failing_count = entry.get("failing_count")
    return _Run(
        run_id=run_id,
        started=started,
        command=str(entry.get("command") or "-"),
        status=status,
        duration=as_number(entry.get("duration_seconds")),
        counts={str(k): int(v) for k, v in (counts or {}).items() if isinstance(v, int) and v},
        failing=failing,
        failing_count=failing_count if isinstance(failing_count, int) else len(failing),
        interrupted=str(entry["interrupted"]) if entry.get("interrupted") else None,
    )


def _trend(
    name: str, drills: Iterable[_Drill], count: int, passed: int, last_passed: datetime | None
) -> DatabaseTrend:
    # Shards may write their lines out of order; the charts run in time order.
    shown = sorted(drills, key=lambda drill: drill.at)

    def samples(value: Callable[[_Drill], float | None]) -> list[Sample]:
        return [
            Sample(drill.at, number, drill.passed, drill.run_id)
            for drill in shown
            if (number := value(drill)) is not None
        ]

    rto = next((drill.rto_seconds for drill in reversed(shown) if drill.rto_seconds), None)
    charts = (
        line_chart(
            "Recovery time",
            samples(lambda drill: drill.total_seconds),
            human_seconds,
            reference=rto,
            reference_label=f"RTO {human_seconds(rto)}" if rto else "",
            ceiling=nice_duration_ceiling,
        ),
        line_chart("Snapshot size", samples(lambda drill: drill.snapshot_size), human_bytes, mark_drops=True),
        line_chart("Rows restored", samples(lambda drill: drill.total_rows), short_count, mark_drops=True),
    )
    return DatabaseTrend(name, count, passed, human_time(last_passed) if last_passed else "never", charts)


def _drill(recorded: Mapping[str, Any]) -> _Drill | None:
    at = as_datetime(recorded.get("at"))
    if at is None:
        return None
    return _Drill(
        at=at,
        run_id=str(recorded.get("run_id")),
        passed=bool(recorded.get("passed")),
        total_seconds=as_number(recorded.get("total_seconds")),
        rto_seconds=as_number(recorded.get("rto_seconds")),
        snapshot_size=as_number(recorded.get("snapshot_size")),
        total_rows=as_number(recorded.get("total_rows")),
    )


def index_view(
    summary: HistorySummary,
    *,
    generated_at: datetime,
    has_report: Callable[[str], bool],
    pruning: str | None = None,
) -> IndexView:
    """The page of a history's summary; ``has_report`` says whether a run's page exists (asked of
    the listed runs only)."""
    newest = [run for run in map(_parse, summary.tail) if run is not None]
    listed = newest[-MAX_RUNS_LISTED:]
    rows = tuple(
        RunRow(
            run_id=run.run_id,
            started=human_time(run.started),
            command=run.command,
            status=run.status,
            duration=human_seconds(run.duration),
            counts=tuple(run.counts.items()),
            failing=run.failing[:5],
            failing_omitted=max(0, run.failing_count - 5),
            href=f"runs/{run.run_id}/report.html"
            if RUN_ID.match(run.run_id) and has_report(run.run_id)
            else None,
            interrupted=run.interrupted,
        )
        for run in reversed(listed)
    )
    strip = status_strip(
        [
            (run.status.value, f"{run.started:%Y-%m-%d %H:%M} UTC {run.command}: {run.status.value}")
            for run in newest[-MAX_RUNS_IN_STRIP:]
        ]
    )
    trends = tuple(
        _trend(
            name,
            [drill for drill in map(_drill, tally.tail) if drill is not None],
            tally.drills,
            tally.passed,
            as_datetime(tally.last_passed),
        )
        for name, tally in sorted(summary.tallies.items())
    )
    return IndexView(human_time(generated_at), summary.runs, rows, strip, trends, pruning)


def index_of(
    entries: Iterable[Mapping[str, Any]], *, generated_at: datetime, has_report: Callable[[str], bool]
) -> IndexView:
    """The page of history lines read in full (oldest first), as a rebuilt summary would show them."""
    return index_view(HistorySummary.of(entries), generated_at=generated_at, has_report=has_report)
