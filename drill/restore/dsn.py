"""The ``dsn`` engine: restore into one new database on an existing scratch server.

drill connects only to the maintenance database ``postgres``, creates a database whose name is
new (``drill_<database>_<UTC time>_<random>``), and drops it again on every way out. It refuses
a DSN that names any other database, and never drops a database it did not create itself. The
DSN may hold a password: it is never logged, never put in a message or a command line, and never
given to a client program. The snapshot's SQL runs as a restore role made for this drill
(``drill_restore_<random>``, with a random password, drill.restore.access), which owns the new
database; drill's own role only prepares it. The restore role, the stand-ins for the dump's roles
and the database are dropped again when the block ends.
"""

from __future__ import annotations

import logging
import re
import secrets
import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType

import psycopg
from psycopg import errors, pq, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from drill.restore.access import Login, create_login
from drill.restore.binaries import RestoreSetupError
from drill.restore.processes import signals_deferred

MAINTENANCE_DATABASE = "postgres"
_MAX_IDENTIFIER = 63
_CONNECT_TIMEOUT_SECONDS = "10"
_FORCE_DROP_SINCE = 130000  # DROP DATABASE ... WITH (FORCE) came with PostgreSQL 13
_logger = logging.getLogger(__name__)


def _env_names() -> dict[str, str]:
    """libpq's own map of connection keywords to environment variables (host -> PGHOST, ...)."""
    names = {}
    for option in pq.Conninfo.get_defaults():
        if option.envvar:
            names[option.keyword.decode()] = option.envvar.decode()
    return names


