"""A physical backup restored into scratch, recovered to the end of its archive, gone on every way out.

``RecoveredCluster`` makes a private directory, runs ``pgbackrest restore`` into it as the scratch
OS user (never root: the restored files belong to that user, and so would anything a crafted
backup made pgBackRest write), with every tablespace mapped into the directory
(``--tablespace-map-all``: on a host next to the production cluster, a tablespace restored to
its original path would overwrite it) and links restored as plain directories (pgBackRest's
default without ``--link-all``). It then starts the server of the backup's major version in the
box (drill.restore.box) with drill's own configuration (drill.restore.physical.layout), which
recovers to the end of the archive and promotes. On exit the server is stopped, whatever it left
is killed, and the directory is deleted: after success, an exception, Ctrl-C or SIGTERM.
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

from psycopg.conninfo import make_conninfo

from drill.restore.binaries import PgBinaries, RestoreSetupError
from drill.restore.bounds import DiskBudget, GrowthWatch
from drill.restore.box import Box
from drill.restore.owners import PREFIX, write_marker
from drill.restore.physical.layout import Layout, PgBackRestSetup, write_server_config
from drill.restore.physical.superuser import SuperuserUnknown, bootstrap_superuser
from drill.restore.processes import postmaster_status, signals_deferred, stop_postmaster_of, stop_server
from drill.restore.scratch import _tail
from drill.restore.server_account import server_env, user_note
from drill.storage.pgbackrest.command import bounded_run

_POLL_SECONDS = 0.02
_WATCH_SECONDS = 1.0
_SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
_MAX_SOCKET_PATH = 107  # sun_path's size on Linux, less its terminating NUL


class RecoveryFailed(Exception):
    """The backup did not restore or recover: a verdict on the backup, at ``stage``."""

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(reason)
        self.stage = stage
        self.reason = reason


@dataclass(frozen=True)
class Recovered:
    """The recovered server, up and promoted. ``superuser`` is the backup's bootstrap superuser."""

    layout: Layout
    port: int
    pid: int
    superuser: str
    binaries: PgBinaries

    def conninfo(self, dbname: str = "postgres", user: str | None = None) -> str:
        # A cluster made with SQL_ASCII would hand psycopg bytes for every text value; names and
        # settings are read as UTF-8 (what is not UTF-8 fails the statement, never garbles it).
        return make_conninfo(
            "",
            host=str(self.layout.socket),
            port=self.port,
            user=user or self.superuser,
            dbname=dbname,
            client_encoding="UTF8",
        )


