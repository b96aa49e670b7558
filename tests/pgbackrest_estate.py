"""Real pgBackRest stanzas for the tests: a source PostgreSQL archiving its WAL into a repository.

Every stanza here is made the way an operator makes one: a tiny cluster (Debian's PostgreSQL, run as
the ``postgres`` OS user, initdb'd with data checksums, on a Unix socket only) whose
``archive_command`` is ``pgbackrest archive-push``, ``stanza-create``, one full backup, then rows
written after the backup and the WAL switched and archived, so that only WAL replay brings those rows
back. Everything lives in one private temp dir (config, repository, logs, locks, spool, data) that
is removed, with the server stopped, on every way out.

Fixtures (registered in tests/conftest.py; the session ones are shared: never change them):

``pgbackrest_stanza`` (session)
    A posix repository. ``ROWS_BEFORE`` rows of ``TABLE`` in ``DATABASE`` are in the backup,
    ``ROWS_AFTER`` more were written after it and are in the archived WAL only. The source cluster
    keeps running (``stanza.cluster``).
``pgbackrest_encrypted_stanza`` (session)
    The same on a repository with ``repo1-cipher-type=aes-256-cbc``; ``stanza.cipher_pass`` is the
    passphrase (a secret: tests grep outputs for it).
``pgbackrest_gap_stanza`` (session)
    The same, written in three batches after the backup, each followed by a WAL switch; the segment
    of the second batch is deleted from the archive (``stanza.deleted``). A restore replays the first
    batch only (``stanza.rows_replayable`` rows in all); ``info`` still says ``ok``.
``pgbackrest_s3_stanza`` (function; it needs moto, which ``s3_endpoint`` empties before each test)
    The same as ``pgbackrest_stanza`` on an S3 repository in moto bucket ``stanza.bucket`` under
    ``/pgbackrest``, reached through a TLS terminator (pgBackRest speaks only HTTPS to S3). drill's
    own S3 client talks to moto directly: ``stanza.s3_endpoint`` (plain HTTP).
``make_stanza`` (function)
    ``make_stanza(name, **options)`` builds another stanza with the options of ``build_stanza``
    (``cipher_pass``, ``repo_options``, ``backups``, ``corrupt_page``...) and removes it after the test.

``Stanza`` offers ``pgbackrest(*arguments)`` (runs it as postgres with the stanza's config and
returns stdout), ``info()`` (the stanza's part of ``info --output=json``), ``backup(kind)``,
``write_rows(count)`` (inserts and switches WAL, returns the archived segment), ``archived()``
(segment name -> file in the repository), and ``delete_segment(name)``.
``SourceCluster`` offers ``psql(sql)`` and ``switch_wal()``.

A missing PostgreSQL or pgBackRest skips these tests on a workstation and fails them under CI.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests import pg_dumps

OS_USER = "postgres"
DATABASE = "app"
TABLE = "drill_rows"
CORRUPT_TABLE = "drill_corrupt"  # corrupt_page's victim
ROWS_BEFORE = 100  # in the backup
ROWS_AFTER = 50  # written after it: in the WAL archive only
CIPHER_PASS = "Vx3-stanza-cipher-9f2c71d0e4b8"  # distinctive, so that a leak is found by grep
_TIMEOUT = 60
_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C", "LANG": "C", "TZ": "UTC"}


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"CI cannot build a pgBackRest stanza: {reason}")
    pytest.skip(reason)


def _as_postgres(argv: tuple[str, ...], *, env: Mapping[str, str] | None = None) -> str:
    done = subprocess.run(
        argv,
        user=OS_USER,
        env={**_ENV, **(env or {})},
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {done.returncode}: {done.stderr.strip()[-2000:]}")
    return done.stdout


@dataclass(frozen=True)
class SourceCluster:
    """The running source PostgreSQL: its binaries, data directory and socket directory."""

    bin_dir: Path
    data: Path
    socket_dir: Path

    def psql(self, sql: str, database: str = DATABASE) -> str:
        """One script through psql as postgres; its unaligned output."""
        return _as_postgres(
            (str(self.bin_dir / "psql"), "--no-psqlrc", "-qAtX", "-v", "ON_ERROR_STOP=1", "-h", str(self.socket_dir),
             "-U", "postgres", "-d", database, "-c", sql),
        ).strip()  # fmt: skip

    def switch_wal(self) -> str:
        """Close the current WAL segment and wait until it is archived; its name."""
        segment = self.psql("SELECT pg_walfile_name(pg_switch_wal())", "postgres")
        deadline = time.monotonic() + _TIMEOUT
        while time.monotonic() < deadline:
            archived = self.psql("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver", "postgres")
            if archived and archived[:24] >= segment:
                return segment
            failed = self.psql("SELECT coalesce(last_failed_wal, '') FROM pg_stat_archiver", "postgres")
            if failed and failed[:24] >= segment:
                raise RuntimeError(f"archive-push failed for {failed}: see {self.data.parent / 'log'}")
            time.sleep(0.05)
        raise RuntimeError(f"segment {segment} was not archived within {_TIMEOUT} s")


@dataclass
class Stanza:
    """One stanza of a running source cluster; see the module docstring."""

    name: str
    config: Path  # absolute: pgBackRest resolves a relative --config against /
    root: Path  # the private temp dir holding everything
    cluster: SourceCluster
    repo_path: Path | None = None  # a posix repository's directory
    bucket: str | None = None  # an S3 repository's bucket
    s3_endpoint: str | None = None  # moto's plain-HTTP URL, for drill's own client
    cipher_pass: str | None = None
    rows: int = 0  # rows of TABLE in the source now
    rows_in_backup: int = 0  # rows the latest backup holds
    rows_replayable: int = 0  # rows a restore to the end of the archive brings back
    deleted: str | None = None  # the segment deleted from the archive, if any
    labels: list[str] = field(default_factory=list)

    def pgbackrest(self, *arguments: str, env: Mapping[str, str] | None = None) -> str:
        return _as_postgres(
            ("pgbackrest", f"--config={self.config}", f"--stanza={self.name}", *arguments), env=env
        )

    def info(self) -> dict[str, Any]:
        stanzas: list[dict[str, Any]] = json.loads(self.pgbackrest("info", "--output=json"))
        return next(item for item in stanzas if item["name"] == self.name)

    def backup(self, kind: str = "full") -> str:
        """A backup of ``kind``; its label."""
        self.pgbackrest(f"--type={kind}", "backup")
        label: str = self.info()["backup"][-1]["label"]
        self.labels.append(label)
        self.rows_in_backup = self.rows
        self.rows_replayable = max(self.rows_replayable, self.rows)
        return label

    def write_rows(self, count: int) -> str:
        """Insert ``count`` rows after the ones there, switch WAL; the archived segment holding them."""
        first = self.rows + 1
        self.cluster.psql(
            f"INSERT INTO {TABLE} SELECT g, 'row ' || g FROM generate_series({first}, {first + count - 1}) g"  # noqa: S608 (constants)
        )
        self.rows += count
        segment = self.cluster.switch_wal()
        if self.deleted is None:
            self.rows_replayable = self.rows
        return segment

    def archived(self) -> dict[str, str]:
        """Every archived segment of the current database: name -> path relative to the repository."""
        info = self.info()
        archive_id = info["archive"][-1]["id"]
        base = f"archive/{self.name}/{archive_id}"
        found: dict[str, str] = {}
        for directory in json.loads(self.pgbackrest("repo-ls", "--output=json", base)):
            if len(directory) == 16:
                for name in json.loads(self.pgbackrest("repo-ls", "--output=json", f"{base}/{directory}")):
                    if len(name) > 25 and name[24] == "-":
                        found[name[:24]] = f"{base}/{directory}/{name}"
        return found

    def delete_segment(self, segment: str) -> None:
        """Remove one segment from the archive, as a failed upload or an operator's mistake would."""
        path = self.archived()[segment]
        if self.repo_path is not None:
            (self.repo_path / path).unlink()
        else:
            import boto3  # noqa: PLC0415

            s3 = boto3.client(
                "s3", endpoint_url=self.s3_endpoint, region_name="us-east-1",
                aws_access_key_id="testing", aws_secret_access_key="testing",
            )  # fmt: skip
            s3.delete_object(Bucket=str(self.bucket), Key=f"pgbackrest/{path}")
        self.deleted = segment


