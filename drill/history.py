"""The run history: one JSON object per line in ``history.jsonl`` in the report directory.

Each line is written with a single ``write`` on a file opened for appending and then fsynced,
so a run killed mid-write can at worst leave one torn last line, which readers skip. Lines are
only ever added, except by a prune (``drill.reports.pruning``), which writes the kept lines to a
new file and renames it over the history, so that a reader sees the whole old file or the whole
new one. ``reports.history_line`` writes the line of a run; this module appends and reads lines,
keeps the summary (``drill.history_summary``) in step, and looks up each database's drills.

Writers (appends, the summary, prunes) take ``history.lock`` in turn: shards of one estate
publish into one report directory. The lookups read the summary when it covers the history as it
is, and the history itself when not, so they stay correct whoever wrote the last line.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from drill.facts import PreviousDrill
from drill.files import write_atomic
from drill.history_summary import SUMMARY_FILE, HistorySummary, Stamp, drills_in, run_key

HISTORY_FILE = "history.jsonl"
LOCK_FILE = "history.lock"


@contextmanager
def locked(report_dir: Path) -> Iterator[None]:
    """The history's writers one at a time. Not reentrant: ``append`` takes it, ``record`` expects it."""
    report_dir.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(report_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # released by the kernel if the process dies
        yield
    finally:
        os.close(descriptor)


def append(report_dir: Path, entry: Mapping[str, Any]) -> None:
    """Append one line; the summary catches up at the next ``record``."""
    with locked(report_dir):
        _append(report_dir, _encoded(entry))


def record(report_dir: Path, entry: Mapping[str, Any]) -> HistorySummary:
    """Append one line and take it into the summary; call within ``locked``. Returns the summary."""
    summary = current_summary(report_dir)
    line = _encoded(entry)
    _append(report_dir, line)
    summary.add(json.loads(line))  # as a reader will see it: dates as text, and so on
    summary.stamp = stamp(report_dir)
    save_summary(report_dir, summary)
    return summary


def _encoded(entry: Mapping[str, Any]) -> bytes:
    return (json.dumps(entry, separators=(",", ":"), default=str) + "\n").encode()


def _append(report_dir: Path, line: bytes) -> None:
    report_dir.mkdir(parents=True, exist_ok=True)
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
    for _, entry in numbered_entries(report_dir):
        yield entry


def numbered_entries(report_dir: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Every intact line with its number (from 0, torn and foreign lines counted), oldest first."""
    path = report_dir / HISTORY_FILE
    if not path.exists():
        return
    with path.open("rb") as handle:
        for number, raw in enumerate(handle):
            entry = _parsed(raw)
            if entry is not None:
                yield number, entry


# drill writes a line's run id second, after its schema: read it without parsing the line.
_RUN_ID_FIELD = re.compile(rb'"run_id":"([0-9]{8}T[0-9]{6}Z-[0-9a-f]{8})"')
_RUN_ID_WITHIN = 128  # bytes of a line's head the run id must lie in


def numbered_run_ids(report_dir: Path) -> Iterator[tuple[int, str]]:
    """The number and run id of every whole line that names a drill run id at its head, oldest
    first, without parsing the lines (a prune reads the whole history). A torn line, or one whose
    id is elsewhere or not drill's, is not listed: what cannot be judged is kept."""
    path = report_dir / HISTORY_FILE
    if not path.exists():
        return
    with path.open("rb") as handle:
        for number, raw in enumerate(handle):
            if not raw.endswith(b"}\n"):
                continue
            found = _RUN_ID_FIELD.search(raw, 0, _RUN_ID_WITHIN)
            if found is not None:
                yield number, found.group(1).decode()


def _parsed(raw: bytes) -> dict[str, Any] | None:
    try:
        entry = json.loads(raw)
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, and an integer of 4,300 digits
        return None
    return entry if isinstance(entry, dict) else None


# --- the summary --------------------------------------------------------------------------------


def stamp(report_dir: Path) -> Stamp | None:
    """What names the history's state: its inode (a prune makes a new file) and size (a line grows it)."""
    try:
        info = (report_dir / HISTORY_FILE).stat()
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_size)


def _stored_summary(report_dir: Path) -> HistorySummary | None:
    try:
        text = (report_dir / SUMMARY_FILE).read_bytes()
    except FileNotFoundError:
        return None
    return HistorySummary.from_json(text)


def fresh_summary(report_dir: Path) -> HistorySummary | None:
    """The stored summary if it covers the history as it is now, else None."""
    summary = _stored_summary(report_dir)
    if summary is None or summary.stamp != stamp(report_dir):
        return None
    return summary


def current_summary(report_dir: Path) -> HistorySummary:
    """The stored summary, rebuilt from the history when it does not cover it; call within ``locked``."""
    summary = fresh_summary(report_dir)
    if summary is None:
        summary = HistorySummary.of(entries(report_dir))
        summary.stamp = stamp(report_dir)
    return summary


def save_summary(report_dir: Path, summary: HistorySummary) -> None:
    write_atomic(report_dir / SUMMARY_FILE, summary.to_json())


# --- a prune's rewrite ----------------------------------------------------------------------------


def rewritten(report_dir: Path, dropped: frozenset[int]) -> tuple[Path, HistorySummary]:
    """The history without the lines numbered in ``dropped``, in a new file beside it, and the
    summary of the lines kept, read in the same pass; call within ``locked``, with numbers from
    ``numbered_entries`` read under the same lock. ``replace`` puts it in place; until then the
    history is unchanged."""
    handle, name = tempfile.mkstemp(prefix=f".{HISTORY_FILE}.", dir=report_dir)
    temporary = Path(name)
    summary = HistorySummary()
    try:
        os.fchmod(handle, 0o644)
        with os.fdopen(handle, "wb") as output, (report_dir / HISTORY_FILE).open("rb") as history:
            for number, raw in enumerate(history):
                if number in dropped:
                    continue
                output.write(raw)
                entry = _parsed(raw)
                if entry is not None:
                    summary.add(entry)
            output.flush()
            os.fsync(output.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    info = temporary.stat()
    summary.stamp = (info.st_ino, info.st_size)  # a rename keeps the inode
    return temporary, summary


def replace(report_dir: Path, temporary: Path) -> None:
    """Rename a ``rewritten`` history over the history, durably."""
    temporary.replace(report_dir / HISTORY_FILE)
    directory = os.open(report_dir, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


# --- lookups ------------------------------------------------------------------------------------


def _summary(report_dir: Path) -> HistorySummary:
    """The stored summary when it covers the history, else one worked out by reading the history."""
    return fresh_summary(report_dir) or HistorySummary.of(entries(report_dir))


def drills_of(report_dir: Path, database: str) -> Iterator[PreviousDrill]:
    for entry in entries(report_dir):
        for _, drill in drills_in(entry, (database,)):
            yield drill


def previous_drill(report_dir: Path, database: str) -> PreviousDrill | None:
    """The last drill of ``database`` that restored something to compare row counts with."""
    return _summary(report_dir).last_rows.get(database)


def last_passing_drill(report_dir: Path, database: str) -> datetime | None:
    found = _summary(report_dir).last_passing.get(database)
    return found.finished_at if found else None


def last_passing_drills(report_dir: Path) -> dict[str, datetime]:
    """Each database's last passing drill."""
    return {database: drill.finished_at for database, drill in _summary(report_dir).last_passing.items()}


def previous_run(report_dir: Path, command: str, databases: tuple[str, ...]) -> dict[str, Any] | None:
    """The last recorded run of the same command over the same databases (a recovery is judged
    against it), in brief: its id, command, databases, verdict, times and counts."""
    return _summary(report_dir).previous.get(run_key(command, list(databases)))
