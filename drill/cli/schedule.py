"""``drill schedule``: stay running and start ``drill run`` on the config's cron expressions."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from drill.cli.common import ConfigOption, load, usage_error


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
    from drill.reports.directory import RUN_HTML, run_directory
    from drill.scheduler import Launcher, NothingToSchedule, plan, serve

    loaded = load(config)
    try:
        groups = plan(loaded.config)
    except NothingToSchedule as nothing:
        usage_error(f"{config}: schedule.cron: {nothing}.")
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