@dataclass
class DsnScratch:
    """``with DsnScratch(dsn) as target:`` the target creates databases with ``database_for`` and
    drops each of them when the block ends (``keep=True``: leaves them for inspection)."""

    dsn: str = field(repr=False)
    keep: bool = False
    created: list[str] = field(default_factory=list, init=False)
    server_version: int = field(default=0, init=False)
    login: Login = field(
        default_factory=lambda: Login.new(f"drill_restore_{secrets.token_hex(4)}", with_password=True),
        init=False,
        repr=False,
    )
    roles: list[str] = field(default_factory=list, init=False)  # created here, dropped at the end
    _login_made: bool = field(default=False, init=False, repr=False)
    disk_root: None = field(default=None, init=False)  # the restored database grows on the server
    _params: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        try:
            params = conninfo_to_dict(self.dsn)
        except psycopg.ProgrammingError:
            # The parser's message quotes the DSN around the problem, password included.
            raise RestoreSetupError(
                "The scratch server's DSN ([restore] dsn_env) is not a valid libpq connection "
                "string or URI; its text is not shown because it may hold a password."
            ) from None
        dbname = params.get("dbname")
        if dbname not in (None, "", MAINTENANCE_DATABASE):
            raise RestoreSetupError(
                f"The scratch server's DSN names database {dbname!r}; drill connects only to the "
                f"maintenance database {MAINTENANCE_DATABASE!r}, where it creates and later drops "
                f"a database of its own. Remove the database from the DSN or name "
                f"{MAINTENANCE_DATABASE!r}."
            )
        clean = {key: str(value) for key, value in params.items() if value is not None}
        clean["dbname"] = MAINTENANCE_DATABASE  # absent, libpq would take the user's name
        clean.setdefault("connect_timeout", _CONNECT_TIMEOUT_SECONDS)
        self._params = clean

    def __enter__(self) -> DsnScratch:
        try:
            with psycopg.connect(self.conninfo(), autocommit=True) as connection:
                self.server_version = connection.info.server_version
        except psycopg.Error as error:
            raise RestoreSetupError(
                f"Cannot connect to the scratch server {self._where()}: {_first_line(error)}."
            ) from None
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.keep:
            return
        with signals_deferred():
            failures = []
            for name in list(reversed(self.created)):
                try:
                    self._drop(name)
                except psycopg.Error as problem:
                    failures.append(f"{name}: {_first_line(problem)}")
                else:
                    self.created.remove(name)
            if not self.created and self._login_made:
                failures.extend(self._drop_roles())
        if failures:
            message = (
                f"Could not drop the drill database(s) on the scratch server {self._where()}; "
                f"drop them by hand: {'; '.join(failures)}."
            )
            if error is not None and not isinstance(error, Exception):
                # Ctrl-C or SIGTERM is already ending drill: say it, but do not hide why it ends.
                _logger.warning(message)
                return
            raise RestoreSetupError(message)

    def conninfo(self, dbname: str = MAINTENANCE_DATABASE, login: Login | None = None) -> str:
        """A libpq string for psycopg, as the DSN's role or as ``login``. It holds a password: never log it."""
        params = {**self._params, "dbname": dbname}
        if login is not None:
            params.pop("password", None)
            params.update(user=login.role, **({"password": login.password} if login.password else {}))
        return make_conninfo("", **params)

    def env(self, login: Login) -> dict[str, str]:
        """Libpq variables for client programs, as ``login``: its password in PGPASSWORD, never in
        argv, and never the DSN's own."""
        names = _env_names()
        public = {
            key: value for key, value in self._params.items() if key not in ("dbname", "user", "password")
        }
        env = {names[key]: value for key, value in public.items() if key in names}
        env["PGUSER"] = login.role
        if login.password:
            env["PGPASSWORD"] = login.password
        return env

    def adopt_roles(self, roles: tuple[str, ...]) -> None:
        self.roles.extend(roles)

    def database_for(self, name: str) -> str:
        """Create a new database for the drill of ``name``; refuse if the generated name exists."""
        database = _unique_name(name)
        try:
            with psycopg.connect(self.conninfo(), autocommit=True) as connection:
                exists = connection.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
                ).fetchone()
                if exists:
                    raise RestoreSetupError(
                        f"Database {database} already exists on the scratch server {self._where()}; "
                        "drill never restores into or drops a database it did not create."
                    )
                create_login(self.conninfo(), self.login)
                self._login_made = True
                connection.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(database), sql.Identifier(self.login.role)
                    )
                )
        except errors.DuplicateDatabase:
            raise RestoreSetupError(
                f"Database {database} was created by someone else on the scratch server "
                f"{self._where()} at the same moment; drill leaves it alone."
            ) from None
        except errors.InsufficientPrivilege as error:
            raise RestoreSetupError(
                f"The DSN's role cannot create the restore role and its database on the scratch server "
                f"{self._where()} ({_first_line(error)}); it needs CREATEDB and CREATEROLE (a superuser "
                "of the disposable server also allows the extensions PostgreSQL does not mark trusted)."
            ) from None
        except psycopg.Error as error:
            raise RestoreSetupError(
                f"Cannot create database {database} on the scratch server {self._where()}: "
                f"{_first_line(error)}."
            ) from None
        self.created.append(database)
        return database

    @property
    def database(self) -> str | None:
        """The database created last, if any."""
        return self.created[-1] if self.created else None

    def connect_hint(self, dbname: str | None = None) -> str:
        name = dbname or self.database or MAINTENANCE_DATABASE
        public = {key: value for key, value in self._params.items() if key != "password"}
        where = make_conninfo("", **{**public, "dbname": name})
        drop = make_conninfo("", **public)
        statement = sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)).as_string()
        return (
            f"Database {name} was kept on the scratch server. Connect with: psql {shlex.quote(where)} "
            "(the password is the DSN's)\n"
            f"Drop it when done with: psql {shlex.quote(drop)} -c {shlex.quote(statement)}"
        )

    def _drop(self, name: str) -> None:
        with psycopg.connect(self.conninfo(), autocommit=True) as connection:
            identifier = sql.Identifier(name)
            if connection.info.server_version >= _FORCE_DROP_SINCE:
                connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
                return
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(identifier))

    def _drop_roles(self) -> list[str]:
        """Drop the roles made for this drill, stand-ins first; what fails is named, not raised."""
        failures = []
        roles = [*reversed(self.roles), self.login.group, self.login.role]
        try:
            with psycopg.connect(self.conninfo(), autocommit=True) as connection:
                for role in roles:
                    try:
                        connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
                    except psycopg.Error as problem:
                        failures.append(f"role {role}: {_first_line(problem)}")
        except psycopg.Error as problem:
            failures.append(f"roles {', '.join(roles)}: {_first_line(problem)}")
        self.roles.clear()
        return failures

    def _where(self) -> str:
        """host:port, for messages; never the user or password."""
        host = self._params.get("host") or self._params.get("hostaddr") or "(libpq default host)"
        port = self._params.get("port")
        return f"{host}:{port}" if port else host


def _unique_name(name: str) -> str:
    """``drill_<name>_<UTC time>_<random>``, lower case (so it needs no quoting), at most 63 bytes."""
    slug = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or "db"
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    tail = f"_{stamp}_{secrets.token_hex(3)}"
    return f"drill_{slug}"[: _MAX_IDENTIFIER - len(tail)] + tail


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0].rstrip(".")
