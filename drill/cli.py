"""Commands only: parse arguments, call the engine, print, choose the exit code.

Exit codes: 0 every finding passed (warnings allowed), 3 any ``fail`` or ``error`` finding,
2 a config or usage error, 1 an unexpected internal error.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from drill import drill_version
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


def _finish(run: DrillRun, json_path: Path | None) -> None:
    console = _console()
    print_run(run, console)
    if json_path is not None:
        write_atomic(json_path, render_json(run))
        console.print(f"JSON: {json_path}", markup=False, highlight=False)
    raise typer.Exit(EXIT_FINDINGS if run.status.is_failing else EXIT_OK)


def _execute(
    config: Path, command: str, phases: frozenset[Phase], databases: list[str] | None, concurrency: int
) -> DrillRun:
    loaded = _load(config)
    try:
        return execute(
            loaded, command=command, phases=phases, databases=databases or (), concurrency=concurrency
        )
    except KeyError as error:
        _error(f"{config}: {error.args[0]}.")
        raise typer.Exit(EXIT_USAGE) from None


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
    _finish(_execute(config, "check", frozenset({Phase.POSTURE}), database, concurrency), json_path)


@app.command()
def run(
    config: ConfigOption,
    json_path: JsonOption = None,
    database: DatabaseOption = None,
    concurrency: ConcurrencyOption = 8,
) -> None:
    """Run everything: the posture checks and the restore drill of each database."""
    _finish(_execute(config, "run", frozenset(Phase), database, concurrency), json_path)


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
