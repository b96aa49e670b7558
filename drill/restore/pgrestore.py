"""Run pg_restore (custom, directory, tar) or psql (plain SQL) into the scratch database.

Commands are argument tuples, never shell strings; connection settings and any password
travel in the environment. The child is killed on every way out (timeout, Ctrl-C, SIGTERM)
so that no restore keeps running after drill has given up on it.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from drill.restore.binaries import PgBinaries
from drill.restore.formats import DumpFormat

_ERROR_TAIL = 20
# Roles a plain dump names; a scratch cluster lacks them, and ON_ERROR_STOP would end the restore.
_ROLE = re.compile(rb"(?:OWNER TO|GRANT .+? TO|SET ROLE|SET SESSION AUTHORIZATION)\s+\"?([A-Za-z_][\w$]*)\"?")


class RestoreFailed(Exception):
    """The dump did not restore cleanly; the message names the tool, its exit status and its last errors."""


@dataclass(frozen=True)
class Restored:
    seconds: float
    command: tuple[str, ...]


def command(
    binaries: PgBinaries, dump_format: DumpFormat, path: Path, database: str, jobs: int
) -> tuple[str, ...]:
    if dump_format is DumpFormat.PLAIN:
        return (
            str(binaries.tool("psql")),
            "--no-psqlrc",
            "--quiet",
            "--set=ON_ERROR_STOP=1",
            f"--dbname={database}",
            f"--file={path}",
        )
    # Parallel restore needs a seekable custom or directory archive; a tar archive restores serially.
    parallel = jobs if dump_format in (DumpFormat.CUSTOM, DumpFormat.DIRECTORY) else 1
    return (
        str(binaries.tool("pg_restore")),
        f"--jobs={parallel}",
        "--exit-on-error",
        "--no-owner",
        "--no-privileges",
        f"--dbname={database}",
        str(path),
    )


def roles_named(path: Path, chunk_size: int = 1 << 22) -> set[str]:
    """The role names a plain SQL dump refers to, read in chunks (a dump may be many GB)."""
    roles: set[str] = set()
    tail = b""
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            block = tail + chunk
            roles.update(match.decode() for match in _ROLE.findall(block))
            tail = block[-256:]
    return roles - {"PUBLIC", "public", "CURRENT_USER", "SESSION_USER", "CURRENT_ROLE"}


def run(
    binaries: PgBinaries,
    dump_format: DumpFormat,
    path: Path,
    database: str,
    environ: Mapping[str, str],
    *,
    jobs: int,
    timeout: float,
) -> Restored:
    """Restore, or raise RestoreFailed with the tool's last error lines."""
    arguments = command(binaries, dump_format, path, database, jobs)
    started = time.monotonic()
    with tempfile.TemporaryFile() as errors:
        # A new session: Ctrl-C in the terminal reaches drill, which stops the child itself after
        # recording why, instead of the child dying half-way under it.
        process = subprocess.Popen(
            arguments,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            env={**os.environ, **environ},
            start_new_session=True,
        )
        try:
            status = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RestoreFailed(
                f"{Path(arguments[0]).name} ran longer than the restore timeout of {timeout:.0f}s."
            ) from None
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        errors.seek(0)
        lines = [line for line in errors.read().decode("utf-8", "replace").splitlines() if line.strip()]
    if status != 0:
        tail = "\n".join(lines[-_ERROR_TAIL:]) or "(no error output)"
        raise RestoreFailed(f"{Path(arguments[0]).name} exited with status {status}: {tail}")
    return Restored(time.monotonic() - started, arguments)
