"""Pruning the report directory after a run: history lines and run directories beyond ``[report]
keep_runs`` / ``keep_days``, never what a kept period or a reader still needs.

A run is pruned only when every one of these says it may go:

- ``keep_runs``: it is not among the newest that many runs (by their place in the history);
- ``keep_days``: it started more than that many days ago;
- ``keep_period``: it did not start inside a kept period (the days an evidence pack will cover);
- the readers: its line is not one a lookup answers from: a database's last passing drill (the "0"
  of 3-2-1-1-0 and the metrics' last success), a database's last drill that restored rows (the next
  drill compares row counts with it), or the last run of a command over a set of databases (a
  recovery is judged against it). These are named by the history's summary, so the planning pass
  parses no line: it reads each run's id (and so its start) from the line's head.

The summary saved after a prune is built from exactly the lines kept, so the index shows the runs
the directory holds.

With neither ``keep_runs`` nor ``keep_days`` set nothing is pruned. Lines that are not drill runs
(torn, foreign, or with an id that is not drill's) are kept: what cannot be judged is not removed.

A run killed at any point leaves a consistent directory. Under the history's lock: the kept lines
are written to a new file; the pruned runs' directories are renamed to ``runs/.pruned-<id>``
(readers skip names that are not run ids); the summary is saved naming the new file; the new file
is renamed over the history; the renamed directories are removed. Killed before the history's
rename, the old history still lists those runs (their pages are gone, as a pruned run's are) and
the next prune removes them again; killed after it, the next prune removes the leftover
directories. The summary's name for the history then differs from the file, so it is rebuilt.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from drill import history
from drill.config import KeepPeriod, ReportSettings
from drill.history_summary import HistorySummary

RUNS = "runs"
_LEFTOVER = ".pruned-"  # a run directory on its way out


@dataclass(frozen=True)
class Pruned:
    """What one prune removed and what it kept that the rules alone would have removed."""

    runs: tuple[str, ...]  # the run ids whose history line and directory were removed
    kept_for_periods: int  # beyond the rules, inside a kept period
    kept_for_readers: int  # beyond the rules, a line a lookup answers from

    def describe(self) -> str:
        kept = []
        if self.kept_for_periods:
            kept.append(f"{self.kept_for_periods} inside keep_period")
        if self.kept_for_readers:
            kept.append(
                f"{self.kept_for_readers} still needed (a last passing drill, row counts, a previous run)"
            )
        pruned = f"pruned {len(self.runs)} run{'s' if len(self.runs) != 1 else ''}"
        return pruned + (f"; kept beyond the limits: {', '.join(kept)}" if kept else "") + "."


def prunes(settings: ReportSettings) -> bool:
    return settings.keep_runs is not None or settings.keep_days is not None


def describe(settings: ReportSettings) -> str | None:
    """What the directory keeps, for the index page; None when it keeps everything."""
    if not prunes(settings):
        return None
    rules = []
    if settings.keep_runs is not None:
        rules.append(f"the newest {settings.keep_runs} runs")
    if settings.keep_days is not None:
        rules.append(f"runs of the last {settings.keep_days} days")
    periods = [_period(period) for period in settings.keep_period]
    kept = " and ".join(rules)
    also = f", every run in {', '.join(periods)}" if periods else ""
    return f"This directory keeps {kept}{also}, and the runs the checks still read; older runs are pruned."


def _period(period: KeepPeriod) -> str:
    if period.quarters is not None:
        return "the current quarter" + (
            f" and the {period.quarters - 1} before it" if period.quarters > 1 else ""
        )
    return f"{period.since} to {period.until}" if period.until else f"{period.since} onwards"


def plan(
    report_dir: Path, settings: ReportSettings, now: datetime, summary: HistorySummary
) -> tuple[dict[int, str], Pruned]:
    """The lines to prune (number: run id), and the counts of what was kept beyond the rules.

    One pass over the history that parses no JSON: a run's id (and so its start) is read from the
    head of its line, and the runs the lookups need are named by ``summary`` (current, this run's
    line included). Call within ``history.locked`` so the numbers stay true."""
    needed = _needed_runs(summary)
    runs = list(history.numbered_run_ids(report_dir))
    newest = {number for number, _ in runs[-settings.keep_runs :]} if settings.keep_runs else set()
    cutoff = now - timedelta(days=settings.keep_days) if settings.keep_days else None
    dropped: dict[int, str] = {}
    for_periods = for_readers = 0
    for number, run_id in runs:
        started = _started(run_id)
        if number in newest or (cutoff is not None and started >= cutoff):
            continue
        if any(period.holds(started, now) for period in settings.keep_period):
            for_periods += 1
        elif run_id in needed:
            for_readers += 1
        else:
            dropped[number] = run_id
    # A run id twice in the history (a copied line) keeps its page while one of its lines stays.
    kept_ids = {run_id for number, run_id in runs if number not in dropped}
    gone = tuple(dict.fromkeys(run_id for run_id in dropped.values() if run_id not in kept_ids))
    return dropped, Pruned(gone, for_periods, for_readers)


def _needed_runs(summary: HistorySummary) -> frozenset[str]:
    """The runs the lookups answer from: last passing drills, last row counts, previous runs."""
    drills = [*summary.last_passing.values(), *summary.last_rows.values()]
    previous = (str(brief.get("run_id")) for brief in summary.previous.values())
    return frozenset([*(drill.run_id for drill in drills), *previous])


def _started(run_id: str) -> datetime:
    """The start a drill run id records, to the second (as evidence packs pick runs by it)."""
    return datetime(
        int(run_id[0:4]),
        int(run_id[4:6]),
        int(run_id[6:8]),
        int(run_id[9:11]),
        int(run_id[11:13]),
        int(run_id[13:15]),
        tzinfo=UTC,
    )


def prune(
    report_dir: Path, settings: ReportSettings, now: datetime, summary: HistorySummary
) -> tuple[Pruned, HistorySummary] | None:
    """Prune by the settings; call within ``history.locked``. None when nothing was pruned (the
    settings keep every run, or every run is kept); else what was pruned and the summary of the
    pruned history, saved: the index and the lookups then see exactly the runs kept."""
    if not prunes(settings) or history.stamp(report_dir) is None:
        return None
    dropped, pruned = plan(report_dir, settings, now, summary)
    if not dropped:
        return None
    temporary, pruned_summary = history.rewritten(report_dir, frozenset(dropped))
    try:
        for run_id in pruned.runs:
            _set_aside(report_dir, run_id)
        history.save_summary(report_dir, pruned_summary)
        history.replace(report_dir, temporary)
    finally:
        temporary.unlink(missing_ok=True)  # gone already once renamed
    _remove_set_aside(report_dir)
    return pruned, pruned_summary


def _set_aside(report_dir: Path, run_id: str) -> None:
    directory = report_dir / RUNS / run_id
    if directory.is_dir():
        directory.rename(report_dir / RUNS / f"{_LEFTOVER}{run_id}")


def _remove_set_aside(report_dir: Path) -> None:
    runs = report_dir / RUNS
    if not runs.is_dir():
        return
    for entry in runs.iterdir():
        if entry.name.startswith(_LEFTOVER) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