@dataclass
class RecoveredCluster:
    """``with RecoveredCluster(...) as recovered:`` the backup restored and recovered for the body."""

    binaries: PgBinaries
    pgbackrest: PgBackRestSetup
    account: pwd.struct_passwd | None
    budget: DiskBudget
    redact: Callable[[str], str]
    backup_set: str | None = None  # a label for --set; None: the latest backup
    timeout: float = 6 * 3600.0
    isolate_network: bool = True  # False for a repository pgBackRest reaches over the network
    keep: bool = False
    timings: dict[str, float] = field(default_factory=dict, init=False)
    recovered: Recovered | None = field(default=None, init=False)
    _layout: Layout | None = field(default=None, init=False, repr=False)
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _log: IO[bytes] | None = field(default=None, init=False, repr=False)
    _box: Box | None = field(default=None, init=False, repr=False)

    def __enter__(self) -> Recovered:
        try:
            self.recovered = self._start()
        except BaseException:
            with signals_deferred():
                self._cleanup()
            raise
        return self.recovered

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        with signals_deferred():
            if self.keep and self.recovered is not None and self._process is not None:
                self._leave_running()
            else:
                self._cleanup()

    @property
    def layout(self) -> Layout:
        assert self._layout is not None
        return self._layout

    def _start(self) -> Recovered:
        layout = self.pgbackrest.layout
        try:
            layout.root.mkdir(mode=0o700)
            self._layout = layout
            write_marker(layout.root, kept=False)
            layout.make(self.account)
            self.pgbackrest.write(self.account)
        except OSError as error:
            raise RestoreSetupError(f"Cannot create the restore directory {layout.root}: {error}.") from None
        started = time.monotonic()
        self._restore(layout)
        self.timings["restore_seconds"] = time.monotonic() - started
        try:
            superuser = bootstrap_superuser(layout.data)
        except SuperuserUnknown as unknown:
            raise RecoveryFailed(
                "restore", f"the restored cluster's superuser cannot be found: {unknown}"
            ) from None
        port = 40000 + int.from_bytes(os.urandom(2), "big") % 20000  # names the socket in a private dir
        if len(str(layout.socket / f".s.PGSQL.{port}")) > _MAX_SOCKET_PATH:
            raise RestoreSetupError(
                f"The socket path under {layout.root} is longer than a Unix socket's {_MAX_SOCKET_PATH} "
                "bytes: set [restore] work_dir to a shorter directory."
            )
        conf = write_server_config(
            layout, port, self.pgbackrest.restore_command(), self.account, major=self.binaries.major
        )
        recovery_began = time.monotonic()
        self._log = layout.log.open("ab")
        if self.account is not None:
            os.chown(layout.log, self.account.pw_uid, self.account.pw_gid)
        try:
            self._box = box = Box.make(
                layout.home, self.account, isolate_network=self.isolate_network, bin_dir=self.binaries.bin_dir
            )
            self._process = box.popen(
                (str(self.binaries.tool("postgres")), "-D", str(layout.data), "-c", f"config_file={conf}"),
                {"TZ": server_env(self.account)["TZ"], **self.pgbackrest.variables},
                stdout=self._log,
                stderr=subprocess.STDOUT,
                cwd=layout.root,
            )
        except (OSError, subprocess.SubprocessError) as error:
            raise RestoreSetupError(f"postgres could not start{user_note(self.account)}: {error}.") from None
        self._wait_for_recovery(layout, port)
        self.timings["replay_seconds"] = time.monotonic() - recovery_began
        return Recovered(layout, port, self._process.pid, superuser, self.binaries)

    def _restore(self, layout: Layout) -> None:
        options = [
            "--type=default",
            "--archive-mode=off",
            f"--tablespace-map-all={layout.tablespaces}",
        ]
        if self.backup_set:
            options.append(f"--set={self.backup_set}")
        environment = {
            "PATH": _SYSTEM_PATH,
            "LC_ALL": "C",
            "LANG": "C",
            "TZ": "UTC",
            "HOME": str(layout.pgbackrest_dir),
        }
        status, _, errors = bounded_run(
            self.pgbackrest.command("restore", *options),
            {**environment, **self.pgbackrest.variables},
            timeout=self.timeout,
            account=self.account,
            cwd=layout.root,
            # The size checked beforehand is the one backup.info states, which a backup's writer
            # controls: the files pgBackRest writes are measured as they land.
            watch=GrowthWatch(layout.root, self.budget),
            watch_every=_WATCH_SECONDS,
        )
        if status == 0:
            return
        reason = errors if status is None else _last_lines(errors) or "(no error output)"
        raise RecoveryFailed(
            "restore",
            self.redact(
                f"pgbackrest restore of stanza {self.pgbackrest.stanza} failed ({_status(status)}): {reason}"
            ),
        )

    def _wait_for_recovery(self, layout: Layout, port: int) -> None:
        """Until the server accepts connections: with hot_standby off, only once recovery has ended."""
        assert self._process is not None
        watch = GrowthWatch(layout.root, self.budget)
        deadline = time.monotonic() + self.timeout
        next_watch = time.monotonic() + _WATCH_SECONDS
        socket_path = layout.socket / f".s.PGSQL.{port}"
        while time.monotonic() < deadline:
            status = self._process.poll()
            if status is not None:
                raise RecoveryFailed(
                    "recovery",
                    self.redact(
                        f"the recovered server exited with status {status} during recovery. Last lines of its log:\n{_tail(layout.log)}"
                    ),
                )
            if postmaster_status(layout.data) == "ready" and socket_path.exists():
                return
            if time.monotonic() >= next_watch:
                next_watch = time.monotonic() + _WATCH_SECONDS
                exceeded = watch()
                if exceeded:
                    raise RecoveryFailed("recovery", exceeded)
            time.sleep(_POLL_SECONDS)
        raise RecoveryFailed("recovery", f"recovery did not end within {self.timeout:.0f}s and was stopped.")

    def stop(self) -> None:
        """Stop the server cleanly (a shutdown checkpoint), as pg_checksums needs it."""
        if self._process is not None:
            stop_server(self._process.pid, self._process)
            self._process = None

    def _cleanup(self) -> None:
        began = time.monotonic()
        if self._process is not None:
            stop_server(self._process.pid, self._process)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process = None
        if self._box is not None:
            self._box.sweep()
            self._box = None
        if self._layout is not None:
            stop_postmaster_of(self._layout.data)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._layout is not None:
            shutil.rmtree(self._layout.root, ignore_errors=True)
            self._layout = None
        self.timings["stop_seconds"] = time.monotonic() - began

    def _leave_running(self) -> None:
        write_marker(self.layout.root, kept=True)
        if self._process is not None:
            threading.Thread(target=self._process.wait, name="drill-kept-server", daemon=True).start()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None


def new_root(work_dir: str | None) -> Path:
    """A fresh, not yet created path for one restore, named so that sweep_stale recognises it."""
    parent = Path(work_dir) if work_dir else Path(tempfile.gettempdir())
    parent.mkdir(parents=True, exist_ok=True)
    return parent / f"{PREFIX}{os.getpid()}-{os.urandom(4).hex()}"


def run_checksums(
    binaries: PgBinaries, data: Path, account: pwd.struct_passwd | None, timeout: float
) -> tuple[int | None, str]:
    """``pg_checksums --check`` on the stopped cluster: (exit status, what it printed, bounded)."""
    status, output, errors = bounded_run(
        (str(binaries.tool("pg_checksums")), "--check", f"--pgdata={data}"),
        {"PATH": _SYSTEM_PATH, "LC_ALL": "C", "LANG": "C"},
        timeout=timeout,
        account=account,
        cwd=data.parent,
    )
    return status, _last_lines(output + errors) if status is not None else errors


def _status(status: int | None) -> str:
    return "stopped" if status is None else f"exit status {status}"


def _last_lines(text: str, count: int = 8) -> str:
    return "\n".join(text.strip().splitlines()[-count:])
