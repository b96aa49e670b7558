"""Who owns a scratch or download dir, and the sweep of the dirs whose owner died.

Each dir drill makes holds a marker naming its process (pid, the pid's start time, the boot id
and the host), so that a dir left by a drill that was SIGKILLed, or by a machine that lost power,
can be told from the dir of a drill that is still running.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from drill.restore.processes import current_boot_id, pid_alive, process_start, stop_postmaster_of

PREFIX = "drill-scratch-"
FETCH_PREFIX = "drill-fetch-"  # a drill's download dir: swept like a scratch dir when its owner died
MARKER = "drill-owner.json"
# A dir without a marker is left alone this long: its owner may be between mkdtemp and writing
# the marker, or the dir is not drill's at all.
UNMARKED_GRACE_SECONDS = 3600.0


def sweep_stale(
    work_dir: Path | None = None, *, unmarked_grace: float = UNMARKED_GRACE_SECONDS
) -> list[Path]:
    """Remove scratch dirs whose owner is dead, stopping any postmaster still running in them.

    Left alone: dirs of a live owner, dirs another host made (a shared work_dir), dirs kept on
    purpose (``keep=True``), and unmarked dirs younger than ``unmarked_grace`` seconds.
    """
    parent = Path(work_dir) if work_dir is not None else Path(tempfile.gettempdir())
    removed: list[Path] = []
    try:
        candidates = sorted([*parent.glob(f"{PREFIX}*"), *parent.glob(f"{FETCH_PREFIX}*")])
    except OSError:
        return removed
    for root in candidates:
        if root.is_symlink() or not root.is_dir() or not _is_stale(root, unmarked_grace):
            continue
        stop_postmaster_of(root / "data")
        shutil.rmtree(root, ignore_errors=True)
        if not root.exists():
            removed.append(root)
    return removed


def _is_stale(root: Path, unmarked_grace: float) -> bool:
    try:
        marker = json.loads((root / MARKER).read_text(encoding="utf-8"))
        pid = int(marker["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        try:
            age = time.time() - root.stat().st_mtime
        except OSError:
            return False
        return age > unmarked_grace
    if marker.get("kept") or marker.get("host") != socket.gethostname():
        return False
    return not _owner_alive(pid, marker.get("started"), marker.get("boot_id"))


def mark_owned(root: Path) -> None:
    """Mark a temp dir of this process (a download dir) so that ``sweep_stale`` removes it if this
    process is killed before it can."""
    write_marker(root, kept=False)


def write_marker(root: Path, *, kept: bool) -> None:
    """Who made this dir: pid, the pid's start time (a reused pid is not the owner) and boot id."""
    marker = {
        "pid": os.getpid(),
        "started": process_start(os.getpid()),
        "boot_id": current_boot_id(),
        "host": socket.gethostname(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "kept": kept,
    }
    partial = root / f".{MARKER}.tmp"
    partial.write_text(json.dumps(marker), encoding="utf-8")
    partial.replace(root / MARKER)


def _owner_alive(pid: int, started: object, boot_id: object) -> bool:
    if boot_id is not None and current_boot_id() not in (None, boot_id):
        return False  # the machine rebooted since: nothing from then runs
    if not pid_alive(pid):
        return False
    current = process_start(pid)
    return started is None or current is None or current == started