def _conf(stanza: str, root: Path, socket_dir: Path, repo: Mapping[str, str]) -> str:
    lines = [
        "[global]",
        *(f"{key}={value}" for key, value in repo.items()),
        f"log-path={root / 'log'}",
        f"lock-path={root / 'lock'}",
        f"spool-path={root / 'spool'}",
        "log-level-file=detail",
        "start-fast=y",
        "compress-type=none",
        "",
        f"[{stanza}]",
        f"pg1-path={root / 'data'}",
        f"pg1-socket-path={socket_dir}",
        "pg1-user=postgres",
        "",
    ]
    return "\n".join(lines)


@contextmanager
def build_stanza(
    name: str,
    *,
    repo_options: Mapping[str, str] | None = None,
    cipher_pass: str | None = None,
    backups: tuple[str, ...] = ("full",),
    rows_after: int = ROWS_AFTER,
    corrupt_page: bool = False,
) -> Iterator[Stanza]:
    """A running source cluster with stanza ``name`` and its backups; all of it gone afterwards.

    ``repo_options`` replace the posix repository (``repo1-path``) by other settings (an S3
    repository's); ``{root}`` in a value is the stanza's private directory (``{root}/repo`` is made
    for a posix repository, owned by postgres). ``corrupt_page`` breaks one page of ``TABLE`` before the backups, so that they
    carry pgBackRest's checksum error flag.
    """
    binaries = pg_dumps.bin_dir()
    if binaries is None:
        unavailable("no PostgreSQL binaries (initdb, postgres) under /usr/lib/postgresql")
    if shutil.which("pgbackrest", path=_ENV["PATH"]) is None:
        unavailable("pgBackRest is not installed (apt-get install pgbackrest)")
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        unavailable(f"no {OS_USER} OS user to run the source cluster as")
    root = Path(tempfile.mkdtemp(prefix=f"drill-stanza-{name}-"))
    with ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, root, True)
        root.chmod(0o755)
        for part in ("log", "lock", "spool", "repo"):
            (root / part).mkdir()
        for path in (root, *root.iterdir()):
            shutil.chown(path, OS_USER, OS_USER)
        posix = str(root / "repo")
        repo = {
            key: value.format(root=root) for key, value in (repo_options or {"repo1-path": posix}).items()
        }
        if cipher_pass is not None:
            repo |= {"repo1-cipher-type": "aes-256-cbc", "repo1-cipher-pass": cipher_pass}
        config = root / "pgbackrest.conf"
        config.write_text(_conf(name, root, root, repo))
        config.chmod(0o640)
        shutil.chown(config, OS_USER, OS_USER)
        cluster = _start(binaries, root, name, config, cleanup)
        stanza = Stanza(name, config, root, cluster, cipher_pass=cipher_pass)
        if posix in repo.values():
            stanza.repo_path = root / "repo"
        cluster.psql(f"CREATE DATABASE {DATABASE}", "postgres")
        cluster.psql(f"CREATE TABLE {TABLE} (id int PRIMARY KEY, note text NOT NULL)")
        stanza.pgbackrest("stanza-create")
        stanza.write_rows(ROWS_BEFORE)
        if corrupt_page:
            _corrupt_page(cluster)
        for kind in backups:
            stanza.backup(kind)
        if rows_after:
            stanza.write_rows(rows_after)
        yield stanza


