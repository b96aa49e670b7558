"""The ``drill`` command: its commands in the order ``--help`` lists them, and the last-resort handler."""

from __future__ import annotations

import os
import sys
import threading
import traceback

import typer

from drill.cli.baseline import baseline
from drill.cli.common import error
from drill.cli.demo import demo
from drill.cli.drills import check, run
from drill.cli.evidence import report, verify_pack
from drill.cli.schedule import schedule
from drill.cli.validate import list_checks, validate
from drill.exits import Exit

app = typer.Typer(
    name="drill",
    help=(
        "Verify that backups would survive the worst day: 3-2-1-1-0 copies, immutability, "
        "separation from the credentials agents hold, and restore drills.\n\n"
        "Exit codes: 0 all passed (warnings allowed), 3 a finding failed or could not be verified, "
        "2 config or usage error, 1 internal error, 4 (run) every database was being drilled elsewhere, "
        "130 or 143 stopped by Ctrl-C or SIGTERM (the run is recorded as interrupted)."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def version() -> None:
    """Print drill's version."""
    from drill import drill_version

    print(drill_version())


app.command()(validate)
app.command()(check)
app.command()(run)
app.command()(report)
app.command("verify-pack")(verify_pack)
app.add_typer(baseline, name="baseline")
app.command()(schedule)
app.command()(demo)
app.command("list-checks")(list_checks)
app.command()(version)


def _leave_abandoned_calls(exiting: SystemExit) -> None:
    """After an interrupted run is recorded, exit even while a cloud call is still in flight.

    Its thread waits on a socket that may only time out much later, and the interpreter joins such
    threads before it exits; the record and reports are written and flushed, so nothing is lost.
    """
    from drill.stopping import SWITCH

    if SWITCH.stopped is None:
        return
    main_thread = threading.main_thread()
    if not any(thread is not main_thread and not thread.daemon for thread in threading.enumerate()):
        return
    sys.stdout.flush()
    sys.stderr.flush()
    code = exiting.code if isinstance(exiting.code, int) else Exit.INTERNAL
    os._exit(code)


def main() -> None:
    try:
        app()
    except SystemExit as exiting:
        _leave_abandoned_calls(exiting)
        raise
    except KeyboardInterrupt:
        error("drill: interrupted.")
        sys.exit(130)
    except Exception as failure:
        error(f"drill: internal error: {type(failure).__name__}: {failure}")
        if os.environ.get("DRILL_DEBUG"):
            traceback.print_exc()
        else:
            error("Set DRILL_DEBUG=1 to see the traceback, and please report it.")
        sys.exit(Exit.INTERNAL)
