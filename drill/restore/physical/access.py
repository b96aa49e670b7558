"""The recovered cluster's roles are the backup's: drill logs in as its bootstrap superuser only to
make a restore role, and verifies as that role (drill.restore.verify), as it does for a dump.

The superuser's sessions pin ``search_path`` and turn off the preload settings a role of the
backup's may carry (``ALTER ROLE ... SET``), and then drop every per-database and per-role setting
of the backup's before the restore role exists; in the verified database, the backup's event
triggers are disabled before drill's superuser runs any DDL there (``CREATE EXTENSION amcheck``,
the grants), since an event trigger runs as whoever issues the command. The restore role may read
every table (``pg_read_all_data``), bypasses row-level security, and may call amcheck's
``bt_index_check``: nothing else.
"""

from __future__ import annotations

import secrets
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from drill.restore.access import Login, _provide_amcheck, pinned

_SUPERUSER_OPTIONS = "-c session_preload_libraries= -c local_preload_libraries="
_PRE_READ_ALL_DATA = 14  # pg_read_all_data came with PostgreSQL 14


class DatabaseMissing(Exception):
    """The configured database is not in the restored cluster; the message names those it holds."""


def superuser_session(conninfo: str) -> str:
    """``conninfo`` pinned, with the backup's preload settings for the role overridden."""
    params = conninfo_to_dict(pinned(conninfo))
    return make_conninfo(conninfo, options=f"{params.get('options') or ''} {_SUPERUSER_OPTIONS}".strip())


def databases(conninfo: str) -> list[str]:
    """The databases a login may connect to, through the first of the usual maintenance databases."""
    params = conninfo_to_dict(conninfo)
    for dbname in (params.get("dbname"), "postgres", "template1"):
        try:
            with psycopg.connect(make_conninfo(conninfo, dbname=dbname), autocommit=True) as connection:
                rows = connection.execute(
                    "SELECT datname FROM pg_catalog.pg_database WHERE datallowconn ORDER BY 1"
                ).fetchall()
                return [row[0] for row in rows]
        except psycopg.OperationalError:
            continue
    return []


def prepare_restore_role(conninfo: str, database: str, major: int) -> Login:
    """Create a restore role in the cluster and ready ``database`` (connected to by ``conninfo``,
    as the superuser) for its verification. DatabaseMissing when there is no such database."""
    login = Login.new(f"drill_restore_{secrets.token_hex(4)}", with_password=False)
    target = superuser_session(make_conninfo(conninfo, dbname=database))
    try:
        connection = psycopg.connect(target, autocommit=True)
    except psycopg.OperationalError as error:
        if "does not exist" not in str(error):
            raise
        held = ", ".join(databases(superuser_session(conninfo))) or "none"
        raise DatabaseMissing(
            f"database {database!r} is not in the restored cluster (it holds: {held})"
        ) from None
    with connection:
        # Catalog rows, not DDL: no event trigger fires on this statement.
        connection.execute("UPDATE pg_catalog.pg_event_trigger SET evtenabled = 'D'")
        # The backup's ALTER DATABASE/ROLE ... SET apply to every session, the restore role's too, and
        # a role that is not a superuser cannot override a superuser-only one (a preloaded library)
        # from its startup options: the scratch cluster forgets them all before that role exists.
        connection.execute("DELETE FROM pg_catalog.pg_db_role_setting")
        role = sql.Identifier(login.role)
        connection.execute(
            sql.SQL(
                "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION BYPASSRLS"
            ).format(role)
        )
        if major >= _PRE_READ_ALL_DATA:
            connection.execute(sql.SQL("GRANT pg_read_all_data TO {}").format(role))
        else:
            _grant_reads(connection, role)
        _provide_amcheck(connection, login)
    return login


def _grant_reads(connection: psycopg.Connection[Any], role: sql.Identifier) -> None:
    schemas = connection.execute(
        "SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'"
    ).fetchall()
    for (schema,) in schemas:
        name = sql.Identifier(schema)
        connection.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(name, role))
        connection.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(name, role))
        connection.execute(sql.SQL("GRANT SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(name, role))
