"""Running pgBackRest: one argument tuple per command, a clean environment, bounded output.

Every command gets the stanza and the config file as options, logs nothing to pgBackRest's own
log directory (``--log-level-file=off``) and takes its locks in a private directory that is
removed afterwards, so that drill never leaves a file where the backup job keeps its own. The
environment is built from nothing: ``PGBACKREST_*`` variables (pgBackRest's own way to receive
options, secrets included) and the variables of an S3 web identity are passed on, nothing else of
drill's. Output is read up to a bound, and every secret of the stanza is blotted out of it before
it can reach a message.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

PROGRAM = "pgbackrest"
MAX_OUTPUT_BYTES = 64 << 20
_SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
_PASSED_ON = ("AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")
_ERROR_TAIL_LINES = 8
REDACTED = "<redacted>"
_MIN_REDACTED = 4  # shorter values would blot out ordinary words
_POLL_SECONDS = 0.1
# The commands that take --lock-path (2.45's config.yaml); the others refuse it.
_LOCKING = frozenset({"archive-get", "info", "restore"})


class PgBackRestFailed(Exception):
    """A pgBackRest command failed, timed out or said too much; the message never holds a secret."""


def find_program(environ: Mapping[str, str]) -> Path:
    """pgBackRest on PATH or in the system's places; PgBackRestFailed naming where it looked."""
    search = os.pathsep.join(part for part in (environ.get("PATH", ""), _SYSTEM_PATH) if part)
    found = shutil.which(PROGRAM, path=search)
    if found is None:
        raise PgBackRestFailed(
            f"pgBackRest is not installed: no {PROGRAM} program on PATH or in {_SYSTEM_PATH}. Install it "
            "(apt-get install pgbackrest) on the host drill runs on, of the release that wrote the repository."
        )
    return Path(found)


def passed_on(environ: Mapping[str, str]) -> dict[str, str]:
    """The variables of drill's environment a pgBackRest command receives."""
    return {
        name: value for name, value in environ.items() if name.startswith("PGBACKREST_") or name in _PASSED_ON
    }


@dataclass(frozen=True)
class PgBackRest:
    """How drill runs pgBackRest for one stanza."""

    program: Path
    stanza: str
    config: str | None  # absolute; None: pgBackRest's own lookup
    variables: Mapping[str, str] = field(default_factory=dict, repr=False)  # from passed_on()
    secrets: tuple[str, ...] = field(default=(), repr=False)  # values blotted out of every output

    def argv(
        self, command: str, *options: str, lock_path: Path, arguments: tuple[str, ...] = ()
    ) -> tuple[str, ...]:
        config = (f"--config={self.config}",) if self.config else ()
        return (
            str(self.program),
            *config,
            f"--stanza={self.stanza}",
            *((f"--lock-path={lock_path}",) if command in _LOCKING else ()),
            "--log-level-file=off",
            "--log-level-console=off",
            "--log-level-stderr=warn",
            *options,
            command,
            *arguments,
        )

    def environment(self, home: Path) -> dict[str, str]:
        return {
            "PATH": _SYSTEM_PATH,
            "LC_ALL": "C",
            "LANG": "C",
            "TZ": "UTC",
            "HOME": str(home),
            **self.variables,
        }

    def redact(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            if len(secret) >= _MIN_REDACTED:
                text = text.replace(secret, REDACTED)
        return text

    def run(self, command: str, *options: str, timeout: float, arguments: tuple[str, ...] = ()) -> str:
        """The command's standard output; PgBackRestFailed with its last error lines otherwise."""
        with tempfile.TemporaryDirectory(prefix="drill-pgbackrest-") as scratch:
            argv = self.argv(command, *options, lock_path=Path(scratch), arguments=arguments)
            status, output, errors = bounded_run(argv, self.environment(Path(scratch)), timeout=timeout)
        if status is None:
            raise PgBackRestFailed(self.redact(f"pgbackrest {command} for stanza {self.stanza}: {errors}"))
        if status != 0:
            tail = "\n".join(errors.strip().splitlines()[-_ERROR_TAIL_LINES:]) or "(no error output)"
            raise PgBackRestFailed(
                self.redact(
                    f"pgbackrest {command} for stanza {self.stanza} exited with status {status}: {tail}"
                )
            )
        return self.redact(output)


def bounded_run(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    timeout: float,
    account: pwd.struct_passwd | None = None,
    cwd: Path | None = None,
    watch: Callable[[], str | None] | None = None,
    watch_every: float = 1.0,
) -> tuple[int | None, str, str]:
    """Run ``argv``: (status, stdout, stderr), or status None with the reason in place of stderr when it
    ran past ``timeout``, wrote more than MAX_OUTPUT_BYTES, or ``watch`` (asked every ``watch_every``
    seconds) gave a reason to stop it: it is killed, with what it started."""
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            user=account.pw_uid if account else None,
            group=account.pw_gid if account else None,
            extra_groups=[] if account else None,
        )
    except OSError as error:
        return None, "", f"{Path(argv[0]).name} could not start: {error}."
    assert process.stdout is not None and process.stderr is not None
    readers = [_Reader(process.stdout), _Reader(process.stderr)]
    deadline = time.monotonic() + timeout
    next_watch = time.monotonic() + watch_every
    try:
        while process.poll() is None:
            if any(reader.overflowed for reader in readers):
                return None, "", f"wrote more than {MAX_OUTPUT_BYTES} bytes and was stopped."
            if time.monotonic() > deadline:
                return None, "", f"ran longer than {timeout:.0f}s and was stopped."
            if watch is not None and time.monotonic() >= next_watch:
                next_watch = time.monotonic() + watch_every
                if (reason := watch()) is not None:
                    return None, "", reason
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=_POLL_SECONDS)
    finally:
        # A bound crossed, Ctrl-C or SIGTERM while waiting: nothing it started outlives drill's wait.
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    stdout, stderr = (reader.text() for reader in readers)
    if any(reader.overflowed for reader in readers):
        return None, "", f"wrote more than {MAX_OUTPUT_BYTES} bytes and was stopped."
    return process.returncode, stdout, stderr


class _Reader:
    """Reads a pipe to its end on a thread, keeping at most MAX_OUTPUT_BYTES of it."""

    def __init__(self, pipe: IO[bytes]) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.overflowed = False
        self.thread = threading.Thread(
            target=self._read, args=(pipe,), name="drill-pgbackrest-output", daemon=True
        )
        self.thread.start()

    def _read(self, pipe: IO[bytes]) -> None:
        with pipe:
            while chunk := pipe.read1(1 << 16):  # type: ignore[attr-defined]
                if self.size + len(chunk) > MAX_OUTPUT_BYTES:
                    self.overflowed = True
                    continue  # keep draining, so the program is never blocked on a full pipe
                self.chunks.append(chunk)
                self.size += len(chunk)

    def text(self) -> str:
        self.thread.join(timeout=5)
        return b"".join(self.chunks).decode("utf-8", "replace")
