"""What the report directory's ``index.html`` shows, worked out from the history lines.

History lines are read as they stream by and only a bounded tail is kept (the newest runs for the
table, the newest drills per database for the charts), so a history of years renders in constant
memory. A line that does not parse as a run summary is skipped, as the history reader does.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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

MAX_RUNS_LISTED = 500
MAX_RUNS_IN_STRIP = 200
MAX_DRILLS_CHARTED = 200
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
    drills: Mapping[str, _Drill]
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
    finished = as_datetime(entry.get("finished_at")) or started
    counts = entry.get("counts") if isinstance(entry.get("counts"), dict) else {}
    raw_failing = entry.get("failing")
    failing = tuple(
        f"{item.get('check')}: {' / '.join(str(part) for part in (item.get('agent'), item.get('database'), item.get('target')) if part) or '-'}"
        for item in (raw_failing if isinstance(raw_failing, list) else ())
        if isinstance(item, dict)
    )
    drills: dict[str, _Drill] = {}
    raw_drills = entry.get("drills") if isinstance(entry.get("drills"), dict) else {}
    for name, drill in (raw_drills or {}).items():
        if isinstance(drill, dict):
            drills[str(name)] = _Drill(
                at=finished,
                run_id=run_id,
                passed=bool(drill.get("passed")),
                total_seconds=as_number(drill.get("total_seconds")),
                rto_seconds=as_number(drill.get("rto_seconds")),
                snapshot_size=as_number(drill.get("snapshot_size")),
                total_rows=as_number(drill.get("total_rows")),
            )
    return _Run(
        run_id=run_id,
        started=started,
        command=str(entry.get("command") or "-"),
        status=status,
        duration=as_number(entry.get("duration_seconds")),
        counts={str(k): int(v) for k, v in (counts or {}).items() if isinstance(v, int) and v},
        failing=failing,
        drills=drills,
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


def index_view(
    entries: Iterable[Mapping[str, Any]], *, generated_at: datetime, has_report: Callable[[str], bool]
) -> IndexView:
    """``entries`` oldest first, as the history file holds them; ``has_report`` says whether a run's page exists."""
    total = 0
    newest: deque[_Run] = deque(maxlen=max(MAX_RUNS_LISTED, MAX_RUNS_IN_STRIP))
    drills: dict[str, deque[_Drill]] = {}
    drill_counts: dict[str, list[int]] = {}
    last_passed: dict[str, datetime] = {}
    for entry in entries:
        run = _parse(entry)
        if run is None:
            continue
        total += 1
        newest.append(run)
        for name, drill in run.drills.items():
            drills.setdefault(name, deque(maxlen=MAX_DRILLS_CHARTED)).append(drill)
            counts = drill_counts.setdefault(name, [0, 0])
            counts[0] += 1
            if drill.passed:
                counts[1] += 1
                last_passed[name] = max(drill.at, last_passed.get(name, drill.at))
    listed = list(newest)[-MAX_RUNS_LISTED:]
    rows = tuple(
        RunRow(
            run_id=run.run_id,
            started=human_time(run.started),
            command=run.command,
            status=run.status,
            duration=human_seconds(run.duration),
            counts=tuple(run.counts.items()),
            failing=run.failing[:5],
            failing_omitted=max(0, len(run.failing) - 5),
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
            for run in list(newest)[-MAX_RUNS_IN_STRIP:]
        ]
    )
    trends = tuple(
        _trend(name, drills[name], drill_counts[name][0], drill_counts[name][1], last_passed.get(name))
        for name in sorted(drills)
    )
    return IndexView(human_time(generated_at), total, rows, strip, trends)
