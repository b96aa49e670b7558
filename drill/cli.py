"""Commands only: parse arguments, call the engine, print, choose the exit code (see drill.exits)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from drill import drill_version, history
from drill.config import ConfigError, LoadedConfig, load_config
from drill.demo import DemoError, run_demo
from drill.engine import execute, select_databases
from drill.exits import Exit
from drill.files import write_atomic
from drill.locks import database_locks
from drill.model import DrillRun, Phase
from drill.registry import discover
from drill.reports.console import print_run
from drill.reports.directory import RUN_HTML, publish, run_directory
from drill.reports.json_report import render_json
from drill.reports.junit import render_junit
from drill.reports.metrics import publish_metrics
from drill.reports.notify import notify
from drill.reports.pack import PackError, build_pack, verify_pack
from drill.reports.period import Period
from drill.scheduler import Launcher, NothingToSchedule, plan, serve

app = typer.Typer(
    name="drill",
    help=(
        "Verify that backups would survive the worst day: 3-2-1-1-0 copies, immutability, "
        "separation from the credentials agents hold, and restore drills.\n\n"
        "Exit codes: 0 all passed (warnings allowed), 3 a finding failed or could not be verified, "
        "2 config or usage error, 1 internal error, 4 (run) every database was being drilled elsewhere."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

ConfigOption = Annotated[
    Path,
    typer.Option("--config", "-c", help="The drill TOML config file.", show_default=False),
]
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


def _console() -> Console:
    # Off a terminal (cron, CI logs) rich would wrap at 80 columns; a wider table stays readable.
    return Console(width=None if sys.stdout.isatty() else 160)


def _error(message: str) -> None:
    """Errors go to stderr as plain lines, never wrapped, so each stays one greppable message."""
    print(message, file=sys.stderr)


def _load(path: Path) -> LoadedConfig:
    try:
        return load_config(path)
    except ConfigError as error:
        _error(str(error))
        raise typer.Exit(Exit.USAGE) from None


@contextmanager
def _progress() -> Iterator[Callable[[str, int], Callable[[int], None]] | None]:
    """A download bar on a terminal; nothing in cron or CI logs."""
    if not sys.stderr.isatty():
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:

        def start(label: str, total: int) -> Callable[[int], None]:
            task = bar.add_task(label, total=total)
            return lambda amount: bar.advance(task, amount)

        yield start


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM (a Kubernetes pod stopping) unwinds like Ctrl-C, so every scratch server is stopped
    and every temp dir removed; further signals are ignored until that cleanup is done."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise SystemExit(128 + signum)


def _finish(
    run: DrillRun,
    loaded: LoadedConfig,
    selection: tuple[str, ...],
    json_path: Path | None,
    junit_path: Path | None,
) -> None:
    config = loaded.config
    report_dir = Path(config.report.dir)
    console = _console()
    print_run(run, console)
    # Read before this run's own history line is appended: a recovery is judged against the run before.
    previous = history.previous_run(report_dir, run.command, tuple(db.name for db in run.coverage.databases))
    published = publish(run, report_dir)
    if json_path is not None:
        write_atomic(json_path, render_json(run))
        console.print(f"JSON: {json_path}", markup=False, highlight=False)
    if junit_path is not None:
        write_atomic(junit_path, render_junit(run))
        console.print(f"JUnit: {junit_path}", markup=False, highlight=False)
    console.print(f"Report: {published.report}", markup=False, highlight=False)
    console.print(f"History: {published.index}", markup=False, highlight=False)
    # Metrics and notifications report their own trouble; they never change the run's verdict.
    for problem in publish_metrics(
        run, config.metrics, os.environ, history.last_passing_drills(report_dir), selection=selection
    ) + notify(run, config.notify, os.environ, previous=previous, report=str(published.report)):
        _error(problem)
    raise typer.Exit(Exit.FINDINGS if run.status.is_failing else Exit.OK)


def _lock_dir(loaded: LoadedConfig) -> Path:
    config = loaded.config
    return Path(config.schedule.lock_dir) if config.schedule.lock_dir else Path(config.report.dir) / "locks"


@contextmanager
def _locked(loaded: LoadedConfig, names: tuple[str, ...], *, restore: bool) -> Iterator[tuple[str, ...]]:
    """The databases this run may drill: a restore drill takes each database's lock or skips it."""
    if not restore:
        yield names
        return
    with database_locks(_lock_dir(loaded), names, " ".join(["drill", *sys.argv[1:]])) as locked:
        for busy in locked.busy:
            _error(f"{busy.database}: skipped: another drill of it is running ({busy.holder.describe()}).")
        for taken in locked.acquired:
            if taken.stale is not None:
                _error(
                    f"{taken.database}: took over the lock of a drill that was killed ({taken.stale.describe()})."
                )
        if names and not locked.acquired:
            _error("drill: nothing to drill: every selected database is being drilled by another process.")
            raise typer.Exit(Exit.BUSY)
        yield locked.databases


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
) -> None:
    loaded = _load(config)
    try:
        selected = tuple(database.name for database in select_databases(loaded, databases or ()))
    except KeyError as error:
        _error(f"{config}: {error.args[0]}.")
        raise typer.Exit(Exit.USAGE) from None
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        with _locked(loaded, selected, restore=Phase.RESTORE in phases) as drillable, _progress() as progress:
            run = execute(
                loaded,
                command=command,
                phases=phases,
                # All of them stays "all" (no filter); a lock held elsewhere narrows the run.
                databases=databases or () if drillable == selected else drillable,
                concurrency=concurrency,
                keep=keep,
                progress=progress,
            )
    finally:
        signal.signal(signal.SIGTERM, previous)
    _finish(run, loaded, tuple(databases or ()), json_path, junit_path)


