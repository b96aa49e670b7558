"""Whether the pg_restore (or psql) of a given PostgreSQL major can restore a dump, and if not, why not."""

from __future__ import annotations

import re

from drill.restore.formats import DumpFormat, DumpInfo

# The newest archive version each pg_restore reads (K_VERS_MAX keeps the revision open: x.y.255).
# K_VERS_1_12 came with 9.0, 1_13 with 11, 1_14 (tableam) with 12, 1_15 (compression algorithm
# in the header) with 16, 1_16 (BLOB METADATA, relkind) with 17; 18 still writes 1.16.
_READS_UP_TO: tuple[tuple[int, tuple[int, int]], ...] = (
    (17, (1, 16)),
    (16, (1, 15)),
    (12, (1, 14)),
    (11, (1, 13)),
    (9, (1, 12)),
)
_KNOWN_UP_TO_MAJOR = 18  # beyond this, assume a pg_restore reads every archive version named here
_FIRST_WRITER = {(1, 12): 9, (1, 13): 11, (1, 14): 12, (1, 15): 16, (1, 16): 17}
_MAJOR = re.compile(r"\d+")


def restorable_by(info: DumpInfo, pg_restore_major: int) -> str | None:
    """None when the local client binaries of ``pg_restore_major`` can restore the dump, else why not."""
    dump_major = _major(info.dump_version)
    if info.format is DumpFormat.PLAIN:
        if dump_major is not None and dump_major > pg_restore_major:
            return (
                f"The plain SQL dump was made by pg_dump {info.dump_version}, newer than PostgreSQL "
                f"{pg_restore_major} here, and its SQL may use what {pg_restore_major} lacks; install "
                f"PostgreSQL {dump_major} or newer binaries."
            )
        return None
    if dump_major is not None and dump_major > pg_restore_major:
        return (
            f"The dump was made by pg_dump {info.dump_version}, newer than pg_restore {pg_restore_major} "
            f"here; install PostgreSQL {dump_major} or newer client binaries."
        )
    readable = newest_archive_readable(pg_restore_major)
    if info.archive_version is not None and readable is not None and info.archive_version[:2] > readable:
        version = ".".join(str(part) for part in info.archive_version[:2])
        writer = _FIRST_WRITER.get((info.archive_version[0], info.archive_version[1]))
        needed = (
            f"install PostgreSQL {writer} or newer client binaries"
            if writer
            else f"it is newer than any PostgreSQL up to {_KNOWN_UP_TO_MAJOR} writes"
        )
        return (
            f"The dump's archive version {version} is newer than pg_restore {pg_restore_major} reads "
            f"(up to {readable[0]}.{readable[1]}); {needed}."
        )
    return None


def newest_archive_readable(pg_restore_major: int) -> tuple[int, int] | None:
    """The newest archive version (major, minor) that pg_restore of that major reads; None if unknown."""
    if pg_restore_major > _KNOWN_UP_TO_MAJOR:
        return None
    for first_major, version in _READS_UP_TO:
        if pg_restore_major >= first_major:
            return version
    return None


def _major(version: str | None) -> int | None:
    match = _MAJOR.match(version or "")
    return int(match.group()) if match else None
