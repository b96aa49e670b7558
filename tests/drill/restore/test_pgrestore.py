"""pg_restore and psql into a real scratch cluster: the command lines, roles of plain dumps, failures.

The dumps are real pg_dump output (tests/pg_dumps.py); one scratch cluster serves the module, and
each test restores into a database of its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from drill.restore import pgrestore
from drill.restore.binaries import PgBinaries
from drill.restore.formats import DumpFormat
from drill.restore.pgrestore import Restored, RestoreFailed, command, roles_named
from drill.restore.scratch import ScratchCluster, ScratchServer
from tests.drill.restore.conftest import processes_mentioning, wait_until
from tests.pg_dumps import Dumps, dumps_for

# Objects that name roles in every way pg_dump writes them: owners, grants (to a name that must
# be quoted, too), default privileges of another role, and a row-level security policy.
_ROLES_SOURCE = """
CREATE ROLE app_owner; CREATE ROLE reader; CREATE ROLE "weird-name"; CREATE ROLE auditor;
CREATE ROLE "Mixed"; CREATE ROLE bouncer;
CREATE SCHEMA app AUTHORIZATION app_owner;
CREATE TABLE app.accounts (id int PRIMARY KEY, owner text NOT NULL);
INSERT INTO app.accounts VALUES (1, 'reader'), (2, 'Mixed');
ALTER TABLE app.accounts OWNER TO app_owner;
GRANT SELECT ON app.accounts TO reader, "weird-name";
GRANT pg_read_all_stats TO reader;
ALTER DEFAULT PRIVILEGES FOR ROLE auditor IN SCHEMA app GRANT SELECT ON TABLES TO reader;
ALTER TABLE app.accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON app.accounts TO "Mixed", bouncer USING (owner = current_user);
"""
_ROLES = {"app_owner", "reader", "weird-name", "auditor", "Mixed", "bouncer"}

# An index whose build calls a function that sleeps: the restore is still busy in a pg_restore
# worker when the timeout strikes. The index is built while the function is fast, then the
# function is made slow, so only the restore pays.
_SLOW_SOURCE = """
CREATE FUNCTION slow(x int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS $$ BEGIN RETURN x; END $$;
CREATE TABLE t (x int);
INSERT INTO t VALUES (1);
CREATE INDEX t_slow ON t (slow(x));
CREATE OR REPLACE FUNCTION slow(x int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS
    $$ BEGIN PERFORM pg_sleep(30); RETURN x; END $$;
"""


@pytest.fixture(scope="session")
def dumps(tmp_path_factory: pytest.TempPathFactory) -> Dumps:
    return dumps_for(tmp_path_factory)


@pytest.fixture(scope="module")
def scratch_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="drill-test-"))
    path.chmod(0o755)  # the postgres user must reach the cluster's dir
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def server(pg_binaries: PgBinaries, scratch_dir: Path) -> Iterator[ScratchServer]:
    with ScratchCluster(pg_binaries, work_dir=scratch_dir) as running:
        yield running


def fresh_database(server: ScratchServer, name: str) -> str:
    return server.database_for(name)


def pg_dump(binaries: PgBinaries, server: ScratchServer, database: str, out: Path, *flags: str) -> Path:
    subprocess.run(
        (str(binaries.tool("pg_dump")), *flags, f"--file={out}", f"--dbname={database}"),
        env={**os.environ, **server.env()},
        check=True,
        capture_output=True,
    )
    return out


def scalar(server: ScratchServer, database: str, query: str) -> object:
    with psycopg.connect(server.conninfo(database)) as connection:
        row = connection.execute(query).fetchone()
    return None if row is None else row[0]


def create_roles(server: ScratchServer, roles: set[str]) -> None:
    """What the runner does before a plain restore into a throwaway cluster."""
    with psycopg.connect(server.conninfo(), autocommit=True) as connection:
        existing = {row[0] for row in connection.execute("SELECT rolname FROM pg_roles")}
        for role in sorted(roles - existing):
            connection.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))


# The command lines.


@pytest.mark.parametrize(
    ("dump_format", "jobs"),
    [(DumpFormat.CUSTOM, 4), (DumpFormat.DIRECTORY, 4), (DumpFormat.TAR, 1)],
)
def test_archives_restore_with_pg_restore_in_parallel_where_the_format_allows(
    pg_binaries: PgBinaries, dump_format: DumpFormat, jobs: int
) -> None:
    arguments = command(pg_binaries, dump_format, Path("/dumps/orders.dump"), "orders", 4)

    assert arguments == (
        str(pg_binaries.tool("pg_restore")),
        f"--jobs={jobs}",  # a tar archive cannot be read in parallel
        "--exit-on-error",
        "--no-owner",
        "--no-privileges",
        "--dbname=orders",
        "/dumps/orders.dump",
    )


def test_plain_sql_restores_with_psql_stopping_at_the_first_error(pg_binaries: PgBinaries) -> None:
    arguments = command(pg_binaries, DumpFormat.PLAIN, Path("/dumps/orders.sql"), "orders", 4)

    assert arguments == (
        str(pg_binaries.tool("psql")),
        "--no-psqlrc",
        "--quiet",
        "--set=ON_ERROR_STOP=1",
        "--dbname=orders",
        "--file=/dumps/orders.sql",
    )
    assert not any(argument.startswith("--jobs") for argument in arguments)


# Roles named by plain dumps.


def test_roles_named_finds_every_role_pg_dump_writes_and_the_dump_then_restores(
    pg_binaries: PgBinaries, server: ScratchServer, scratch_dir: Path
) -> None:
    source = fresh_database(server, "roles_source")
    with psycopg.connect(server.conninfo(source), autocommit=True) as connection:
        connection.execute(_ROLES_SOURCE)
    plain = pg_dump(pg_binaries, server, source, scratch_dir / "roles.sql")
    # This flag writes SET SESSION AUTHORIZATION 'name' instead of ALTER ... OWNER TO.
    by_session = pg_dump(
        pg_binaries, server, source, scratch_dir / "roles-session.sql", "--use-set-session-authorization"
    )
    assert "SET SESSION AUTHORIZATION 'app_owner'" in by_session.read_text()

    assert roles_named(plain) == _ROLES
    assert roles_named(by_session) == _ROLES

    # As on a fresh scratch cluster: the roles are gone, and come back only from what was found.
    with psycopg.connect(server.conninfo(), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(source)))
        for role in sorted(_ROLES):
            connection.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
    create_roles(server, roles_named(plain))
    database = fresh_database(server, "roles_restored")
    pgrestore.run(pg_binaries, DumpFormat.PLAIN, plain, database, server.env(), jobs=2, timeout=60)
    assert scalar(server, database, "SELECT tableowner FROM pg_tables WHERE tablename = 'accounts'") == (
        "app_owner"
    )
    assert scalar(server, database, "SELECT count(*) FROM app.accounts") == 2


def test_roles_named_sees_names_across_every_chunk_boundary(tmp_path: Path) -> None:
    dump = tmp_path / "owners.sql"
    dump.write_bytes(
        b"ALTER TABLE public.orders OWNER TO app_owner;\n"
        b'GRANT SELECT ON TABLE public.orders TO "Report ""Team""";\n'
        b"GRANT SELECT ON TABLE public.orders TO PUBLIC;\n"
        b"ALTER DEFAULT PRIVILEGES FOR ROLE auditor GRANT SELECT ON TABLES TO CURRENT_USER;\n"
        b"GRANT pg_read_all_data TO reader;\n"
        b"SET SESSION AUTHORIZATION DEFAULT;\n"
    )
    expected = {"app_owner", 'Report "Team"', "auditor", "reader"}

    assert roles_named(dump) == expected
    # Every size cuts some name somewhere; not one may come back truncated ("app_o") or lost.
    for chunk_size in range(1, dump.stat().st_size + 2):
        assert roles_named(dump, chunk_size=chunk_size) == expected, chunk_size


def test_roles_named_reads_past_lines_longer_than_any_statement(tmp_path: Path) -> None:
    dump = tmp_path / "big-row.sql"
    # A COPY row of 200 kB with no line break, then an owner cut by the chunk boundary.
    dump.write_bytes(
        b"COPY public.blobs (body) FROM stdin;\n"
        + b"x" * 200_000
        + b"\n\\.\nALTER TABLE blobs OWNER TO keeper;\n"
    )

    for chunk_size in (4096, 65_537, 200_030, 1 << 22):
        assert roles_named(dump, chunk_size=chunk_size) == {"keeper"}, chunk_size


# Restores into the scratch cluster.


@pytest.mark.parametrize("dump_format", list(DumpFormat), ids=lambda f: f.value)
def test_a_real_dump_restores_in_every_format(
    dumps: Dumps, pg_binaries: PgBinaries, server: ScratchServer, dump_format: DumpFormat
) -> None:
    path = {
        DumpFormat.CUSTOM: dumps.custom,
        DumpFormat.DIRECTORY: dumps.directory,
        DumpFormat.TAR: dumps.tar,
        DumpFormat.PLAIN: dumps.plain,
    }[dump_format]
    database = fresh_database(server, f"shop_{dump_format.value}")
    if dump_format is DumpFormat.PLAIN:
        # The dump's owner: the postgres role of the cluster it came from.
        assert roles_named(path) == {"postgres"}
        create_roles(server, roles_named(path))

    restored = pgrestore.run(pg_binaries, dump_format, path, database, server.env(), jobs=2, timeout=120)

    assert isinstance(restored, Restored)
    assert restored.command == command(pg_binaries, dump_format, path, database, 2)
    assert 0 < restored.seconds < 120
    assert scalar(server, database, "SELECT count(*) FROM customers") == 500
    assert scalar(server, database, "SELECT count(*) FROM orders") == 3000
    assert scalar(server, database, "SELECT last_value FROM invoice_numbers") == 1234


def test_a_restore_that_fails_half_way_names_the_tool_and_its_errors(
    dumps: Dumps, pg_binaries: PgBinaries, server: ScratchServer
) -> None:
    database = fresh_database(server, "shop_twice")
    pgrestore.run(pg_binaries, DumpFormat.CUSTOM, dumps.custom, database, server.env(), jobs=2, timeout=120)

    with pytest.raises(RestoreFailed) as failed:
        pgrestore.run(
            pg_binaries, DumpFormat.CUSTOM, dumps.custom, database, server.env(), jobs=2, timeout=120
        )

    message = str(failed.value)
    assert message.startswith("pg_restore exited with status 1: ")
    assert "already exists" in message
    assert "pg_restore: error:" in message
    assert len(message.splitlines()) <= 20
    # The first restore's data is still there.
    assert scalar(server, database, "SELECT count(*) FROM orders") == 3000


def test_plain_sql_stops_at_the_first_error(
    pg_binaries: PgBinaries, server: ScratchServer, scratch_dir: Path
) -> None:
    script = scratch_dir / "stops.sql"
    script.write_text(
        "CREATE TABLE before_error (x int);\nSELECT 1 / 0;\nCREATE TABLE after_error (x int);\n"
    )
    database = fresh_database(server, "stops")

    with pytest.raises(RestoreFailed) as failed:
        pgrestore.run(pg_binaries, DumpFormat.PLAIN, script, database, server.env(), jobs=2, timeout=60)

    message = str(failed.value)
    assert message.startswith("psql exited with status 3: ")
    assert f"psql:{script}:2: ERROR:  division by zero" in message
    assert scalar(server, database, "SELECT count(*) FROM pg_tables WHERE tablename = 'before_error'") == 1
    assert scalar(server, database, "SELECT count(*) FROM pg_tables WHERE tablename = 'after_error'") == 0


def test_a_dump_that_cannot_be_read_fails_with_the_reason(
    pg_binaries: PgBinaries, server: ScratchServer, scratch_dir: Path
) -> None:
    missing = scratch_dir / "gone.dump"
    database = fresh_database(server, "gone")

    with pytest.raises(RestoreFailed) as failed:
        pgrestore.run(pg_binaries, DumpFormat.CUSTOM, missing, database, server.env(), jobs=2, timeout=60)

    assert str(failed.value).startswith("pg_restore exited with status 1: ")
    assert str(missing) in str(failed.value)


def test_a_timeout_kills_psql(pg_binaries: PgBinaries, server: ScratchServer, scratch_dir: Path) -> None:
    script = scratch_dir / "sleeps-in-psql.sql"
    script.write_text("SELECT pg_sleep(30);\n")
    database = fresh_database(server, "sleepy")

    started = time.monotonic()
    with pytest.raises(RestoreFailed, match=r"^psql ran longer than the restore timeout of 1s\.$"):
        pgrestore.run(pg_binaries, DumpFormat.PLAIN, script, database, server.env(), jobs=2, timeout=1)

    assert time.monotonic() - started < 10
    assert processes_mentioning(str(script)) == []


def test_a_timeout_kills_pg_restore_and_its_parallel_workers(
    pg_binaries: PgBinaries, server: ScratchServer, scratch_dir: Path
) -> None:
    source = fresh_database(server, "slow_source")
    with psycopg.connect(server.conninfo(source), autocommit=True) as connection:
        connection.execute(_SLOW_SOURCE)
    dump = pg_dump(pg_binaries, server, source, scratch_dir / "slow-index.dump", "--format=custom")
    database = fresh_database(server, "slow_restored")

    started = time.monotonic()
    with pytest.raises(RestoreFailed, match=r"^pg_restore ran longer than the restore timeout of 2s\.$"):
        pgrestore.run(pg_binaries, DumpFormat.CUSTOM, dump, database, server.env(), jobs=2, timeout=2)

    assert time.monotonic() - started < 10
    # The worker building the index is a child of pg_restore with the same command line; it must
    # not outlive its parent. (Killed processes may linger an instant as zombies, which count as gone.)
    assert wait_until(lambda: processes_mentioning(str(dump)) == [], timeout=2), processes_mentioning(
        str(dump)
    )
