"""A real source cluster archiving to a real pgBackRest repository, for the physical drill's tests.

PostgreSQL 15 and pgBackRest 2.45 as Debian ships them, run as the postgres user when the tests
run as root (initdb refuses root). Missing programs skip these tests on a workstation and fail
them under CI.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from drill.config import Target, TargetType
from drill.facts.pgbackrest import StanzaRepo
from drill.model import Unavailable
from drill.restore.binaries import PgBinaries
from drill.storage.pgbackrest.stanza import read_stanza
from tests.drill.restore.conftest import postmasters_under

ROOT = os.geteuid() == 0
PASSPHRASE = "drill-test-cipher-passphrase-7f3a"


def _account() -> pwd.struct_passwd | None:
    return pwd.getpwnam("postgres") if ROOT else None


@dataclass
class SourceStanza:
    """A source cluster, its stanza and its posix repository, all under ``root``."""

    root: Path
    name: str
    binaries: PgBinaries
    port: int

    @property
    def data(self) -> Path:
        return self.root / "source"

    @property
    def repo(self) -> Path:
        return self.root / "repo"

    @property
    def config(self) -> Path:
        return self.root / "pgbackrest.conf"

    @property
    def socket(self) -> Path:
        return self.root / "socket"

    @property
    def tablespace(self) -> Path:
        return self.root / "tablespace"

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        account = _account()
        result = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            check=False,
            cwd=self.root,
            env={"PATH": f"{self.binaries.bin_dir}:/usr/bin:/bin", "LC_ALL": "C", "HOME": str(self.root)},
            user=account.pw_uid if account else None,
            group=account.pw_gid if account else None,
            extra_groups=[] if account else None,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"{argv} exited with {result.returncode}: {result.stdout}{result.stderr}")
        return result

    def sql(self, statement: str, dbname: str = "postgres") -> str:
        return self.run(
            "psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", str(self.socket), "-p", str(self.port),
            "-U", "postgres", "-d", dbname, "-Atc", statement,
        ).stdout.strip()  # fmt: skip

    def pgbackrest(self, *arguments: str) -> str:
        return self.run("pgbackrest", f"--config={self.config}", f"--stanza={self.name}", *arguments).stdout

    def switch_wal(self) -> str:
        """Close the current segment and wait until the repository holds it; its name."""
        segment = self.sql("SELECT pg_walfile_name(pg_current_wal_lsn())")
        self.sql("SELECT pg_switch_wal()")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if any(self.repo.glob(f"archive/{self.name}/*/*/{segment}-*")):
                return segment
            time.sleep(0.05)
        raise AssertionError(f"segment {segment} was never archived")

    def archived(self, segment: str) -> Path:
        [path] = self.repo.glob(f"archive/{self.name}/*/*/{segment}-*")
        return path

    def target(self) -> Target:
        return Target(
            name=self.name, type=TargetType.PGBACKREST, stanza=self.name, config=str(self.config), site="dc1"
        )

    def stanza_repo(self, environ: dict[str, str] | None = None) -> StanzaRepo:
        [copy] = read_stanza(self.target(), environ or {"PATH": os.environ["PATH"]}, timeout=60)
        assert not isinstance(copy.repo, Unavailable), copy.repo
        return copy.repo

    def stop(self) -> None:
        pg_ctl = str(self.binaries.tool("pg_ctl"))
        self.run(pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)


def make_stanza(binaries: PgBinaries, name: str, *, cipher: bool = False) -> SourceStanza:
    """A source cluster with data checksums and a tablespace archiving to a new stanza, one full
    backup, then rows only WAL replay brings back; the source is stopped at the end."""
    root = Path(tempfile.mkdtemp(prefix="drill-test-stanza-"))
    root.chmod(0o755)
    port = 41000 + int.from_bytes(os.urandom(2), "big") % 9000
    source = SourceStanza(root, name, binaries, port)
    account = _account()
    for directory in (source.data, source.repo, source.socket, source.tablespace, root / "log"):
        directory.mkdir(mode=0o700)
        if account:
            os.chown(directory, account.pw_uid, account.pw_gid)
    cipher_lines = f"repo1-cipher-type=aes-256-cbc\nrepo1-cipher-pass={PASSPHRASE}\n" if cipher else ""
    source.config.write_text(
        f"[global]\nrepo1-path={source.repo}\n{cipher_lines}log-path={root / 'log'}\nlock-path={root / 'log'}\n"
        "log-level-file=off\nstart-fast=y\n"
        f"[{name}]\npg1-path={source.data}\npg1-socket-path={source.socket}\npg1-port={port}\n",
        encoding="utf-8",
    )
    source.config.chmod(0o600)
    if account:
        os.chown(source.config, account.pw_uid, account.pw_gid)
    initdb = str(binaries.tool("initdb"))
    source.run(
        initdb, "-D", str(source.data), "-A", "trust", "-U", "postgres", "--data-checksums", "--no-sync"
    )
    # The backup's own settings, which the recovered server must never read: a preload library
    # and an archive_command that writes into the production repository.
    with (source.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write(
            f"listen_addresses = ''\nport = {port}\nunix_socket_directories = '{source.socket}'\n"
            f"archive_mode = on\n"
            f"archive_command = 'pgbackrest --config={source.config} --stanza={name} archive-push %p'\n"
            "shared_preload_libraries = 'pg_stat_statements'\nfsync = off\n"
        )
    log = str(root / "log" / "server.log")
    source.run(str(binaries.tool("pg_ctl")), "-D", str(source.data), "-l", log, "-w", "start")
    source.pgbackrest("stanza-create")
    source.sql(f"CREATE TABLESPACE spare LOCATION '{source.tablespace}'")
    source.sql("CREATE DATABASE shop")
    source.sql(
        "CREATE TABLE orders (id int PRIMARY KEY, placed_at timestamptz NOT NULL DEFAULT now());"
        "CREATE TABLE archive_orders (id int PRIMARY KEY) TABLESPACE spare;"
        "INSERT INTO orders (id) SELECT g FROM generate_series(1, 1000) g;"
        "INSERT INTO archive_orders SELECT g FROM generate_series(1, 300) g;",
        dbname="shop",
    )
    source.pgbackrest("--type=full", "backup")
    # Committed after the backup, in segments archived after it.
    source.sql("INSERT INTO orders (id) SELECT g FROM generate_series(1001, 1500) g", dbname="shop")
    source.switch_wal()
    source.sql("INSERT INTO orders (id) SELECT g FROM generate_series(1501, 1600) g", dbname="shop")
    source.switch_wal()
    source.stop()  # the archive is complete; nothing more happens at the source
    return source


def remove(source: SourceStanza) -> None:
    source.stop()
    for pid in postmasters_under(source.root):
        os.kill(pid, signal.SIGKILL)
    shutil.rmtree(source.root, ignore_errors=True)


def _require_pgbackrest() -> None:
    if shutil.which("pgbackrest") is None:
        if os.environ.get("CI"):
            pytest.fail("CI has no pgbackrest program")
        pytest.skip("pgbackrest is not installed")


@pytest.fixture(scope="session")
def stanza(pg_binaries: PgBinaries) -> Iterator[SourceStanza]:
    _require_pgbackrest()
    source = make_stanza(pg_binaries, "main")
    try:
        yield source
    finally:
        remove(source)


@pytest.fixture(scope="session")
def encrypted_stanza(pg_binaries: PgBinaries) -> Iterator[SourceStanza]:
    _require_pgbackrest()
    source = make_stanza(pg_binaries, "sealed", cipher=True)
    try:
        yield source
    finally:
        remove(source)


@pytest.fixture
def gap_stanza(pg_binaries: PgBinaries) -> Iterator[tuple[SourceStanza, str]]:
    """A stanza whose archive lost the first segment written after the backup; that segment's name."""
    _require_pgbackrest()
    source = make_stanza(pg_binaries, "holed")
    try:
        latest = source.stanza_repo().latest
        assert latest is not None and latest.wal is not None
        segments = sorted(path.name[:24] for path in source.repo.glob(f"archive/{source.name}/*/*/0*-*"))
        lost = next(segment for segment in segments if segment > latest.wal.stop)
        source.archived(lost).unlink()
        yield source, lost
    finally:
        remove(source)