@app.command()
def validate(config: ConfigOption) -> None:
    """Check a config file without touching any storage; exit 2 with every problem if it is invalid."""
    loaded = _load(config)
    c = loaded.config
    print(
        f"{config} is valid: {len(c.targets)} targets, {len(c.databases)} databases, {len(c.agents)} agents."
    )


@app.command()
def check(
    config: ConfigOption,
    json_path: JsonOption = None,
    junit_path: JunitOption = None,
    database: DatabaseOption = None,
    concurrency: ConcurrencyOption = 8,
) -> None:
    """Run the posture checks (copies, freshness, immutability, ...) by reading storage only; no restore."""
    _execute(
        config,
        "check",
        phases=frozenset({Phase.POSTURE}),
        databases=database,
        concurrency=concurrency,
        json_path=json_path,
        junit_path=junit_path,
    )


@app.command()
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
) -> None:
    """Run everything: the posture checks, then restore each database's newest snapshot into a
    throwaway PostgreSQL, verify it and measure the recovery time."""
    _execute(
        config,
        "run",
        phases=frozenset(Phase),
        databases=database,
        concurrency=concurrency,
        json_path=json_path,
        junit_path=junit_path,
        keep=keep,
    )


def _day(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        _error(f"{option}: {text!r} is not a date; write it as YYYY-MM-DD.")
        raise typer.Exit(Exit.USAGE) from None


def _report_dir(config: Path | None, report_dir: Path | None) -> Path:
    if report_dir is None and config is not None:
        report_dir = Path(_load(config).config.report.dir)
    elif report_dir is None or config is not None:
        _error("drill report: give either --config (its [report] dir is used) or --report-dir.")
        raise typer.Exit(Exit.USAGE)
    if not report_dir.is_dir():
        _error(f"{report_dir}: no such report directory; drill check and drill run write one.")
        raise typer.Exit(Exit.USAGE)
    return report_dir


@app.command()
def report(
    *,
    since: Annotated[
        str,
        typer.Option("--since", help="First day of the review period (YYYY-MM-DD, UTC).", show_default=False),
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="The archive to write (a .zip).", show_default=False)
    ],
    until: Annotated[
        str | None,
        typer.Option(
            "--until", help="Last day of the period, inclusive (default: today, UTC).", show_default=False
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="The drill config whose report dir holds the runs.", show_default=False
        ),
    ] = None,
    report_dir: Annotated[
        Path | None,
        typer.Option(
            "--report-dir", help="The report directory itself, instead of a config.", show_default=False
        ),
    ] = None,
) -> None:
    """Build the evidence pack of a review period: a summary page, every run's JSON and HTML, and a
    manifest of SHA-256 digests. Exit 0 when the period is proven, 3 when it is not."""
    period = Period(
        _day("--since", since),
        _day("--until", until) if until else datetime.now(UTC).date(),
    )
    if period.since > period.until:
        _error(f"--since {period.since} is after --until {period.until}.")
        raise typer.Exit(Exit.USAGE)
    pack = build_pack(_report_dir(config, report_dir), period, out)
    summary = pack.summary
    runs = len(summary.runs)
    print(f"Evidence pack: {pack.path} ({runs} run{'' if runs == 1 else 's'}, {pack.files} files).")
    print(f"Period verdict: {summary.status.value.upper()}: {summary.verdict}")
    print(f"MANIFEST.sha256 SHA-256: {pack.manifest_sha256}")
    print(f"Archive SHA-256: {pack.archive_sha256}")
    print("Record these digests with the review: they show later that the pack was not replaced.")
    raise typer.Exit(Exit.FINDINGS if summary.status.is_failing else Exit.OK)


