"""Read from the run history what the posture checks judge: each database's last clean restore drill."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

from drill import history
from drill.facts import DatabaseFacts
from drill.model import Unavailable


def _last_passing_drill(report_dir: Path, database: str) -> datetime | Unavailable | None:
    try:
        return history.last_passing_drill(report_dir, database)
    except (OSError, ValueError) as error:
        return Unavailable(f"Cannot read the run history: {error}.")


def with_last_passing_drills(
    databases: tuple[DatabaseFacts, ...], report_dir: Path
) -> tuple[DatabaseFacts, ...]:
    """Each database with the time of its last clean restore drill on record; None if it never had one."""
    return tuple(
        replace(facts, last_passing_drill=_last_passing_drill(report_dir, facts.database.name))
        for facts in databases
    )
