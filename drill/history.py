"""The run history: one JSON object per line in ``history.jsonl`` in the report directory.

Each line is written with a single ``write`` on a file opened for appending and then fsynced,
so a run killed mid-write can at worst leave one torn last line, which readers skip; earlier
lines are never rewritten. ``reports.history_line`` writes the line of a run; this module appends
and reads lines, and looks up each database's drills in them for the checks.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from drill.facts import PreviousDrill

HISTORY_FILE = "history.jsonl"


def append(report_dir: Path, entry: Mapping[str, Any]) -> None:
    report_dir.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(entry, separators=(",", ":"), default=str) + "\n").encode()
    descriptor = os.open(report_dir / HISTORY_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        # A torn line left by a killed run has no newline; start on a fresh line so ours parses.
        if os.fstat(descriptor).st_size and _last_byte(report_dir / HISTORY_FILE) != b"\n":
            line = b"\n" + line
        # One write in the normal case; a short write (a full disk, a signal) goes on where it stopped.
        view = memoryview(line)
        while view:
            view = view[os.write(descriptor, view) :]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _last_byte(path: Path) -> bytes:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1)


def entries(report_dir: Path) -> Iterator[dict[str, Any]]:
    """Every intact line, oldest first; torn or foreign lines are skipped."""
    path = report_dir / HISTORY_FILE
    if not path.exists():
        return
    with path.open("rb") as handle:
        for raw in handle:
            try:
                entry = json.loads(raw)
            except ValueError:  # JSONDecodeError, UnicodeDecodeError, and an integer of 4,300 digits
                continue
            if isinstance(entry, dict):
                yield entry


def _drills(
    entry: Mapping[str, Any], databases: Iterable[str] | None = None
) -> Iterator[tuple[str, PreviousDrill]]:
    """The drills one history line records, each database's on its own: a foreign one is skipped."""
    recorded = entry.get("drills")
    if not isinstance(recorded, dict) or "finished_at" not in entry:
        return
    for database in recorded if databases is None else databases:
        drill = recorded.get(database)
        if not isinstance(drill, dict):
            continue
        try:
            parsed = PreviousDrill(
                run_id=str(entry.get("run_id")),
                finished_at=datetime.fromisoformat(str(entry["finished_at"])),
                passed=bool(drill.get("passed")),
                table_rows={str(k): int(v) for k, v in (drill.get("table_rows") or {}).items()},
            )
        except (ValueError, TypeError, AttributeError):
            # A hand-edited or foreign line is skipped: it must not cost the run its drill.
            continue
        yield str(database), parsed


def drills_of(report_dir: Path, database: str) -> Iterator[PreviousDrill]:
    for entry in entries(report_dir):
        for _, drill in _drills(entry, (database,)):
            yield drill


def previous_drill(report_dir: Path, database: str) -> PreviousDrill | None:
    """The last drill of ``database`` that restored something to compare row counts with."""
    last: PreviousDrill | None = None
    for drill in drills_of(report_dir, database):
        if drill.table_rows:
            last = drill
    return last


def last_passing_drill(report_dir: Path, database: str) -> datetime | None:
    return max((drill.finished_at for drill in drills_of(report_dir, database) if drill.passed), default=None)


def last_passing_drills(report_dir: Path) -> dict[str, datetime]:
    """Each database's last passing drill, in one pass over the history."""
    last: dict[str, datetime] = {}
    for entry in entries(report_dir):
        for database, drill in _drills(entry):
            if drill.passed and (database not in last or drill.finished_at > last[database]):
                last[database] = drill.finished_at
    return last


def previous_run(report_dir: Path, command: str, databases: tuple[str, ...]) -> dict[str, Any] | None:
    """The last recorded run of the same command over the same databases (a recovery is judged against it)."""
    wanted = sorted(databases)
    found: dict[str, Any] | None = None
    for entry in entries(report_dir):
        if entry.get("command") == command and sorted(entry.get("databases") or []) == wanted:
            found = entry
    return found
