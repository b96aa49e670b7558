"""Processes as /proc shows them (alive, started when, whose child), stopping a postmaster in order,
and holding SIGINT and SIGTERM while a cleanup that must finish is running."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

_FAST_STOP_SECONDS = 5.0
_IMMEDIATE_STOP_SECONDS = 5.0


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _proc_state(pid) not in ("Z", "X")  # a zombie has exited; only its parent has not reaped it


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def _proc_state(pid: int) -> str | None:
    fields = _proc_stat(pid)
    return fields[0] if fields else None


def process_start(pid: int) -> int | None:
    fields = _proc_stat(pid)
    return int(fields[19]) if fields and len(fields) > 19 else None  # starttime, field 22 of stat


def current_boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="utf-8").strip()
    except OSError:
        return None


def _children(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").glob("[0-9]*"):
        fields = _proc_stat(int(entry.name))
        if fields and len(fields) > 1 and fields[1] == str(pid):
            children.append(int(entry.name))
    return children


def _postmaster_pid(data_dir: Path) -> int | None:
    try:
        first = (data_dir / "postmaster.pid").read_text(encoding="utf-8").split("\n", 1)[0]
        return int(first)
    except (OSError, ValueError):
        return None


def postmaster_status(data_dir: Path) -> str | None:
    try:
        lines = (data_dir / "postmaster.pid").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    return lines[7].strip() if len(lines) > 7 else None


def _is_our_postmaster(pid: int, data_dir: Path) -> bool:
    """A postgres process whose working directory is this data dir (the postmaster chdirs there).
    Without /proc (macOS) nothing is verified and nothing is killed: a postmaster whose data dir
    is deleted notices its lock file is gone within a minute and shuts itself down."""
    try:
        comm = Path(f"/proc/{pid}/comm").read_text(encoding="utf-8").strip()
        cwd = Path(f"/proc/{pid}/cwd").readlink()
    except OSError:
        return False
    return comm.startswith("postgres") and cwd == data_dir.resolve()


def stop_postmaster_of(data_dir: Path) -> None:
    pid = _postmaster_pid(data_dir)
    if pid is not None and pid_alive(pid) and _is_our_postmaster(pid, data_dir):
        stop_server(pid, None)


def stop_server(pid: int, process: subprocess.Popen[bytes] | None) -> None:
    """Fast shutdown (SIGINT, what ``pg_ctl stop -m fast`` sends), then immediate (SIGQUIT), then
    SIGKILL for the postmaster and its children. The postmaster waits for its children before it
    exits, so once it is gone, the whole server is."""
    for signum, patience in ((signal.SIGINT, _FAST_STOP_SECONDS), (signal.SIGQUIT, _IMMEDIATE_STOP_SECONDS)):
        if _signal(pid, signum) and _gone(pid, process, patience):
            return
    children = _children(pid)
    for target in (pid, *children):
        _signal(target, signal.SIGKILL)
    _gone(pid, process, _IMMEDIATE_STOP_SECONDS)
    for child in children:
        _gone(child, None, 1.0)


def _signal(pid: int, signum: int) -> bool:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return True


def _gone(pid: int, process: subprocess.Popen[bytes] | None, patience: float) -> bool:
    if process is not None:
        try:
            process.wait(timeout=patience)
        except subprocess.TimeoutExpired:
            return False
        return True
    deadline = time.monotonic() + patience
    while pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until cleanup is done: a second Ctrl-C must not leave a server
    running. Cleanup is bounded (a few seconds at worst), and the signal is delivered after it."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
