"""``drill check`` and ``drill run``: drill the databases of a config, publish the run, exit by its verdict."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from drill.cli.common import ConfigOption, console, error, load, usage_error
from drill.exits import Exit, interrupted_by

# pgBackRest's backup labels: a full backup's, or a differential's or incremental's after its full's.
_LABEL = re.compile(r"\d{8}-\d{6}F(_\d{8}-\d{6}[DI])?")

if TYPE_CHECKING:
    from drill.config import LoadedConfig
    from drill.model import DrillRun, Phase

JsonOption = Annotated[
    Path | None,
    typer.Option(
        "--json", help="Also write the run as JSON (schema drill.run/v1) to this path.", show_default=False
    ),
]
ConcurrencyOption = Annotated[
    int,
    typer.Option("--concurrency", min=1, max=256, help="How many storage reads run at once."),
]
JunitOption = Annotated[
    Path | None,
    typer.Option(
        "--junit",
        help="Also write JUnit XML (one test case per finding; fail and error as failures) to this path.",
        show_default=False,
    ),
]
DatabaseOption = Annotated[
    list[str] | None,
    typer.Option(
        "--database", "-d", help="Only this database (repeatable); default all.", show_default=False
    ),
]


def check(
    config: ConfigOption,
    json_path: JsonOption = None,
    junit_path: JunitOption = None,
    database: DatabaseOption = None,
    concurrency: ConcurrencyOption = 8,
) -> None:
    """Run the posture checks (copies, freshness, immutability, ...) by reading storage only; no restore."""
    from drill.model import Phase

    _execute(
        config,
        "check",
        phases=frozenset({Phase.POSTURE}),
        databases=database,
        concurrency=concurrency,
        json_path=json_path,
        junit_path=junit_path,
    )


def run(
    *,
    config: ConfigOption,
    json_path: JsonOption = None,
    junit_path: JunitOption = None,
    database: DatabaseOption = None,
    concurrency: ConcurrencyOption = 8,
    keep: Annotated[
        bool,
        typer.Option(
            "--keep", help="Leave the scratch database running for inspection and print how to connect."
        ),
    ] = False,
    backup_set: Annotated[
        str | None,
        typer.Option(
            "--backup-set",
            metavar="LABEL",
            help="Drill this pgBackRest backup (its label in `pgbackrest info`, e.g. 20261201-020000F) "
            "instead of the newest copy; needs one --database.",
        ),
    ] = None,
) -> None:
    """Run everything: the posture checks, then restore each database's newest snapshot into a
    throwaway PostgreSQL, verify it and measure the recovery time."""
    from drill.model import Phase

    if backup_set is not None and len(database or ()) != 1:
        usage_error("--backup-set names one backup: give exactly one --database with it.")
    if backup_set is not None and not _LABEL.fullmatch(backup_set):
        usage_error(f"--backup-set: {backup_set[:64]!r} is not a pgBackRest backup label.")
    _execute(
        config,
        "run",
        phases=frozenset(Phase),
        databases=database,
        concurrency=concurrency,
        json_path=json_path,
        junit_path=junit_path,
        keep=keep,
        backup_set=backup_set,
    )


def _execute(
    config: Path,
    command: str,
    *,
    phases: frozenset[Phase],
    databases: list[str] | None,
    concurrency: int,
    json_path: Path | None,
    junit_path: Path | None,
    keep: bool = False,
    backup_set: str | None = None,
) -> None:
    from drill.engine import execute, select_databases
    from drill.model import Phase
    from drill.stopping import armed

    loaded = load(config)
    try:
        selected = tuple(database.name for database in select_databases(loaded, databases or ()))
    except KeyError as unknown:
        usage_error(f"{config}: {unknown.args[0]}.")
    # SIGTERM and Ctrl-C stop the run rather than kill it: it is recorded as interrupted, then drill exits.
    with armed():
        with (
            _locked(loaded, selected, restore=Phase.RESTORE in phases) as drillable,
            _progress() as progress,
        ):
            _announce_start(loaded)
            run = execute(
                loaded,
                command=command,
                phases=phases,
                # All of them stays "all" (no filter); a lock held elsewhere narrows the run.
                databases=databases or () if drillable == selected else drillable,
                concurrency=concurrency,
                keep=keep,
                progress=progress,
                backup_set=backup_set,
            )
        _finish(run, loaded, tuple(databases or ()), json_path, junit_path)


def _announce_start(loaded: LoadedConfig) -> None:
    """A healthchecks-style heartbeat hears that a run began; its trouble is a line, never the verdict."""
    from drill.reports.notify import notify_start

    for problem in notify_start(loaded.config.notify, os.environ):
        error(problem)


def _finish(
    run: DrillRun,
    loaded: LoadedConfig,
    selection: tuple[str, ...],
    json_path: Path | None,
    junit_path: Path | None,
) -> None:
    from drill import history
    from drill.files import write_atomic
    from drill.reports.console import print_run
    from drill.reports.directory import publish
    from drill.reports.json_report import render_json
    from drill.reports.junit import render_junit
    from drill.reports.metrics import publish_metrics
    from drill.reports.notify import notify
    from drill.stopping import SWITCH

    config = loaded.config
    report_dir = Path(config.report.dir)
    out = console()
    # Read before this run's own history line is appended: a recovery is judged against the run before.
    previous = history.previous_run(report_dir, run.command, tuple(db.name for db in run.coverage.databases))
    # The record first: nothing printed to a terminal may cost the run its evidence.
    published = publish(run, report_dir, keep=config.report)
    if json_path is not None:
        write_atomic(json_path, render_json(run))
    if junit_path is not None:
        write_atomic(junit_path, render_junit(run))
    print_run(run, out)
    if json_path is not None:
        out.print(f"JSON: {json_path}", markup=False, highlight=False)
    if junit_path is not None:
        out.print(f"JUnit: {junit_path}", markup=False, highlight=False)
    out.print(f"Report: {published.report}", markup=False, highlight=False)
    out.print(f"History: {published.index}", markup=False, highlight=False)
    if published.pruned is not None and published.pruned.runs:
        out.print(f"History: {published.pruned.describe()}", markup=False, highlight=False)
    stopped = SWITCH.stopped
    metrics = config.metrics
    if stopped is not None:
        # The process is on its way out: nothing more is sent over the network. The heartbeat is not
        # pinged either (an interrupted run never passes), so a dead man's switch still notices.
        error(
            f"drill: interrupted by {stopped.signal_name}: the run is recorded as interrupted; "
            "metrics were not pushed and no notification was sent."
        )
        metrics = metrics.model_copy(update={"pushgateway_env": None})
    # Metrics and notifications report their own trouble; they never change the run's verdict.
    problems = list(published.problems)
    problems += publish_metrics(
        run, metrics, os.environ, history.last_passing_drills(report_dir), selection=selection
    )
    if stopped is None:
        problems += notify(run, config.notify, os.environ, previous=previous, report=str(published.report))
    for problem in problems:
        error(problem)
    if stopped is not None:
        raise typer.Exit(interrupted_by(stopped.signal_number))
    raise typer.Exit(Exit.FINDINGS if run.status.is_failing else Exit.OK)


def _lock_dir(loaded: LoadedConfig) -> Path:
    config = loaded.config
    return Path(config.schedule.lock_dir) if config.schedule.lock_dir else Path(config.report.dir) / "locks"


@contextmanager
def _locked(loaded: LoadedConfig, names: tuple[str, ...], *, restore: bool) -> Iterator[tuple[str, ...]]:
    """The databases this run may drill: a restore drill takes each database's lock or skips it."""
    from drill.locks import database_locks

    if not restore:
        yield names
        return
    with database_locks(_lock_dir(loaded), names, " ".join(["drill", *sys.argv[1:]])) as locked:
        for busy in locked.busy:
            error(f"{busy.database}: skipped: another drill of it is running ({busy.holder.describe()}).")
        for taken in locked.acquired:
            if taken.stale is not None:
                error(
                    f"{taken.database}: took over the lock of a drill that was killed ({taken.stale.describe()})."
                )
        if names and not locked.acquired:
            error("drill: nothing to drill: every selected database is being drilled by another process.")
            raise typer.Exit(Exit.BUSY)
        yield locked.databases


@contextmanager
def _progress() -> Iterator[Callable[[str, int], Callable[[int], None]] | None]:
    """A download bar on a terminal; nothing in cron or CI logs."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:

        def start(label: str, total: int) -> Callable[[int], None]:
            task = bar.add_task(label, total=total)
            return lambda amount: bar.advance(task, amount)

        yield start
