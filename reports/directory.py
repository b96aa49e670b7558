"""The report directory on disk: where each run's files, the history and the index are written.

    <report dir>/history.jsonl              one summary line per run, appended (drill.history)
    <report dir>/history-summary.json       what the index and the lookups need, updated per run
    <report dir>/history.lock               taken by each writer of the two above in turn
    <report dir>/index.html                 the newest runs, with charts; rewritten each run
    <report dir>/runs/<run id>/run.json     the full run (drill.run/v1)
    <report dir>/runs/<run id>/report.html  the run's report

Every file but the history is replaced atomically (a temp file renamed over it), so a reader or a
run killed mid-write never sees half a page. The run's own files are written before its history
line, and the history line before the index: the line is what makes a run part of the record.
With ``[report] keep_runs`` or ``keep_days`` set, older runs are pruned after the line is written
(``drill.reports.pruning``), and the index is written from the summary, so its cost does not grow
with the history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from drill import history
from drill.config import ReportSettings
from drill.files import write_atomic
from drill.history_summary import HistorySummary
from drill.model import DrillRun
from drill.reports import history_line, pruning
from drill.reports.html import render_index, render_report
from drill.reports.index_view import RUN_ID, index_view
from drill.reports.json_report import parse_json, render_json

RUNS = "runs"
RUN_JSON = "run.json"
RUN_HTML = "report.html"
INDEX = "index.html"


@dataclass(frozen=True)
class Published:
    report: Path
    record: Path
    index: Path
    pruned: pruning.Pruned | None = None  # None: nothing was pruned
    problems: tuple[str, ...] = ()  # what went wrong after the run was recorded (a prune that failed)


def run_directory(report_dir: Path, run_id: str) -> Path:
    if not RUN_ID.match(run_id):
        # Run ids name directories; anything else (a hand-edited history line, say) must not.
        raise ValueError(f"{run_id!r} is not a drill run id")
    return report_dir / RUNS / run_id


def publish(
    run: DrillRun, report_dir: Path, *, now: datetime | None = None, keep: ReportSettings | None = None
) -> Published:
    """Write the run's JSON and HTML, append its history line, prune by ``keep``, rewrite the index."""
    now = now or datetime.now(UTC)
    directory = run_directory(report_dir, run.run_id)
    record = directory / RUN_JSON
    report = directory / RUN_HTML
    write_atomic(record, render_json(run))
    write_atomic(report, render_report(run))
    problems: list[str] = []
    pruned = None
    with history.locked(report_dir):
        summary = history.record(report_dir, history_line.summary(run))
        if keep is not None:
            try:
                outcome = pruning.prune(report_dir, keep, now, summary)
            except OSError as error:  # the run is recorded; a prune that cannot finish is retried next run
                problems.append(f"report: cannot prune {report_dir}: {error}.")
            else:
                if outcome is not None:
                    pruned, summary = outcome
        index = _write_index(report_dir, summary, now, pruning.describe(keep) if keep else None)
    return Published(report, record, index, pruned, tuple(problems))


def write_index(report_dir: Path, *, now: datetime | None = None, keep: ReportSettings | None = None) -> Path:
    """Rewrite the index from the history's summary (rebuilt first if it does not cover the history)."""
    with history.locked(report_dir):
        summary = history.current_summary(report_dir)
        return _write_index(
            report_dir, summary, now or datetime.now(UTC), pruning.describe(keep) if keep else None
        )


def _write_index(report_dir: Path, summary: HistorySummary, now: datetime, kept: str | None) -> Path:
    view = index_view(
        summary,
        generated_at=now,
        has_report=lambda run_id: (report_dir / RUNS / run_id / RUN_HTML).is_file(),
        pruning=kept,
    )
    path = report_dir / INDEX
    write_atomic(path, render_index(view))
    return path


@dataclass(frozen=True)
class KeptRun:
    """One run the directory holds: its files, and the run read back, or why it could not be."""

    run_id: str
    directory: Path
    run: DrillRun | None
    problem: str | None


def started_from_id(run_id: str) -> datetime | None:
    """The start a run id records (to the second), or None if it is not a drill run id."""
    if not RUN_ID.match(run_id):
        return None
    return datetime.strptime(run_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def kept_runs(report_dir: Path, *, started: Callable[[datetime], bool] | None = None) -> Iterator[KeptRun]:
    """Every run directory, in run id order (which is start time order), read one at a time.

    ``started`` picks runs by the start their id records before any record is read, so that a
    quarter's pack does not parse the years of runs around it.
    """
    runs = report_dir / RUNS
    if not runs.is_dir():
        return
    for directory in sorted(runs.iterdir()):
        moment = started_from_id(directory.name)
        if not directory.is_dir() or moment is None or (started is not None and not started(moment)):
            continue
        try:
            run = parse_json((directory / RUN_JSON).read_bytes())
        except (OSError, ValueError) as error:
            yield KeptRun(directory.name, directory, None, str(error))
            continue
        if run.run_id != directory.name:
            yield KeptRun(directory.name, directory, None, f"run.json names run {run.run_id}")
            continue
        yield KeptRun(directory.name, directory, run, None)
