"""Where a drill restores into, as the runner sees it: a throwaway cluster (drill.restore.scratch)
or one new database on an existing disposable server (drill.restore.dsn)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from drill.restore.access import Login


class ScratchTarget(Protocol):
    """Where a drill restores into: a throwaway cluster, or one database on an existing server."""

    @property
    def login(self) -> Login:
        """The restore role the snapshot's SQL and drill's verification run as."""
        ...

    @property
    def disk_root(self) -> Path | None:
        """The local directory the restored database grows in; None for a remote server."""
        ...

    def conninfo(self, dbname: str = "postgres", login: Login | None = None) -> str:
        """A libpq keyword string for psycopg, as drill's superuser or as ``login``; may hold a
        password, so never log it."""
        ...

    def env(self, login: Login) -> dict[str, str]:
        """Variables that point client programs (pg_restore, psql) at the server as ``login``."""
        ...

    def database_for(self, name: str) -> str:
        """Create a fresh database for the drill of database ``name``, owned by the restore role,
        and return its name."""
        ...

    def adopt_roles(self, roles: tuple[str, ...]) -> None:
        """Roles created for a drill, to be dropped with the target (a remote server keeps nothing)."""
        ...

    def connect_hint(self, dbname: str | None = None) -> str:
        """How a person connects to what was kept, and how to get rid of it."""
        ...
