"""Which extensions a snapshot may have, and who creates them.

The restore role is not a superuser, so it can create only the extensions PostgreSQL marks
trusted (``trusted = true`` in the control file: pg_trgm, hstore, citext, pgcrypto, ...); the dump
creates those itself, as it says. Any other extension would need a superuser: drill creates it
beforehand, as the scratch server's superuser, only when it is on the allow-list: the contrib
extensions below, which give no access to server files, programs or the network, and what
``[restore] allowed_extensions`` adds. Anything else fails the drill, naming the extension and
the key that allows it. Never allowed by default: adminpack and file_fdw (server files), dblink
and postgres_fdw (the network), untrusted languages (plperlu, plpython3u, pltclu: programs), and
the contrib modules that read WAL or raw pages or rewrite heap tuples.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from drill.restore.toc import Extension

CONFIG_KEY = "[restore] allowed_extensions"
# Not trusted by PostgreSQL, yet harmless in a throwaway database: functions over the database's
# own data, trigger helpers and index methods.
DEFAULT_CONTRIB = frozenset(
    {
        "amcheck",
        "autoinc",
        "bloom",
        "dict_xsyn",
        "earthdistance",
        "insert_username",
        "intagg",
        "moddatetime",
        "pg_buffercache",
        "pg_freespacemap",
        "pg_stat_statements",
        "pg_visibility",
        "pgrowlocks",
        "pgstattuple",
        "refint",
    }
)


class Who(enum.StrEnum):
    DUMP = "dump"  # trusted or already there: the restore role creates (or skips) it as the dump says
    DRILL = "drill"  # allowed but untrusted: drill's superuser creates it before the restore


@dataclass(frozen=True)
class Decision:
    extension: Extension
    who: Who | None  # None: refused, see ``refusal``
    refusal: str | None = None


def decide(
    extension: Extension,
    available: Mapping[str, bool],
    installed: Collection[str],
    allowed: Collection[str],
) -> Decision:
    """``available``: the server's extensions and whether each is trusted; ``installed``: those the
    fresh database already has (plpgsql); ``allowed``: ``[restore] allowed_extensions``."""
    name = extension.name
    if name in installed:
        return Decision(extension, Who.DUMP)
    if name not in available:
        return Decision(
            extension,
            None,
            f"the dump needs extension {name!r}, which the PostgreSQL installation drill restores "
            "with does not have (it is not in pg_available_extensions); install its package where "
            "drill runs, or point [restore] bin_dir at an installation that has it.",
        )
    if available[name]:
        return Decision(extension, Who.DUMP)
    if name in DEFAULT_CONTRIB or name in allowed:
        return Decision(extension, Who.DRILL)
    return Decision(
        extension,
        None,
        f"the dump needs extension {name!r}, which drill does not create for a snapshot: PostgreSQL "
        "does not mark it trusted, and it is not among the contrib extensions drill allows because "
        "they give no access to server files, programs or the network. If you trust what it can do "
        f'in a restore of an untrusted snapshot, allow it with {CONFIG_KEY} = ["{name}"].',
    )
