"""One drill of a database at a time, across processes: a lock file per database.

The lock is an ``flock`` on ``<lock dir>/<database>.lock``, held for as long as the drill runs;
the file names its holder (pid, host, command, since when) for the messages of whoever finds it
taken. The kernel drops an ``flock`` when its process dies, SIGKILL included, so a lock left by
a killed run is stale by construction: the next run takes it and says whose it was. The file is
never deleted (deleting a lock file races with a process that has just opened it); it is
rewritten by each holder.

``flock`` is local to one machine (and unreliable on some network file systems): two schedulers
on different machines must not share a lock directory and rely on it; run one scheduler, or let
Kubernetes forbid overlapping Jobs (``concurrencyPolicy: Forbid``).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) a lock, as its file says; fields a file does not say are None."""

    pid: int | None
    host: str | None
    command: str | None
    since: str | None

    def describe(self) -> str:
        parts = []
        if self.pid is not None:
            parts.append(f"pid {self.pid}" + (f" on {self.host}" if self.host else ""))
        if self.command:
            parts.append(f"running {self.command!r}")
        if self.since:
            parts.append(f"since {self.since}")
        return ", ".join(parts) or "a process that left no details"


@dataclass(frozen=True)
class Acquired:
    database: str
    stale: Holder | None  # the holder a killed run left behind, if any


@dataclass(frozen=True)
class Busy:
    database: str
    holder: Holder


def _read_holder(descriptor: int) -> Holder | None:
    os.lseek(descriptor, 0, os.SEEK_SET)
    raw = os.read(descriptor, 4096)
    if not raw.strip():
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return Holder(None, None, None, None)
    if not isinstance(data, dict):
        return Holder(None, None, None, None)
    pid = data.get("pid")
    return Holder(
        pid if isinstance(pid, int) else None,
        str(data["host"]) if data.get("host") else None,
        str(data["command"]) if data.get("command") else None,
        str(data["since"]) if data.get("since") else None,
    )


def _write_holder(descriptor: int, command: str) -> None:
    entry = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": command,
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    os.ftruncate(descriptor, 0)
    os.lseek(descriptor, 0, os.SEEK_SET)
    os.write(descriptor, (json.dumps(entry) + "\n").encode())
    os.fsync(descriptor)


def lock_path(lock_dir: Path, database: str) -> Path:
    return lock_dir / f"{database}.lock"


@contextmanager
def database_lock(lock_dir: Path, database: str, command: str) -> Iterator[Acquired | Busy]:
    """Hold the database's lock for the body, or yield Busy naming who holds it. Never waits."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(lock_path(lock_dir, database), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield Busy(database, _read_holder(descriptor) or Holder(None, None, None, None))
            return
        # A holder still written in the file never released it: it was killed (the kernel freed its flock).
        stale = _read_holder(descriptor)
        _write_holder(descriptor, command)
        try:
            yield Acquired(database, stale)
        finally:
            os.ftruncate(descriptor, 0)  # released: an empty file says nobody holds it
    finally:
        os.close(descriptor)  # closing drops the flock


@dataclass(frozen=True)
class Locked:
    acquired: tuple[Acquired, ...]
    busy: tuple[Busy, ...]

    @property
    def databases(self) -> tuple[str, ...]:
        return tuple(item.database for item in self.acquired)


@contextmanager
def database_locks(lock_dir: Path, databases: Iterable[str], command: str) -> Iterator[Locked]:
    """Every lock that can be had now; the rest are reported busy. All are released on exit."""
    with ExitStack() as stack:
        acquired: list[Acquired] = []
        busy: list[Busy] = []
        for database in databases:
            outcome = stack.enter_context(database_lock(lock_dir, database, command))
            if isinstance(outcome, Acquired):
                acquired.append(outcome)
            else:
                busy.append(outcome)
        yield Locked(tuple(acquired), tuple(busy))
