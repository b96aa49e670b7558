"""Real dumps for the fetch, format and restore tests, made once per session by the machine's own pg_dump:
a small shop, and the Chinook- and Pagila-style samples (tests/pg_samples.py), in every format.

A throwaway cluster runs as the ``postgres`` OS user (initdb refuses root) on a Unix socket only,
just long enough to dump a small shop database in every format; then it is stopped and removed.
The dumps live in a session temp dir that both test modules share through ``dumps_for``.

A missing PostgreSQL install skips these tests on a workstation and fails them under CI (CI=true).
"""

from __future__ import annotations

import gzip
import io
import os
import pwd
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest
import zstandard

from tests import pg_samples

DATABASE = "shop"
_OS_USER = "postgres"
_SEED = """
CREATE TABLE customers (
    id serial PRIMARY KEY,
    name text NOT NULL,
    profile jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers (id),
    total numeric(10, 2) NOT NULL,
    note text,
    placed_at timestamp NOT NULL
);
CREATE INDEX orders_placed_at ON orders (placed_at);
CREATE SEQUENCE invoice_numbers START 1000;
INSERT INTO customers (name, profile)
    SELECT 'customer ' || g, jsonb_build_object('tier', g % 3, 'tags', jsonb_build_array('a', g))
    FROM generate_series(1, 500) AS g;
INSERT INTO orders (customer_id, total, note, placed_at)
    SELECT 1 + g % 500, (g % 997) / 7.0, repeat('note ', g % 5),
           timestamp '2024-01-01' + g * interval '17 minutes'
    FROM generate_series(1, 3000) AS g;
SELECT setval('invoice_numbers', 1234);
"""


@dataclass(frozen=True)
class Dumps:
    """Each format as pg_dump wrote it, plus the wrapped variants a backup job uploads."""

    bin_dir: Path
    custom: Path  # -Fc
    directory: Path  # -Fd
    tar: Path  # -Ft
    plain: Path  # SQL
    directory_tar: Path  # the -Fd directory packed with tar, under a top-level folder
    plain_gz: Path
    plain_zst: Path
    custom_zst: Path
    directory_tar_gz: Path

    def tool(self, name: str) -> str:
        return str(self.bin_dir / name)


