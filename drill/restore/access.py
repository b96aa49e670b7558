"""Who the snapshot's SQL runs as: a role that is not a superuser and owns only the scratch database.

Everything a dump can make the server run (a CHECK constraint, a default, a trigger, an index
expression calling the dump's own functions) runs as the restoring role. As a superuser that
could ``COPY ... TO PROGRAM``, ``pg_read_file()`` or ``ALTER SYSTEM``; as the restore role it can
do none of these. drill's superuser (the scratch cluster's, or the ``dsn`` engine's role) only
prepares the ground, before anything of the snapshot runs:

- the restore role: LOGIN, BYPASSRLS (row counts must see every row, and no policy of the dump's
  may run in drill's queries), nothing else; it owns the scratch database;
- stand-ins for the roles a plain dump names (``ALTER ... OWNER TO``, ``SET ROLE``): NOLOGIN and
  without any attribute, granted to the restore role; a role that already exists is granted only
  if it is just as powerless. Stand-ins are members of one group that may create in the
  database, in ``public`` and in every schema the restore role creates (default privileges),
  since PostgreSQL requires that of an object's new owner;
- the extensions the dump needs that the restore role may not create itself (drill.restore.extensions);
  the restore role is made their owner, so that the dump's ``COMMENT ON EXTENSION`` works;
- amcheck's ``bt_index_check``, granted to the restore role, which verifies in that role.

Once the snapshot's first byte is restored, drill's superuser never connects to its database
again (only to the maintenance database, to drop it). Where drill's superuser does connect, its
``search_path`` is pinned to ``pg_catalog, pg_temp`` all the same.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from drill.restore.extensions import Decision, Who, decide
from drill.restore.toc import Extension

_POWERLESS = """
SELECT r.rolname FROM pg_roles r
WHERE r.rolname = ANY(%s)
  AND NOT (r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls OR r.rolcanlogin)
  AND NOT EXISTS (
      SELECT 1 FROM pg_roles g
      WHERE g.oid <> r.oid AND pg_has_role(r.oid, g.oid, 'MEMBER')
        AND (g.rolsuper OR g.rolcreaterole OR g.rolcreatedb OR g.rolreplication OR g.rolbypassrls
             OR g.rolname LIKE 'pg\\_%%'))
"""


@dataclass(frozen=True)
class Login:
    """The restore role, and its password where the server asks for one (the ``dsn`` engine)."""

    role: str
    group: str  # the stand-ins' group
    password: str | None = field(default=None, repr=False)

    @classmethod
    def new(cls, base: str, *, with_password: bool) -> Login:
        return cls(base, f"{base}_owners", secrets.token_urlsafe(24) if with_password else None)


class ExtensionRefused(Exception):
    """The dump needs an extension drill will not create; the message names it and the config key."""


@dataclass(frozen=True)
class Prepared:
    stand_ins: tuple[str, ...]  # roles drill created for this database (the dsn engine drops them)
    own_schemas: tuple[str, ...]  # schemas drill created so that an extension could go in them


def _scalar(connection: psycopg.Connection[Any], query: str, *params: Any) -> Any:
    row = connection.execute(query, params or None).fetchone()
    return None if row is None else row[0]


def create_login(conninfo: str, login: Login) -> None:
    """Create the restore role and the stand-ins' group, unless they exist (one per cluster)."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        superuser = _scalar(connection, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        existing = {
            row[0]
            for row in connection.execute(
                "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", ([login.role, login.group],)
            )
        }
        if login.role not in existing:
            # BYPASSRLS needs a superuser to grant; without it, drill's counts fail on a table whose
            # policies apply to its owner (FORCE ROW LEVEL SECURITY) rather than run them.
            attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION" + (
                " BYPASSRLS" if superuser else ""
            )
            statement = sql.SQL("CREATE ROLE {} " + attributes).format(sql.Identifier(login.role))
            if login.password is not None:
                statement = sql.SQL("{} PASSWORD {}").format(statement, sql.Literal(login.password))
            connection.execute(statement)
        if login.group not in existing:
            connection.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(login.group)))
        if not superuser:
            # CREATE DATABASE ... OWNER and the grants below need the creator to be a member.
            connection.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(sql.Identifier(login.role)))


def prepare(
    conninfo: str,
    login: Login,
    *,
    database: str,
    roles: Collection[str],
    extensions: Iterable[Extension],
    allowed: Collection[str],
    may_create_schemas: bool,
) -> Prepared:
    """Make ``database`` (connected to as drill's superuser by ``conninfo``) ready for the restore role.

    Raises ExtensionRefused before anything of the dump runs when it needs an extension drill will
    not or cannot create. ``may_create_schemas``: an extension's schema that the dump creates itself
    may be created here (the caller then leaves the dump's CREATE SCHEMA out: archives only).
    """
    with psycopg.connect(pinned(conninfo), autocommit=True) as connection:
        decisions = _decide(connection, extensions, allowed)
        refused = [decision.refusal for decision in decisions if decision.refusal]
        if refused:
            raise ExtensionRefused(" ".join(refused))
        stand_ins = _stand_ins(connection, login, sorted(roles))
        group = sql.Identifier(login.group)
        connection.execute(sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(group))
        connection.execute(
            sql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(sql.Identifier(database), group)
        )
        connection.execute(
            sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} GRANT CREATE, USAGE ON SCHEMAS TO {}").format(
                sql.Identifier(login.role), group
            )
        )
        own_schemas = _create_extensions(connection, login, decisions, may_create_schemas=may_create_schemas)
        _provide_amcheck(connection, login)
    return Prepared(tuple(stand_ins), tuple(own_schemas))


