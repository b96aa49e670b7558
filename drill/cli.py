"""Commands only: parse arguments, call the engine, print, choose the exit code.

Exit codes: 0 every finding passed (warnings allowed), 3 any ``fail`` or ``error`` finding,
2 a config or usage error, 1 an unexpected internal error.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from drill import drill_version, history
from drill.config import ConfigError, LoadedConfig, load_config
from drill.engine import execute
from drill.files import write_atomic
from drill.model import DrillRun, Phase
from drill.registry import discover
from reports.console import print_run
from reports.json_report import render_json

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_FINDINGS = 3

app = typer.Typer(
    name="drill",
    help=(
        "Verify that backups would survive the worst day: 3-2-1-1-0 copies, immutability, "
        "separation from the credentials agents hold, and restore drills.\n\n"
        "Exit codes: 0 all passed (warnings allowed), 3 a finding failed or could not be verified, "
        "2 config or usage error, 1 internal error."
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
        raise typer.Exit(EXIT_USAGE) from None


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


def _finish(run: DrillRun, json_path: Path | None, report_dir: Path) -> None:
    console = _console()
    print_run(run, console)
    history.append(report_dir, history.summary(run))
    if json_path is not None:
        write_atomic(json_path, render_json(run))
        console.print(f"JSON: {json_path}", markup=False, highlight=False)
    raise typer.Exit(EXIT_FINDINGS if run.status.is_failing else EXIT_OK)


def _execute(
    config: Path,
    command: str,
    *,
    phases: frozenset[Phase],
    databases: list[str] | None,
    concurrency: int,
    json_path: Path | None,
    keep: bool = False,
) -> None:
    loaded = _load(config)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        with _progress() as progress:
            run = execute(
                loaded,
                command=command,
                phases=phases,
                databases=databases or (),
                concurrency=concurrency,
                keep=keep,
                progress=progress,
            )
    except KeyError as error:
        _error(f"{config}: {error.args[0]}.")
        raise typer.Exit(EXIT_USAGE) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    _finish(run, json_path, Path(loaded.config.report.dir))


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
    )


@app.command()
def run(
    config: ConfigOption,
    json_path: JsonOption = None,
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
        keep=keep,
    )


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
        sys.exit(EXIT_INTERNAL)