@app.command("verify-pack")
def verify_pack_command(
    pack: Annotated[
        Path, typer.Argument(help="An evidence pack written by drill report.", show_default=False)
    ],
) -> None:
    """Check every file of an evidence pack against its manifest; exit 3 on any difference."""
    try:
        verification = verify_pack(pack)
    except PackError as error:  # fail closed: what cannot be verified did not verify
        _error(f"FAILED: {error}.")
        raise typer.Exit(Exit.FINDINGS) from None
    for label, names in (
        ("changed", verification.mismatched),
        ("missing", verification.missing),
        ("not in the manifest", verification.unlisted),
    ):
        for name in names:
            print(f"{label}: {name}")
    verdict = "OK" if verification.ok else "FAILED"
    print(
        f"{verdict}: {verification.checked} files checked against MANIFEST.sha256 "
        f"(its SHA-256 is {verification.manifest_sha256})."
    )
    raise typer.Exit(Exit.OK if verification.ok else Exit.FINDINGS)


@app.command()
def schedule(
    config: ConfigOption,
    grace: Annotated[
        float,
        typer.Option(
            "--grace",
            min=1,
            help="On SIGTERM, seconds to let the drill in progress clean up before it is killed.",
        ),
    ] = 60.0,
) -> None:
    """Stay running and drill on the cron expressions of the schedule table (and each database's
    schedule), one drill of a database at a time; SIGTERM stops cleanly."""
    loaded = _load(config)
    try:
        groups = plan(loaded.config)
    except NothingToSchedule as error:
        _error(f"{config}: schedule.cron: {error}.")
        raise typer.Exit(Exit.USAGE) from None
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter(
        "%(asctime)s.%(msecs)03dZ drill schedule %(levelname)s %(message)s", datefmt="%Y-%m-%dT%H:%M:%S"
    )
    formatter.converter = time.gmtime  # one clock for every log line, whatever the container's zone
    handler.setFormatter(formatter)
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    report_dir = Path(loaded.config.report.dir)
    launcher = Launcher(config.resolve(), lambda run_id: run_directory(report_dir, run_id) / RUN_HTML)
    logging.getLogger("drill.schedule").info("drilling %d group(s) of databases from %s", len(groups), config)
    serve(loaded.config, launcher, grace=grace)


@app.command()
def demo(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Where the demo's report directory goes (it is kept).")
    ] = Path("drill-demo"),
) -> None:
    """Build a small backup estate on this machine (a local S3, sample PostgreSQL databases, an
    agent that holds too much), drill it, keep the report and remove everything else."""
    console = _console()
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        result = run_demo(
            out,
            echo=lambda line: console.print(line, markup=False, highlight=False),
            show_run=lambda run: print_run(run, console),
        )
    except DemoError as error:
        _error(f"drill demo: {error}")
        raise typer.Exit(Exit.USAGE) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    raise typer.Exit(Exit.FINDINGS if result.run.status.is_failing else Exit.OK)


@app.command("list-checks")
def list_checks() -> None:
    """List every check drill knows, with what it judges and how severe a failure is."""
    table = Table(header_style="bold")
    for column in ("id", "scope", "phase", "severity", "what it verifies"):
        table.add_column(column)
    for spec in discover():
        table.add_row(spec.id, spec.scope.value, spec.phase.value, spec.severity.value, spec.title)
    _console().print(table)


@app.command()
def version() -> None:
    """Print drill's version."""
    print(drill_version())


def main() -> None:
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        _error("drill: interrupted.")
        sys.exit(130)
    except Exception as error:
        _error(f"drill: internal error: {type(error).__name__}: {error}")
        if os.environ.get("DRILL_DEBUG"):
            traceback.print_exc()
        else:
            _error("Set DRILL_DEBUG=1 to see the traceback, and please report it.")
        sys.exit(Exit.INTERNAL)
