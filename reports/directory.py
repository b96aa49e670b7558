"""The report directory on disk: where each run's files, the history and the index are written.

    <report dir>/history.jsonl              one summary line per run, appended (drill.history)
    <report dir>/index.html                 every run, newest first, with charts; rewritten each run
    <report dir>/runs/<run id>/run.json     the full run (drill.run/v1)
    <report dir>/runs/<run id>/report.html  the run's report

Every file but the history is replaced atomically (a temp file renamed over it), so a reader or a
run killed mid-write never sees half a page. The run's own files are written before its history
line, and the history line before the index: the line is what makes a run part of the record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from drill import history
from drill.files import write_atomic
from drill.model import DrillRun
from drill.reports import history_line
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


def run_directory(report_dir: Path, run_id: str) -> Path:
    if not RUN_ID.match(run_id):
        # Run ids name directories; anything else (a hand-edited history line, say) must not.
        raise ValueError(f"{run_id!r} is not a drill run id")
    return report_dir / RUNS / run_id


def publish(run: DrillRun, report_dir: Path, *, now: datetime | None = None) -> Published:
    """Write the run's JSON and HTML, append its history line and rewrite the index."""
    directory = run_directory(report_dir, run.run_id)
    record = directory / RUN_JSON
    report = directory / RUN_HTML
    write_atomic(record, render_json(run))
    write_atomic(report, render_report(run))
    history.append(report_dir, history_line.summary(run))
    index = write_index(report_dir, now=now)
    return Published(report, record, index)


def write_index(report_dir: Path, *, now: datetime | None = None) -> Path:
    kept = _runs_with_pages(report_dir)
    view = index_view(
        history.entries(report_dir), generated_at=now or datetime.now(UTC), has_report=kept.__contains__
    )
    path = report_dir / INDEX
    write_atomic(path, render_index(view))
    return path


def _runs_with_pages(report_dir: Path) -> set[str]:
    runs = report_dir / RUNS
    if not runs.is_dir():
        return set()
    return {entry.name for entry in runs.iterdir() if (entry / RUN_HTML).is_file()}


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
