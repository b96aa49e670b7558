"""The dsn engine against a real server the test starts and treats as someone else's."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from drill.config import RestoreEngine, RestoreSettings
from drill.restore import dsn as dsn_module
from drill.restore.binaries import PgBinaries, RestoreSetupError
from drill.restore.dsn import DsnScratch
from drill.restore.runner import restore_into
from drill.restore.scratch import ScratchServer, ScratchTarget
from drill.restore.verify import verify
from tests import factories
from tests.drill.restore.conftest import fetch_local, wait_until
from tests.pg_dumps import dumps_for

PASSWORD = "correct horse 'battery' staple"


def dsn_for(server: ScratchServer, **extra: str) -> str:
    return psycopg.conninfo.make_conninfo("", host=server.host, port=server.port, user=server.user, **extra)


def databases(server: ScratchServer) -> set[str]:
    with psycopg.connect(server.conninfo()) as connection:
        return {row[0] for row in connection.execute("SELECT datname FROM pg_database")}


@pytest.fixture(scope="module")
def password_role(existing_server: ScratchServer) -> Iterator[str]:
    """A role that must give a password over the socket, as on a real shared server; so must the
    restore roles drill creates (only the server's own superuser logs in without one)."""
    hba = existing_server.data_dir / "pg_hba.conf"
    hba.write_text(f"local all {existing_server.user} trust\nlocal all all scram-sha-256\n" + hba.read_text())
    with psycopg.connect(existing_server.conninfo(), autocommit=True) as connection:
        connection.execute(
            sql.SQL("CREATE ROLE secretive LOGIN CREATEDB CREATEROLE PASSWORD {}").format(
                sql.Literal(PASSWORD)
            )
        )
        connection.execute(sql.SQL("CREATE ROLE nocreate LOGIN PASSWORD {}").format(sql.Literal(PASSWORD)))
        connection.execute("SELECT pg_reload_conf()")

    def password_required() -> bool:
        try:
            psycopg.connect(
                dsn_for(existing_server, dbname="postgres").replace(
                    f"user={existing_server.user}", "user=secretive"
                )
            ).close()
        except psycopg.OperationalError:
            return True
        return False

    assert wait_until(password_required), "pg_hba.conf reload did not take effect"
    yield "secretive"


def test_creates_a_new_database_and_drops_it_on_exit(
    existing_server: ScratchServer, pg_binaries: PgBinaries
) -> None:
    before = databases(existing_server)
    with DsnScratch(dsn_for(existing_server)) as target:
        scratch: ScratchTarget = target
        name = scratch.database_for("Sales-EU.prod")
        assert re.fullmatch(r"drill_sales_eu_prod_\d{14}_[0-9a-f]{6}", name)
        assert target.database == name
        with psycopg.connect(scratch.conninfo(name, scratch.login), autocommit=True) as connection:
            connection.execute("CREATE TABLE restored (id int)")
        result = subprocess.run(
            (
                str(pg_binaries.tool("psql")),
                "--no-psqlrc",
                "-tA",
                f"--dbname={name}",
                "-c",
                "SELECT count(*) FROM restored",
            ),
            env={"PATH": os.environ["PATH"], **scratch.env(scratch.login)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert (result.returncode, result.stdout.strip()) == (0, "0"), result.stderr
        assert name in databases(existing_server)
        assert roles(existing_server) >= {scratch.login.role, scratch.login.group}
    assert databases(existing_server) == before
    # The restore role and its group are the drill's, and go with it.
    assert not roles(existing_server) & {scratch.login.role, scratch.login.group}


def roles(server: ScratchServer) -> set[str]:
    with psycopg.connect(server.conninfo()) as connection:
        return {row[0] for row in connection.execute("SELECT rolname FROM pg_roles")}


def test_drops_even_when_the_body_fails_with_clients_still_connected(existing_server: ScratchServer) -> None:
    before = databases(existing_server)
    with pytest.raises(KeyError), DsnScratch(dsn_for(existing_server, dbname="postgres")) as target:
        name = target.database_for("orders")
        lingering = psycopg.connect(target.conninfo(name))
        raise KeyError("restore blew up")
    assert databases(existing_server) == before
    assert lingering.closed or lingering.broken or _disconnected(lingering)
    lingering.close()


def _disconnected(connection: psycopg.Connection[tuple[object, ...]]) -> bool:
    try:
        connection.execute("SELECT 1")
    except psycopg.OperationalError:
        return True
    return False


@pytest.mark.parametrize("dbname", ["app", "template1", "drill_orders_20240101000000_abcdef"])
def test_refuses_a_dsn_that_names_another_database(existing_server: ScratchServer, dbname: str) -> None:
    with pytest.raises(RestoreSetupError, match=rf"names database '{dbname}'; drill connects only to"):
        DsnScratch(dsn_for(existing_server, dbname=dbname))


def test_a_dsn_without_a_database_means_the_maintenance_database(existing_server: ScratchServer) -> None:
    with DsnScratch(dsn_for(existing_server)) as target, psycopg.connect(target.conninfo()) as connection:
        assert connection.execute("SELECT current_database()").fetchone() == ("postgres",)


def test_refuses_when_the_new_name_already_exists_and_leaves_it_alone(
    existing_server: ScratchServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = "drill_orders_20240101000000_abcdef"
    existing_server.create_database(taken)
    monkeypatch.setattr(dsn_module, "_unique_name", lambda name: taken)
    with DsnScratch(dsn_for(existing_server)) as target:
        with pytest.raises(
            RestoreSetupError, match=rf"Database {taken} already exists .* never restores into or drops"
        ):
            target.database_for("orders")
        assert target.created == []
    assert taken in databases(existing_server)


def test_client_programs_get_the_restore_roles_password_never_the_dsns(
    existing_server: ScratchServer, password_role: str, pg_binaries: PgBinaries
) -> None:
    dsn = dsn_for(existing_server, dbname="postgres", password=PASSWORD).replace(
        f"user={existing_server.user}", f"user={password_role}"
    )
    scratch = DsnScratch(dsn, keep=True)
    with scratch as target:
        name = target.database_for("billing")
        environment = target.env(target.login)
        # pg_restore and psql run what the snapshot says: they log in as the restore role, with a
        # password made for this drill, and never hold the DSN's.
        assert environment["PGUSER"] == target.login.role != password_role
        assert environment["PGPASSWORD"] == target.login.password
        assert PASSWORD not in environment.values()
        command = (
            str(pg_binaries.tool("psql")),
            "--no-psqlrc",
            "-tA",
            f"--dbname={name}",
            "-c",
            "SELECT current_user",
        )
        assert not any(PASSWORD in part for part in command)
        result = subprocess.run(
            command,
            env={"PATH": os.environ["PATH"], **environment},
            capture_output=True,
            text=True,
            check=False,
        )
        assert (result.returncode, result.stdout.strip()) == (0, target.login.role), result.stderr
    hint = scratch.connect_hint(name)
    assert name in databases(existing_server)  # keep=True: left for inspection
    for shown in (hint, repr(scratch)):
        assert PASSWORD not in shown and "battery" not in shown
    # Following the hint drops it.
    with psycopg.connect(target.conninfo(), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        for role in (target.login.group, target.login.role):  # --keep leaves the roles too
            connection.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_a_wrong_password_is_a_setup_error_that_does_not_echo_it(
    existing_server: ScratchServer, password_role: str
) -> None:
    dsn = dsn_for(existing_server, password="hunter2-wrong").replace(
        f"user={existing_server.user}", f"user={password_role}"
    )
    with pytest.raises(RestoreSetupError) as raised, DsnScratch(dsn):
        pass
    assert "password authentication failed" in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_a_malformed_dsn_is_refused_without_showing_it() -> None:
    with pytest.raises(RestoreSetupError) as raised:
        DsnScratch("host=db.internal password=hunter2 oops")
    assert "not a valid libpq connection string" in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_an_unreachable_server_is_a_setup_error(tmp_path: Path) -> None:
    with (
        pytest.raises(RestoreSetupError, match=r"Cannot connect to the scratch server"),
        DsnScratch(f"host={tmp_path} port=5999 user=someone connect_timeout=2"),
    ):
        pass


def test_a_role_without_createdb_and_createrole_is_told_to_get_them(
    existing_server: ScratchServer, password_role: str
) -> None:
    dsn = dsn_for(existing_server, password=PASSWORD).replace(f"user={existing_server.user}", "user=nocreate")
    with (
        DsnScratch(dsn) as target,
        pytest.raises(
            RestoreSetupError, match=r"cannot create the restore role .* needs CREATEDB and CREATEROLE"
        ),
    ):
        target.database_for("orders")


def test_a_plain_dump_restores_through_the_dsn_engine_as_a_restore_role_of_its_own(
    existing_server: ScratchServer, pg_binaries: PgBinaries, tmp_path_factory: pytest.TempPathFactory
) -> None:
    dumps = dumps_for(tmp_path_factory)
    parent = Path(tempfile.mkdtemp(prefix="drill-test-"))
    parent.chmod(0o755)
    settings = RestoreSettings(
        engine=RestoreEngine.DSN, dsn_env="DRILL_TEST_DSN", dsn_is_scratch=True, work_dir=str(parent)
    )
    before = roles(existing_server)
    try:
        with DsnScratch(dsn_for(existing_server)) as target:
            fetched = fetch_local(dumps.plain, parent)
            database, _ = restore_into(
                target,
                fetched.path,
                fetched.info,
                "billing",
                download_dir=fetched.path.parent,
                settings=settings,
                binaries=pg_binaries,
            )
            found = verify(target.conninfo(database, target.login), factories.database("billing"))
            with psycopg.connect(existing_server.conninfo(database)) as connection:
                owner = connection.execute(
                    "SELECT tableowner FROM pg_tables WHERE tablename = 'orders'"
                ).fetchone()
            made = roles(existing_server) - before
    finally:
        shutil.rmtree(parent, ignore_errors=True)

    assert {table.table: table.rows for table in found.tables} == {
        "public.customers": 500,
        "public.orders": 3000,
    }
    assert owner == ("postgres",)  # a stand-in, made for this drill
    assert made == {target.login.role, target.login.group, "postgres"}
    assert roles(existing_server) == before  # the restore role and the stand-in went with the database