def bin_dir() -> Path | None:
    """The newest local PostgreSQL with pg_dump and a server; $DRILL_TEST_PG_BIN wins."""
    override = os.environ.get("DRILL_TEST_PG_BIN")
    candidates = [Path(override)] if override else []
    root = Path("/usr/lib/postgresql")
    if root.is_dir():
        majors = sorted((p for p in root.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
        candidates += [p / "bin" for p in reversed(majors)]
    for candidate in candidates:
        if all((candidate / tool).is_file() for tool in ("pg_dump", "pg_restore", "initdb", "postgres")):
            return candidate
    return None


@contextmanager
def throwaway_cluster(binaries: Path) -> Iterator[Path]:
    """A running server as the postgres user; yields its socket directory. Gone on every way out."""
    try:
        pwd.getpwnam(_OS_USER)
    except KeyError:
        _unavailable(f"no {_OS_USER} OS user to run a throwaway cluster as")
    root = Path(tempfile.mkdtemp(prefix="drill-dumps-"))
    root.chmod(0o755)
    shutil.chown(root, _OS_USER)
    data = root / "data"
    server: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run(
            (str(binaries / "initdb"), "-A", "trust", "--no-sync", "-U", "postgres", "-D", str(data)),
            user=_OS_USER,
            check=True,
            capture_output=True,
        )
        settings = ("-c", "listen_addresses=", "-c", "fsync=off", "-c", "logging_collector=off")
        server = subprocess.Popen(
            (str(binaries / "postgres"), "-D", str(data), "-k", str(root), *settings),
            user=_OS_USER,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        _wait_ready(binaries, root, server)
        yield root
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)  # fast shutdown
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            if server.stderr is not None:
                server.stderr.close()
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(binaries: Path, socket_dir: Path, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            error = server.stderr.read().decode(errors="replace") if server.stderr else ""
            raise RuntimeError(f"the throwaway server exited at start: {error}")
        ready = subprocess.run(
            (str(binaries / "pg_isready"), "-q", "-h", str(socket_dir), "-U", "postgres"), check=False
        )
        if ready.returncode == 0:
            return
        time.sleep(0.05)
    raise RuntimeError("the throwaway server did not accept connections within 30 s")


def _run(binaries: Path, socket_dir: Path, tool: str, *arguments: str) -> None:
    environ = {**os.environ, "PGHOST": str(socket_dir), "PGUSER": "postgres"}
    subprocess.run((str(binaries / tool), *arguments), env=environ, check=True, capture_output=True)


def build(binaries: Path, out: Path) -> Dumps:
    with throwaway_cluster(binaries) as socket_dir:
        _seed(binaries, socket_dir, DATABASE, _SEED)
        return _every_format(binaries, socket_dir, DATABASE, out, "shop")


def build_samples(binaries: Path, out: Path) -> dict[str, Dumps]:
    """The Chinook- and Pagila-style samples (tests/pg_samples.py), each in every format."""
    with throwaway_cluster(binaries) as socket_dir:
        for role in pg_samples.ROLES:
            _psql(binaries, socket_dir, "postgres", f"CREATE ROLE {role} NOLOGIN")
        built = {}
        for name, seed in (("chinook", pg_samples.CHINOOK), ("pagila", pg_samples.PAGILA)):
            _seed(binaries, socket_dir, name, seed)
            built[name] = _every_format(binaries, socket_dir, name, out, name)
        return built


def _seed(binaries: Path, socket_dir: Path, database: str, seed: str) -> None:
    _run(binaries, socket_dir, "createdb", database)
    _psql(binaries, socket_dir, database, seed)


def _psql(binaries: Path, socket_dir: Path, database: str, script: str) -> None:
    _run(
        binaries,
        socket_dir,
        "psql",
        "--no-psqlrc",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-d",
        database,
        "-c",
        script,
    )


def _every_format(binaries: Path, socket_dir: Path, database: str, out: Path, stem: str) -> Dumps:
    custom, directory, tar, plain = (
        out / f"{stem}.dump",
        out / f"{stem}.dir",
        out / f"{stem}.tar",
        out / f"{stem}.sql",
    )
    for flag, path in (("-Fc", custom), ("-Fd", directory), ("-Ft", tar), ("-Fp", plain)):
        _run(binaries, socket_dir, "pg_dump", flag, "-f", str(path), "-d", database)
    directory_tar = out / f"{stem}-dir.tar"
    with tarfile.open(directory_tar, "w") as archive:
        archive.add(directory, arcname=f"{stem}.dir")
    plain_gz = out / f"{stem}.sql.gz"
    plain_gz.write_bytes(gzip.compress(plain.read_bytes()))
    plain_zst = out / f"{stem}.sql.zst"
    plain_zst.write_bytes(zstandard.ZstdCompressor().compress(plain.read_bytes()))
    custom_zst = out / f"{stem}.dump.zst"
    custom_zst.write_bytes(zstandard.ZstdCompressor(level=3).compress(custom.read_bytes()))
    directory_tar_gz = out / f"{stem}-dir.tar.gz"
    directory_tar_gz.write_bytes(gzip.compress(directory_tar.read_bytes()))
    return Dumps(
        bin_dir=binaries,
        custom=custom,
        directory=directory,
        tar=tar,
        plain=plain,
        directory_tar=directory_tar,
        plain_gz=plain_gz,
        plain_zst=plain_zst,
        custom_zst=custom_zst,
        directory_tar_gz=directory_tar_gz,
    )


_built: list[Dumps] = []
_samples: list[dict[str, Dumps]] = []


def dumps_for(tmp_path_factory: pytest.TempPathFactory) -> Dumps:
    """The session's dumps, built on first use; session fixtures in each test module call this."""
    if not _built:
        binaries = bin_dir()
        if binaries is None:
            _unavailable("no PostgreSQL binaries (pg_dump, initdb, postgres) under /usr/lib/postgresql")
        _built.append(build(binaries, tmp_path_factory.mktemp("pg-dumps")))
    return _built[0]


def samples_for(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Dumps]:
    """The session's Chinook and Pagila dumps, built on first use."""
    if not _samples:
        binaries = bin_dir()
        if binaries is None:
            _unavailable("no PostgreSQL binaries (pg_dump, initdb, postgres) under /usr/lib/postgresql")
        _samples.append(build_samples(binaries, tmp_path_factory.mktemp("pg-samples")))
    return _samples[0]


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"CI cannot make real dumps: {reason}")
    pytest.skip(reason)


def tar_bytes(members: dict[str, bytes]) -> bytes:
    """A tar archive of regular files, in the order given."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()
