"""pg_restore and psql into a real scratch cluster, in the box, as the restore role: the command
lines, roles of plain dumps, failures.

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

from drill.config import RestoreSettings
from drill.restore import pgrestore
from drill.restore.access import prepare
from drill.restore.binaries import PgBinaries
from drill.restore.box import Box
from drill.restore.formats import DumpFormat, detect
from drill.restore.pgrestore import Restored, RestoreFailed, command
from drill.restore.plain import roles_named
from drill.restore.runner import restore_into
from drill.restore.scratch import ScratchCluster, ScratchServer
from drill.restore.server_account import server_account
from tests.drill.restore.conftest import handed_over, processes_mentioning, wait_until
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


def box_in(scratch_dir: Path, pg_binaries: PgBinaries) -> Box:
    """The box the runner puts a restore in, in a fresh dir the scratch OS user can reach."""
    parent = Path(tempfile.mkdtemp(dir=scratch_dir))
    parent.chmod(0o755)
    return Box.make(
        parent / "home", server_account("postgres"), isolate_network=True, bin_dir=pg_binaries.bin_dir
    )


def prepared_database(server: ScratchServer, name: str, roles: frozenset[str] = frozenset()) -> str:
    """A database owned by the restore role, prepared as the runner prepares it."""
    database = server.database_for(name)
    prepare(
        server.conninfo(database),
        server.login,
        database=database,
        roles=roles,
        extensions=(),
        allowed=(),
        may_create_schemas=True,
    )
    return database


def run(
    where: tuple[ScratchServer, PgBinaries, Path],
    dump_format: DumpFormat,
    path: Path,
    database: str,
    *,
    timeout: float = 120,
) -> Restored:
    """Restore ``path`` in a fresh box into ``database`` on ``where`` (server, binaries, scratch dir)."""
    server, pg_binaries, scratch_dir = where
    arguments = command(pg_binaries, dump_format, path, database, 2)
    return pgrestore.run(
        arguments, box_in(scratch_dir, pg_binaries), server.env(server.login), timeout=timeout
    )


def restore(server: ScratchServer, pg_binaries: PgBinaries, path: Path, name: str) -> tuple[str, Restored]:
    """As the runner restores: the dump read, its database prepared, the tool run in the box.

    The dump is copied into a dir of its own first, as a download dir holds one dump.
    """
    path = handed_over(path, path.parent)
    settings = RestoreSettings(work_dir=str(path.parent))
    return restore_into(
        server, path, detect(path), name, download_dir=path.parent, settings=settings, binaries=pg_binaries
    )


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


def test_plain_sql_restores_with_psql_behind_a_restrict_of_drills_own(pg_binaries: PgBinaries) -> None:
    arguments = command(pg_binaries, DumpFormat.PLAIN, Path("/dumps/orders.sql"), "orders", 4)
    again = command(pg_binaries, DumpFormat.PLAIN, Path("/dumps/orders.sql"), "orders", 4)

    assert arguments[:5] == (
        str(pg_binaries.tool("psql")),
        "--no-psqlrc",
        "--quiet",
        "--set=ON_ERROR_STOP=1",
        "--dbname=orders",
    )
    # drill's restriction comes before the dump's first byte, with a key made anew each time.
    assert arguments[5].startswith("--command=\\restrict ") and len(arguments[5]) > 40
    assert arguments[5] != again[5]
    assert arguments[6] == "--file=/dumps/orders.sql"
    assert not any(argument.startswith("--jobs") for argument in arguments)


def test_an_archive_restores_from_a_list_when_drill_leaves_entries_out(pg_binaries: PgBinaries) -> None:
    arguments = command(
        pg_binaries, DumpFormat.CUSTOM, Path("/d/x.dump"), "x", 2, use_list=Path("/d/home/restore.list")
    )

    assert "--use-list=/d/home/restore.list" in arguments
    assert arguments[-1] == "/d/x.dump"


# Plain dumps name roles: stand-ins make their ALTER ... OWNER TO work for the restore role.


def test_a_plain_dump_naming_roles_restores_as_the_restore_role_with_its_owners(
    pg_binaries: PgBinaries, server: ScratchServer, scratch_dir: Path
) -> None:
    source = server.database_for("roles_source")
    with psycopg.connect(server.conninfo(source), autocommit=True) as connection:
        connection.execute(_ROLES_SOURCE)
    plain = pg_dump(pg_binaries, server, source, scratch_dir / "roles.sql")
    assert roles_named(plain) == _ROLES
    # As on a fresh scratch cluster: the roles are gone, and come back only from what was found.
    with psycopg.connect(server.conninfo(), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(source)))
        for role in sorted(_ROLES):
            connection.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))

    database, _ = restore(server, pg_binaries, plain, "roles_restored")

    assert scalar(server, database, "SELECT tableowner FROM pg_tables WHERE tablename = 'accounts'") == (
        "app_owner"
    )
    assert scalar(server, database, "SELECT count(*) FROM app.accounts") == 2
    # The stand-ins hold nothing: no login, no attribute, member of nothing but drill's group.
    with psycopg.connect(server.conninfo(), autocommit=True) as connection:
        powers = connection.execute(
            "SELECT bool_or(rolsuper OR rolcanlogin OR rolcreaterole OR rolcreatedb OR rolbypassrls) "
            "FROM pg_roles WHERE rolname = ANY(%s)",
            (sorted(_ROLES),),
        ).fetchone()
        superuser = connection.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = %s", (server.login.role,)
        ).fetchone()
    assert powers == (False,) and superuser == (False,)


# Restores into the scratch cluster.


@pytest.mark.parametrize("dump_format", list(DumpFormat), ids=lambda f: f.value)
def test_a_real_dump_restores_in_every_format_as_the_restore_role(
    dumps: Dumps, pg_binaries: PgBinaries, server: ScratchServer, scratch_dir: Path, dump_format: DumpFormat
) -> None:
    original = {
        DumpFormat.CUSTOM: dumps.custom,
        DumpFormat.DIRECTORY: dumps.directory,
        DumpFormat.TAR: dumps.tar,
        DumpFormat.PLAIN: dumps.plain,
    }[dump_format]
    path = handed_over(original, scratch_dir)

    database, restored = restore(server, pg_binaries, path, f"shop_{dump_format.value}")

    assert restored.command[0].endswith("psql" if dump_format is DumpFormat.PLAIN else "pg_restore")
    assert 0 < restored.seconds < 120
    assert scalar(server, database, "SELECT count(*) FROM customers") == 500
    assert scalar(server, database, "SELECT count(*) FROM orders") == 3000
    assert scalar(server, database, "SELECT last_value FROM invoice_numbers") == 1234
    # Archives restore without owners; a plain dump's owner is a stand-in. Neither is a superuser.
    owner = scalar(server, database, "SELECT tableowner FROM pg_tables WHERE tablename = 'orders'")
    assert owner == ("postgres" if dump_format is DumpFormat.PLAIN else server.login.role)


def test_a_restore_that_fails_half_way_names_the_tool_and_its_errors(
    dumps: Dumps, pg_binaries: PgBinaries, server: ScratchServer, scratch_dir: Path
) -> None:
    custom = handed_over(dumps.custom, scratch_dir)
    database = prepared_database(server, "shop_twice")
    run((server, pg_binaries, scratch_dir), DumpFormat.CUSTOM, custom, database)

    with pytest.raises(RestoreFailed) as failed:
        run((server, pg_binaries, scratch_dir), DumpFormat.CUSTOM, custom, database)

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
    database = prepared_database(server, "stops")

    with pytest.raises(RestoreFailed) as failed:
        run((server, pg_binaries, scratch_dir), DumpFormat.PLAIN, script, database, timeout=60)

    message = str(failed.value)
    assert message.startswith("psql exited with status 3: ")
    assert f"psql:{script}:2: ERROR:  division by zero" in message
    assert scalar(server, database, "SELECT count(*) FROM pg_tables WHERE tablename = 'before_error'") == 1
    assert scalar(server, database, "SELECT count(*) FROM pg_tables WHERE tablename = 'after_error'") == 0


def test_a_dump_that_cannot_be_read_fails_with_the_reason(
    pg_binaries: PgBinaries, server: ScratchServer, scratch_dir: Path
) -> None:
    missing = scratch_dir / "gone.dump"
    database = prepared_database(server, "gone")

    with pytest.raises(RestoreFailed) as failed:
        run((server, pg_binaries, scratch_dir), DumpFormat.CUSTOM, missing, database, timeout=60)

    assert str(failed.value).startswith("pg_restore exited with status 1: ")
    assert str(missing) in str(failed.value)


def test_a_timeout_kills_psql(pg_binaries: PgBinaries, server: ScratchServer, scratch_dir: Path) -> None:
    script = scratch_dir / "sleeps-in-psql.sql"
    script.write_text("SELECT pg_sleep(30);\n")
    database = prepared_database(server, "sleepy")

    started = time.monotonic()
    with pytest.raises(RestoreFailed, match=r"^psql ran longer than the restore timeout of 1s\.$"):
        run((server, pg_binaries, scratch_dir), DumpFormat.PLAIN, script, database, timeout=1)

    assert time.monotonic() - started < 10
    assert processes_mentioning(str(script)) == []


def test_a_watch_that_finds_a_bound_crossed_stops_the_restore_with_its_reason(
    pg_binaries: PgBinaries, server: ScratchServer, scratch_dir: Path
) -> None:
    script = scratch_dir / "sleeps-until-stopped.sql"
    script.write_text("SELECT pg_sleep(30);\n")
    database = prepared_database(server, "watched")
    arguments = command(pg_binaries, DumpFormat.PLAIN, script, database, 2)
    calls: list[float] = []

    def watch() -> str | None:
        calls.append(time.monotonic())
        return "The restored database grew past the bound." if len(calls) >= 2 else None

    with pytest.raises(RestoreFailed, match=r"^The restored database grew past the bound\.$"):
        pgrestore.run(
            arguments, box_in(scratch_dir, pg_binaries), server.env(server.login), timeout=60, watch=watch
        )

    assert len(calls) == 2
    assert processes_mentioning(str(script)) == []


def test_a_timeout_kills_pg_restore_and_its_parallel_workers(
    pg_binaries: PgBinaries, server: ScratchServer, scratch_dir: Path
) -> None:
    source = server.database_for("slow_source")
    with psycopg.connect(server.conninfo(source), autocommit=True) as connection:
        connection.execute(_SLOW_SOURCE)
    dump = pg_dump(pg_binaries, server, source, scratch_dir / "slow-index.dump", "--format=custom")
    database = prepared_database(server, "slow_restored")

    started = time.monotonic()
    with pytest.raises(RestoreFailed, match=r"^pg_restore ran longer than the restore timeout of 2s\.$"):
        run((server, pg_binaries, scratch_dir), DumpFormat.CUSTOM, dump, database, timeout=2)

    assert time.monotonic() - started < 10
    # The worker building the index is a child of pg_restore with the same command line; it must
    # not outlive its parent. (Killed processes may linger an instant as zombies, which count as gone.)
    assert wait_until(lambda: processes_mentioning(str(dump)) == [], timeout=2), processes_mentioning(
        str(dump)
    )