def _start(binaries: Path, root: Path, name: str, config: Path, cleanup: ExitStack) -> SourceCluster:
    data = root / "data"
    _as_postgres(
        (str(binaries / "initdb"), "-A", "trust", "--no-sync", "-k", "-U", "postgres", "-D", str(data))
    )
    archive = f"pgbackrest --config={config} --stanza={name} archive-push %p"
    settings = {
        "listen_addresses": "''",
        "unix_socket_directories": f"'{root}'",
        "fsync": "off",
        "archive_mode": "on",
        "archive_command": f"'{archive}'",
        "wal_level": "replica",
        "max_wal_senders": "2",
        "logging_collector": "off",
        "shared_buffers": "16MB",
    }
    with (data / "postgresql.conf").open("a") as conf:
        conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
    cluster = SourceCluster(binaries, data, root)
    _pg_ctl(cluster, "start", "-w", "-t", str(_TIMEOUT), "-l", str(root / "log" / "postgresql.log"))
    cleanup.callback(_stop, cluster)
    return cluster


def _pg_ctl(cluster: SourceCluster, *arguments: str) -> None:
    _as_postgres((str(cluster.bin_dir / "pg_ctl"), "-D", str(cluster.data), *arguments))


def _stop(cluster: SourceCluster) -> None:
    """Fast shutdown; a server that will not stop is killed, so no test leaves one running."""
    try:
        _pg_ctl(cluster, "stop", "-m", "fast", "-w", "-t", "30")
    except (RuntimeError, subprocess.TimeoutExpired):
        pid_file = cluster.data / "postmaster.pid"
        if pid_file.is_file():
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)


