"""The restore role and what drill prepares for it (drill.restore.access, drill.restore.extensions),
on a real scratch cluster: what the role can and cannot do, stand-ins, and the extension allow-list."""

from __future__ import annotations

import psycopg
import pytest

from drill.restore.access import ExtensionRefused, prepare
from drill.restore.extensions import DEFAULT_CONTRIB, Who, decide
from drill.restore.runner import DrillFailed
from drill.restore.toc import Extension
from tests.drill.restore import hostile
from tests.drill.restore.conftest import Scratch

AVAILABLE = {"pg_trgm": True, "plpgsql": True, "pgstattuple": False, "dblink": False, "file_fdw": False}


@pytest.mark.parametrize(
    ("name", "allowed", "who"),
    [
        ("pg_trgm", (), Who.DUMP),  # trusted: the restore role creates it itself
        ("plpgsql", (), Who.DUMP),  # already in every database
        ("pgstattuple", (), Who.DRILL),  # untrusted, on drill's contrib list
        ("dblink", ("dblink",), Who.DRILL),  # untrusted, allowed by the config
        ("dblink", (), None),
        ("file_fdw", ("dblink",), None),
        ("postgis", (), None),  # not installed at all
    ],
)
def test_who_creates_each_extension(name: str, allowed: tuple[str, ...], who: Who | None) -> None:
    decision = decide(Extension(name, "public"), AVAILABLE, {"plpgsql"}, allowed)

    assert decision.who is who
    assert (decision.refusal is None) is (who is not None)


def test_a_refusal_names_the_extension_and_the_key_that_allows_it() -> None:
    refusal = decide(Extension("dblink", None), AVAILABLE, (), ()).refusal
    missing = decide(Extension("postgis", None), AVAILABLE, (), ()).refusal

    assert refusal is not None and "'dblink'" in refusal
    assert '[restore] allowed_extensions = ["dblink"]' in refusal
    assert missing is not None and "not in pg_available_extensions" in missing


def test_the_default_list_never_holds_what_reaches_files_programs_or_the_network() -> None:
    dangerous = {"adminpack", "file_fdw", "dblink", "postgres_fdw", "plperlu", "plpython3u", "pltclu", "xml2"}
    assert not dangerous & DEFAULT_CONTRIB


def restore_role_runs(scratch: Scratch, database: str, statement: str) -> str:
    """What the server answers the restore role: "ok" or the error's first line."""
    try:
        with psycopg.connect(
            scratch.server.conninfo(database, scratch.server.login), autocommit=True
        ) as connection:
            connection.execute(statement)
    except psycopg.Error as error:
        return str(error).splitlines()[0]
    return "ok"


def test_the_restore_role_can_reach_no_program_no_server_file_and_no_superuser_power(
    scratch: Scratch,
) -> None:
    database = scratch.server.database_for("powers")
    prepare(
        scratch.server.conninfo(database),
        scratch.server.login,
        database=database,
        roles=(),
        extensions=(),
        allowed=(),
        may_create_schemas=True,
    )

    answers = {
        statement: restore_role_runs(scratch, database, statement)
        for statement in (
            "COPY (SELECT 1) TO PROGRAM 'id'",
            "SELECT pg_read_file('/etc/hostname')",
            "SELECT lo_import('/etc/hostname')",
            "COPY pg_catalog.pg_class FROM '/etc/hostname'",
            "ALTER SYSTEM SET work_mem = '1GB'",
            "CREATE EXTENSION dblink",
            "CREATE ROLE intruder SUPERUSER",
            "CREATE DATABASE elsewhere",
            "CREATE TABLE mine (x int)",
        )
    }

    assert answers.pop("CREATE TABLE mine (x int)") == "ok"
    assert all(answer != "ok" for answer in answers.values()), answers
    assert (
        "must be superuser or have privileges of the pg_execute_server_program role"
        in answers["COPY (SELECT 1) TO PROGRAM 'id'"]
    )
    assert answers["SELECT pg_read_file('/etc/hostname')"] == "permission denied for function pg_read_file"


def test_an_existing_role_with_powers_is_never_lent_to_the_restore_role(scratch: Scratch) -> None:
    server = scratch.server
    with psycopg.connect(server.conninfo(), autocommit=True) as connection:
        connection.execute("CREATE ROLE mighty SUPERUSER NOLOGIN")
        connection.execute("CREATE ROLE reader_of_files NOLOGIN IN ROLE pg_read_server_files")
        connection.execute("CREATE ROLE harmless NOLOGIN")
    database = server.database_for("lending")

    prepared = prepare(
        server.conninfo(database),
        server.login,
        database=database,
        roles={"mighty", "reader_of_files", "harmless", "newcomer"},
        extensions=(),
        allowed=(),
        may_create_schemas=True,
    )

    with psycopg.connect(server.conninfo(), autocommit=True) as connection:
        member_of = {
            row[0]
            for row in connection.execute(
                "SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid "
                "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = %s",
                (server.login.role,),
            )
        }
    assert prepared.stand_ins == ("newcomer",)
    assert member_of == {"harmless", "newcomer"}


def test_an_extension_the_dump_needs_and_drill_does_not_allow_fails_naming_the_key(scratch: Scratch) -> None:
    dump = hostile.custom_dump(
        scratch.binaries.bin_dir, scratch.directory, "fdw", "CREATE EXTENSION dblink; CREATE TABLE t (x int);"
    )

    with pytest.raises(DrillFailed) as failed:
        scratch.restore(dump, "fdw")
    allowed = scratch.restore(dump, "fdw_allowed", allowed_extensions=("dblink",))

    assert failed.value.stage == "restore"
    assert (
        "'dblink'" in failed.value.reason
        and '[restore] allowed_extensions = ["dblink"]' in failed.value.reason
    )
    with psycopg.connect(scratch.server.conninfo(allowed)) as connection:
        owner = connection.execute(
            "SELECT extowner::regrole::text FROM pg_extension WHERE extname = 'dblink'"
        ).fetchone()
    assert owner == (scratch.server.login.role,)


def test_an_untrusted_extension_in_a_schema_the_dump_makes_restores_from_an_archive_only(
    scratch: Scratch,
) -> None:
    script = "CREATE SCHEMA stats; CREATE EXTENSION pgstattuple WITH SCHEMA stats; CREATE TABLE t (x int);"
    archive = hostile.custom_dump(scratch.binaries.bin_dir, scratch.directory, "stats", script)

    database = scratch.restore(archive, "stats")

    with psycopg.connect(scratch.server.conninfo(database)) as connection:
        where = connection.execute(
            "SELECT n.nspname, n.nspowner::regrole::text FROM pg_extension e "
            "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pgstattuple'"
        ).fetchone()
    assert where == ("stats", scratch.server.login.role)

    other = scratch.server.database_for("stats_plain")
    with pytest.raises(
        ExtensionRefused, match=r"creates extension 'pgstattuple' in schema 'stats'.*custom format"
    ):
        prepare(
            scratch.server.conninfo(other),
            scratch.server.login,
            database=other,
            roles=(),
            extensions=[Extension("pgstattuple", "stats")],
            allowed=(),
            may_create_schemas=False,
        )
