"""Run pg_restore (custom, directory, tar) or psql (plain SQL) into the scratch database, in the box.

Commands are argument tuples, never shell strings; connection settings and any password travel
in the environment (drill.restore.box builds it from nothing). psql gets drill's own
``\\restrict <key>`` before the dump (drill.restore.plain). The tool and everything it started
are killed on every way out (timeout, a bound crossed, Ctrl-C, SIGTERM), so that no restore keeps
running after drill has given up on it. Only the last lines of what the tool writes on stderr are
kept: a snapshot can make it write without end.
"""

from __future__ import annotations

import collections
import secrets
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from drill.restore.binaries import PgBinaries
from drill.restore.box import Box
from drill.restore.formats import DumpFormat

_ERROR_TAIL = 20
_KEPT_STDERR = 1 << 16  # bytes of the tool's stderr kept, from its end
_POLL_SECONDS = 0.5
# What psql says when drill's \restrict refuses a meta-command, or the snapshot's own \unrestrict.
_RESTRICTED = ("backslash commands are restricted", "\\unrestrict: wrong key")

Watch = Callable[[], str | None]  # polled while the tool runs: a reason to stop it, or None


class RestoreFailed(Exception):
    """The dump did not restore cleanly; the message names the tool, its exit status and its last errors."""


@dataclass(frozen=True)
class Restored:
    seconds: float
    command: tuple[str, ...]


def command(
    binaries: PgBinaries,
    dump_format: DumpFormat,
    path: Path,
    database: str,
    jobs: int,
    *,
    restrict_key: str | None = None,
    use_list: Path | None = None,
) -> tuple[str, ...]:
    if dump_format is DumpFormat.PLAIN:
        key = restrict_key or secrets.token_hex(32)
        return (
            str(binaries.tool("psql")),
            "--no-psqlrc",
            "--quiet",
            "--set=ON_ERROR_STOP=1",
            f"--dbname={database}",
            # Before the dump's first byte: from here on psql refuses every meta-command.
            f"--command=\\restrict {key}",
            f"--file={path}",
        )
    # Parallel restore needs a seekable custom or directory archive; a tar archive restores serially.
    parallel = jobs if dump_format in (DumpFormat.CUSTOM, DumpFormat.DIRECTORY) else 1
    listed = (f"--use-list={use_list}",) if use_list is not None else ()
    return (
        str(binaries.tool("pg_restore")),
        f"--jobs={parallel}",
        "--exit-on-error",
        "--no-owner",
        "--no-privileges",
        *listed,
        f"--dbname={database}",
        str(path),
    )


class _Tail:
    """Reads a pipe to its end on a thread, keeping only its last ``_KEPT_STDERR`` bytes."""

    def __init__(self, pipe: IO[bytes]) -> None:
        self.kept: collections.deque[bytes] = collections.deque()
        self.size = 0
        self.thread = threading.Thread(
            target=self._read, args=(pipe,), name="drill-restore-stderr", daemon=True
        )
        self.thread.start()

    def _read(self, pipe: IO[bytes]) -> None:
        with pipe:
            while chunk := pipe.read1(1 << 16):  # type: ignore[attr-defined]
                self.kept.append(chunk)
                self.size += len(chunk)
                while self.size - len(self.kept[0]) >= _KEPT_STDERR:
                    self.size -= len(self.kept.popleft())

    def lines(self) -> list[str]:
        self.thread.join(timeout=5)
        text = b"".join(self.kept)[-_KEPT_STDERR:].decode("utf-8", "replace")
        return [line for line in text.splitlines() if line.strip()]


def run(
    arguments: tuple[str, ...],
    box: Box,
    variables: Mapping[str, str],
    *,
    timeout: float,
    watch: Watch | None = None,
) -> Restored:
    """Run the restore ``arguments`` in ``box``, or raise RestoreFailed with the tool's last errors."""
    started = time.monotonic()
    tool = Path(arguments[0]).name
    try:
        process = box.popen(arguments, variables)
    except OSError as error:
        raise RestoreFailed(f"{tool} could not start: {error}.") from None
    assert process.stderr is not None
    tail = _Tail(process.stderr)
    stopped: str | None = None
    try:
        while True:
            try:
                status = process.wait(timeout=_POLL_SECONDS)
                break
            except subprocess.TimeoutExpired:
                pass
            if time.monotonic() - started > timeout:
                stopped = f"{tool} ran longer than the restore timeout of {timeout:.0f}s."
            elif watch is not None:
                stopped = watch()
            if stopped:
                break
        if not stopped and watch is not None:
            stopped = watch()  # what grew since the last look counts too
    finally:
        # Whatever happened (a bound, the timeout, Ctrl-C), nothing the tool started outlives it.
        box.kill(process)
    if stopped:
        raise RestoreFailed(stopped)
    lines = tail.lines()
    if status != 0:
        if any(sign in line for line in lines for sign in _RESTRICTED):
            raise RestoreFailed(
                "the plain SQL dump holds a psql meta-command (a backslash command such as \\! or "
                "\\connect), which drill never runs from a snapshot; psql refused it and stopped: "
                + "\n".join(lines[-_ERROR_TAIL:])
            )
        tail_text = "\n".join(lines[-_ERROR_TAIL:]) or "(no error output)"
        raise RestoreFailed(f"{tool} exited with status {status}: {tail_text}")
    return Restored(time.monotonic() - started, arguments)
