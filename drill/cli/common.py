"""What the commands share: the config option, the console, error lines, loading the config, SIGTERM."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from drill.exits import Exit

if TYPE_CHECKING:
    from rich.console import Console

    from drill.config import LoadedConfig

ConfigOption = Annotated[
    Path,
    typer.Option("--config", "-c", help="The drill TOML config file.", show_default=False),
]


def console() -> Console:
    """The console for tables and reports on stdout."""
    from rich.console import Console

    # Off a terminal (cron, CI logs) rich would wrap at 80 columns; a wider table stays readable.
    return Console(width=None if sys.stdout.isatty() else 160)


def error(message: str) -> None:
    """Errors go to stderr as plain lines, never wrapped, so each stays one greppable message."""
    print(message, file=sys.stderr)


def usage_error(message: str) -> NoReturn:
    """One line on stderr, then exit 2."""
    error(message)
    raise typer.Exit(Exit.USAGE)


def load(path: Path) -> LoadedConfig:
    """The validated config, or every problem on stderr (one line each) and exit 2."""
    from drill.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as problems:
        usage_error(str(problems))


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM (a Kubernetes pod stopping) unwinds like Ctrl-C, so every scratch server is stopped
    and every temp dir removed; further signals are ignored until that cleanup is done."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise SystemExit(128 + signum)


@contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """Within the block, SIGTERM raises SystemExit as Ctrl-C raises KeyboardInterrupt."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