def _corrupt_page(cluster: SourceCluster) -> None:
    """Overwrite bytes in the middle of a page of a table of its own (TABLE is written to later) with
    the server stopped: the page's checksum no longer matches, which pgBackRest's backup notices (it
    checks every page's checksum) and PostgreSQL does not, as long as nothing reads the page."""
    cluster.psql(f"CREATE TABLE {CORRUPT_TABLE} AS SELECT g AS id FROM generate_series(1, 100) g")  # noqa: S608
    relation = cluster.psql(f"SELECT pg_relation_filepath('{CORRUPT_TABLE}')")
    cluster.psql("CHECKPOINT")
    _pg_ctl(cluster, "stop", "-m", "fast", "-w")
    with (cluster.data / relation).open("r+b") as heap:
        heap.seek(4096)
        heap.write(b"\xde\xad\xbe\xef" * 16)
    _pg_ctl(
        cluster, "start", "-w", "-t", str(_TIMEOUT), "-l", str(cluster.socket_dir / "log" / "postgresql.log")
    )


StanzaFactory = Callable[..., Stanza]


@pytest.fixture(scope="session")
def pgbackrest_stanza() -> Iterator[Stanza]:
    with build_stanza("main") as stanza:
        yield stanza


@pytest.fixture(scope="session")
def pgbackrest_encrypted_stanza() -> Iterator[Stanza]:
    with build_stanza("secret", cipher_pass=CIPHER_PASS) as stanza:
        yield stanza


@pytest.fixture(scope="session")
def pgbackrest_gap_stanza() -> Iterator[Stanza]:
    with build_stanza("gap", rows_after=0) as stanza:
        stanza.write_rows(20)
        replayable = stanza.rows
        lost = stanza.write_rows(20)
        stanza.write_rows(20)
        stanza.delete_segment(lost)
        stanza.rows_replayable = replayable
        yield stanza


@pytest.fixture
def make_stanza() -> Iterator[StanzaFactory]:
    with ExitStack() as stack:

        def make(name: str, **options: Any) -> Stanza:
            return stack.enter_context(build_stanza(name, **options))

        yield make