def _decide(
    connection: psycopg.Connection[Any], extensions: Iterable[Extension], allowed: Collection[str]
) -> list[Decision]:
    available = dict(
        connection.execute(
            "SELECT name, bool_or(trusted) FROM pg_available_extension_versions GROUP BY name"
        ).fetchall()
    )
    installed = {row[0] for row in connection.execute("SELECT extname FROM pg_extension")}
    return [decide(extension, available, installed, allowed) for extension in extensions]


def _stand_ins(connection: psycopg.Connection[Any], login: Login, roles: list[str]) -> list[str]:
    reserved = {login.role, login.group}
    wanted = [role for role in roles if role not in reserved and not role.startswith("pg_")]
    existing = {
        row[0]
        for row in connection.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (wanted,))
    }
    powerless = {row[0] for row in connection.execute(_POWERLESS, (sorted(existing),))}
    created = []
    for role in wanted:
        name = sql.Identifier(role)
        if role not in existing:
            connection.execute(
                sql.SQL(
                    "CREATE ROLE {} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION IN ROLE {}"
                ).format(name, sql.Identifier(login.group))
            )
            created.append(role)
        elif role not in powerless:
            continue  # the dump's statements naming it fail: drill lends it no privilege
        else:
            connection.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(login.group), name))
        connection.execute(sql.SQL("GRANT {} TO {}").format(name, sql.Identifier(login.role)))
    return created


def _create_extensions(
    connection: psycopg.Connection[Any], login: Login, decisions: list[Decision], *, may_create_schemas: bool
) -> list[str]:
    own_schemas: list[str] = []
    for decision in decisions:
        extension = decision.extension
        if decision.who is Who.DRILL:
            schema = extension.schema
            if schema is not None and not _scalar(
                connection, "SELECT count(*) FROM pg_namespace WHERE nspname = %s", schema
            ):
                if not may_create_schemas:
                    raise ExtensionRefused(
                        f"the plain SQL dump creates extension {extension.name!r} in schema {schema!r}, "
                        "which it creates itself; drill must create that extension before the dump runs "
                        "and cannot without its schema. Dump in the custom format (pg_dump -Fc), which "
                        "drill restores with that schema created beforehand."
                    )
                connection.execute(
                    sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(
                        sql.Identifier(schema), sql.Identifier(login.role)
                    )
                )
                own_schemas.append(schema)
            statement = sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(extension.name))
            if schema is not None:
                statement = sql.SQL("{} WITH SCHEMA {}").format(statement, sql.Identifier(schema))
            try:
                connection.execute(sql.SQL("{} CASCADE").format(statement))
            except psycopg.Error as error:
                raise ExtensionRefused(
                    f"drill could not create extension {extension.name!r} for the dump: "
                    f"{_first_line(error)} (an extension PostgreSQL does not mark trusted needs a superuser)."
                ) from None
    named = [decision.extension.name for decision in decisions]
    if named and _scalar(connection, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
        # No ALTER EXTENSION ... OWNER TO exists; the scratch database is drill's own and thrown away.
        connection.execute(
            "UPDATE pg_extension SET extowner = %s::regrole WHERE extname = ANY(%s)",
            (login.role, named),
        )
    return own_schemas


def _provide_amcheck(connection: psycopg.Connection[Any], login: Login) -> None:
    """amcheck's ``bt_index_check`` for the restore role: drill verifies in that role, never as a superuser.

    Where the dump does not install amcheck, drill's superuser installs it in a schema of its own,
    which the dump cannot change. Verification finds the function by its membership of the
    extension (drill.restore.verify), never by name alone.
    """
    schema = _scalar(
        connection,
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'amcheck'",
    )
    if schema is None:
        schema = f"drill_amcheck_{secrets.token_hex(4)}"
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        connection.execute(sql.SQL("CREATE EXTENSION amcheck WITH SCHEMA {}").format(sql.Identifier(schema)))
    role = sql.Identifier(login.role)
    connection.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), role))
    connection.execute(
        sql.SQL("GRANT EXECUTE ON FUNCTION {}.bt_index_check(regclass, boolean) TO {}").format(
            sql.Identifier(schema), role
        )
    )


def pinned(conninfo: str, statement_timeout: float | None = None) -> str:
    """``conninfo`` with search_path pinned to pg_catalog, pg_temp: no name the dump chose resolves.

    A client option outranks the database's own settings, which the restore role (its owner) may
    set. ``statement_timeout`` (seconds) bounds each statement.
    """
    options = "-c search_path=pg_catalog,pg_temp"
    if statement_timeout is not None:
        options += f" -c statement_timeout={max(1, int(statement_timeout * 1000))}"
    params = conninfo_to_dict(conninfo)
    return make_conninfo(conninfo, options=f"{params.get('options') or ''} {options}".strip())


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0].rstrip(".")
