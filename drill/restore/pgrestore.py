"""Run pg_restore (custom, directory, tar) or psql (plain SQL) into the scratch database.

Commands are argument tuples, never shell strings; connection settings and any password
travel in the environment. The child is killed on every way out (timeout, Ctrl-C, SIGTERM)
so that no restore keeps running after drill has given up on it.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
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
# A name as pg_dump writes it (fmtId): bare when lower case, else in double quotes; a string
# literal after SET SESSION AUTHORIZATION (--use-set-session-authorization).
_NAME = rb'"(?:[^"\n]|"")+"|\'(?:[^\'\n]|\'\')+\'|[A-Za-z_\x80-\xff][\w$\x80-\xff]*'
_ROLE_LIST = re.compile(
    rb"(?:OWNER TO|GRANT .+? TO|FOR ROLE|USER MAPPING FOR|CREATE POLICY .+? TO|SET ROLE|SET SESSION AUTHORIZATION)"
    rb"\s+((?:" + _NAME + rb")(?:\s*,\s*(?:" + _NAME + rb"))*)"
)
_ROLE_NAME = re.compile(_NAME)
# Bare words in a role's place that are not roles.
_NOT_ROLES = frozenset({"public", "current_user", "session_user", "current_role", "default", "none"})
# The statements that name roles are short lines; a longer unfinished line (a COPY row) is read on
# from this many bytes before its end, so a role name is never cut at a chunk boundary.
_LONGEST_STATEMENT = 1 << 16


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
    """The role names a plain SQL dump refers to, read in chunks (a dump may be many GB).

    Reserved ``pg_`` roles are left out: every cluster that knows them has them, and CREATE ROLE
    refuses the prefix.
    """
    roles: set[str] = set()
    pending = b""  # the unfinished last line of what was read so far
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            block = pending + chunk
            cut = max(block.rfind(b"\n") + 1, len(block) - _LONGEST_STATEMENT)
            roles.update(_roles_in(block[:cut]))
            pending = block[cut:]
    roles.update(_roles_in(pending))
    return roles


def _roles_in(text: bytes) -> set[str]:
    roles = set()
    for names in _ROLE_LIST.findall(text):
        for raw in _ROLE_NAME.findall(names):
            if raw[:1] in (b'"', b"'"):
                quote = raw[:1]
                name = raw[1:-1].replace(quote + quote, quote).decode("utf-8", "replace")
            else:
                name = raw.lower().decode("utf-8", "replace")  # unquoted names fold to lower case
                if name in _NOT_ROLES:
                    continue
            if not name.startswith("pg_"):
                roles.add(name)
    return roles


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
                # The whole group: pg_restore --jobs forks workers that outlive a killed parent
                # while their statement runs. The group is the child's own (start_new_session).
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        errors.seek(0)
        lines = [line for line in errors.read().decode("utf-8", "replace").splitlines() if line.strip()]
    if status != 0:
        tail = "\n".join(lines[-_ERROR_TAIL:]) or "(no error output)"
        raise RestoreFailed(f"{Path(arguments[0]).name} exited with status {status}: {tail}")
    return Restored(time.monotonic() - started, arguments)
