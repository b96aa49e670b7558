"""A throwaway PostgreSQL cluster for one restore drill, gone again on every way out.

``ScratchCluster`` runs initdb in a private temp dir, starts ``postgres`` on a Unix socket in
that dir only (no TCP port), tuned for a restore whose result is thrown away (no fsync, minimal
WAL, no autovacuum), and on exit stops it and deletes the dir: after success, an exception,
Ctrl-C, or SIGTERM turned into SystemExit. An owner marker in the dir lets ``sweep_stale``
(drill.restore.owners) tell a dead owner's leftovers from a live run's.

initdb and postgres refuse to run as root, so when drill is root they run as ``run_as``. The
server runs in the box (drill.restore.box): a clean environment, and where the kernel allows it a
network namespace with no network; whatever of it survives its stop is killed by the box's marker.
The restore itself connects as the restore role (drill.restore.access), never as ``drill``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from drill.restore.access import Login, create_login
from drill.restore.binaries import PgBinaries, RestoreSetupError
from drill.restore.box import Box, Network
from drill.restore.owners import PREFIX, write_marker
from drill.restore.processes import postmaster_status, signals_deferred, stop_postmaster_of, stop_server
from drill.restore.server_account import ServerIds, server_account, server_env, user_note
from drill.restore.target import ScratchTarget

__all__ = ["TUNING", "ScratchCluster", "ScratchServer", "ScratchTarget"]
# The cluster's superuser is named anew for each cluster: a plain dump names the roles that own its
# objects, and one that named the scratch superuser would need it lent to the restore role.
SUPERUSER_PREFIX = "drill_"
RESTORE_LOGIN = Login.new("drill_restore", with_password=False)
_LOG_TAIL_LINES = 25
_INITDB_TIMEOUT_SECONDS = 120.0
_RESERVED_DATABASES = frozenset({"postgres", "template0", "template1"})
_MAX_IDENTIFIER = 63

# The restore's result is deleted minutes later: durability buys nothing, so none is paid for.
# Memory stays polite; the machine is shared with the download and pg_restore's workers.
TUNING: Mapping[str, str] = {
    "listen_addresses": "''",
    "unix_socket_permissions": "0700",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "archive_mode": "off",
    "autovacuum": "off",
    "shared_buffers": "256MB",
    "maintenance_work_mem": "256MB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "1d",
    "logging_collector": "off",
    # The log is written on the snapshot's behalf: a dump raising warnings in a loop, or a statement
    # of a gigabyte that fails, must not fill the disk through it. Start-up failures are FATAL.
    "log_min_messages": "fatal",
    "log_min_error_statement": "panic",
}


@dataclass(frozen=True)
class ScratchServer:
    """A running scratch cluster. ``host`` is the socket directory; the port only names the socket."""

    root: Path
    host: str
    port: int
    data_dir: Path
    log_path: Path
    pid: int
    binaries: PgBinaries
    run_as: str | None = None  # the OS user the server runs as, when drill is root
    user: str = SUPERUSER_PREFIX + "admin"  # the cluster's superuser; ScratchCluster names it anew
    network: Network = Network.HOST  # where the server and the client programs run
    login: Login = RESTORE_LOGIN

    @property
    def disk_root(self) -> Path:
        return self.root

    def conninfo(self, dbname: str = "postgres", login: Login | None = None) -> str:
        user = login.role if login is not None else self.user
        return make_conninfo("", host=self.host, port=self.port, user=user, dbname=dbname)

    def env(self, login: Login | None = None) -> dict[str, str]:
        user = login.role if login is not None else self.user
        return {"PGHOST": self.host, "PGPORT": str(self.port), "PGUSER": user}

    def create_database(self, name: str) -> None:
        with psycopg.connect(self.conninfo(), autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def adopt_roles(self, roles: tuple[str, ...]) -> None:
        """Nothing to do: the roles go with the cluster."""

    def database_for(self, name: str) -> str:
        """``name`` itself, which reads best in a kept cluster; ``name_2`` and on if it is taken."""
        base = name[:_MAX_IDENTIFIER]
        create_login(self.conninfo(), self.login)
        with psycopg.connect(self.conninfo(), autocommit=True) as connection:
            existing = {row[0] for row in connection.execute("SELECT datname FROM pg_database")}
            candidate, number = base, 1
            while candidate in existing or candidate in _RESERVED_DATABASES:
                number += 1
                suffix = f"_{number}"
                candidate = base[: _MAX_IDENTIFIER - len(suffix)] + suffix
            connection.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(candidate), sql.Identifier(self.login.role)
                )
            )
        return candidate

    def connect_hint(self, dbname: str | None = None) -> str:
        pg_ctl = shlex.join((str(self.binaries.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "stop"))
        if self.run_as:
            pg_ctl = f"runuser -u {shlex.quote(self.run_as)} -- {pg_ctl}"
        psql = shlex.join(
            (
                str(self.binaries.bin_dir / "psql"),
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                self.user,
                dbname or "postgres",
            )
        )
        return (
            f"The scratch server is still running (pid {self.pid}). Connect with: {psql}\n"
            f"Stop it and delete its files with: {pg_ctl} && rm -rf {shlex.quote(str(self.root))}"
        )


@dataclass
class ScratchCluster:
    """``with ScratchCluster(binaries) as server:`` a fresh cluster for the body, gone afterwards.

    ``keep=True`` leaves it running after the block (see ``ScratchServer.connect_hint``); a kept
    dir is marked so, and ``sweep_stale`` never removes it.
    """

    binaries: PgBinaries
    work_dir: Path | None = None
    run_as: str = "postgres"
    keep: bool = False
    settings: Mapping[str, str] = field(default_factory=dict)  # added to, or overriding, TUNING
    start_timeout: float = 60.0
    isolate_network: bool = True  # where the kernel allows it (drill.restore.box)
    timings: dict[str, float] = field(default_factory=dict, init=False)
    server: ScratchServer | None = field(default=None, init=False)
    _root: Path | None = field(default=None, init=False, repr=False)
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _log: IO[bytes] | None = field(default=None, init=False, repr=False)
    _box: Box | None = field(default=None, init=False, repr=False)

    def __enter__(self) -> ScratchServer:
        if self._root is not None:
            raise RuntimeError("a ScratchCluster runs one server at a time; make a new one")
        account = server_account(self.run_as)
        try:
            self.server = self._start(account)
        except BaseException:
            with signals_deferred():
                self._cleanup()
            raise
        return self.server

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with signals_deferred():
            if self.keep and self.server is not None:
                self._leave_running()
            else:
                self._cleanup()

    def _start(self, account: pwd.struct_passwd | None) -> ScratchServer:
        started = time.monotonic()
        parent = Path(self.work_dir) if self.work_dir is not None else Path(tempfile.gettempdir())
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self._root = root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=parent))
            write_marker(root, kept=False)
            socket_dir, data_dir, log_path = root / "socket", root / "data", root / "server.log"
            socket_dir.mkdir(mode=0o700)
            self._log = log_path.open("ab")
            if account is not None:
                for path in (root, socket_dir, log_path):
                    os.chown(path, account.pw_uid, account.pw_gid)
        except OSError as error:
            raise RestoreSetupError(
                f"Cannot create the scratch cluster's directory under {parent}: {error}."
            ) from None

        superuser = f"{SUPERUSER_PREFIX}{secrets.token_hex(4)}"
        initdb = (
            str(self.binaries.tool("initdb")),
            "--auth=trust",
            "--no-sync",
            f"--username={superuser}",
            "--encoding=UTF8",
            "--locale=C",
            f"--pgdata={data_dir}",
        )
        ids = ServerIds.of(account)
        try:
            result = subprocess.run(
                initdb,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                timeout=_INITDB_TIMEOUT_SECONDS,
                check=False,
                cwd=root,
                env=server_env(account),
                umask=0o077,
                user=ids.user,
                group=ids.group,
                extra_groups=ids.groups,
            )
        except (OSError, subprocess.SubprocessError) as error:
            raise RestoreSetupError(f"initdb could not run{user_note(account)}: {error}.") from None
        self.timings["initdb_seconds"] = time.monotonic() - started
        if result.returncode != 0:
            raise RestoreSetupError(
                f"initdb exited with status {result.returncode} creating a scratch cluster in "
                f"{data_dir}{user_note(account)}. Last lines of its output:\n{_tail(log_path)}"
            )

        port = _free_port(socket_dir)
        settings = {
            **TUNING,
            "port": str(port),
            "unix_socket_directories": _quoted(str(socket_dir)),
            **self.settings,
        }
        with (data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# drill: a throwaway cluster for one restore drill\n")
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

        start_began = time.monotonic()
        try:
            self._box = box = Box.make(
                root / "home", account, isolate_network=self.isolate_network, bin_dir=self.binaries.bin_dir
            )
            # Its own session: Ctrl-C in the terminal reaches drill, which then stops the server
            # in order, instead of the server dying under a restore that is still running.
            self._process = box.popen(
                (str(self.binaries.tool("postgres")), "-D", str(data_dir)),
                {"TZ": server_env(account)["TZ"]},
                stdout=self._log,
                stderr=subprocess.STDOUT,
                cwd=root,
            )
        except (OSError, subprocess.SubprocessError) as error:
            raise RestoreSetupError(f"postgres could not start{user_note(account)}: {error}.") from None
        self._wait_until_ready(data_dir, log_path, socket_dir / f".s.PGSQL.{port}")
        self.timings["start_seconds"] = time.monotonic() - start_began
        self.timings["startup_seconds"] = time.monotonic() - started
        return ScratchServer(
            root=root,
            host=str(socket_dir),
            port=port,
            data_dir=data_dir,
            log_path=log_path,
            pid=self._process.pid,
            binaries=self.binaries,
            run_as=account.pw_name if account is not None else None,
            user=superuser,
            network=box.network,
        )

    def _wait_until_ready(self, data_dir: Path, log_path: Path, socket_path: Path) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            status = self._process.poll()
            if status is not None:
                raise RestoreSetupError(
                    f"The scratch PostgreSQL server in {data_dir} exited with status {status} "
                    f"while starting. Last lines of its log {log_path}:\n{_tail(log_path)}"
                )
            # postmaster.pid's eighth line turns to "ready" once connections are accepted.
            if postmaster_status(data_dir) == "ready" and socket_path.exists():
                return
            time.sleep(0.01)
        raise RestoreSetupError(
            f"The scratch PostgreSQL server in {data_dir} was not ready after {self.start_timeout:.0f}s. "
            f"Last lines of its log {log_path}:\n{_tail(log_path)}"
        )

    def _cleanup(self) -> None:
        stop_began = time.monotonic()
        if self._process is not None:
            stop_server(self._process.pid, self._process)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, signal.SIGKILL)  # what the server left in its group
            self._process = None
        if self._box is not None:
            self._box.sweep()  # and what left the group, by the box's marker
            self._box = None
        elif self._root is not None:
            # A start that failed after postgres forked but before Popen returned: unlikely, but
            # the pid file says whether a postmaster is there.
            stop_postmaster_of(self._root / "data")
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None
        self.timings["stop_seconds"] = time.monotonic() - stop_began

    def _leave_running(self) -> None:
        assert self._root is not None
        write_marker(self._root, kept=True)
        if self._process is not None:
            # The server is drill's child: reap it if it is stopped while drill still runs.
            threading.Thread(target=self._process.wait, name="drill-kept-server", daemon=True).start()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None


def _free_port(socket_dir: Path) -> int:
    """Any number names the socket file in a private dir; one no socket there uses already."""
    while True:
        port = 40000 + secrets.randbelow(20000)
        if not (socket_dir / f".s.PGSQL.{port}").exists():
            return port


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _tail(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as error:
        return f"(the log could not be read: {error})"
    return "\n".join(lines[-_LOG_TAIL_LINES:]) or "(the log is empty)"
