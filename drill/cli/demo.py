"""``drill demo``: build a small estate on this machine, drill it, keep the report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from drill.cli.common import console, error, sigterm_unwinds
from drill.exits import Exit


def demo(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Where the demo's report directory goes (it is kept).")
    ] = Path("drill-demo"),
) -> None:
    """Build a small backup estate on this machine (a local S3, sample PostgreSQL databases, an
    agent that holds too much), drill it, keep the report and remove everything else."""
    from drill.demo import DemoError, run_demo
    from drill.reports.console import print_run

    screen = console()
    try:
        with sigterm_unwinds():
            result = run_demo(
                out,
                echo=lambda line: screen.print(line, markup=False, highlight=False),
                show_run=lambda run: print_run(run, screen),
            )
    except DemoError as failure:
        error(f"drill demo: {failure}")
        raise typer.Exit(Exit.USAGE) from None
    raise typer.Exit(Exit.FINDINGS if result.run.status.is_failing else Exit.OK)
