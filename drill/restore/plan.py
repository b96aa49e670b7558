"""What a dump needs before it is restored, read from it without running any of it.

An archive's table of contents (drill.restore.toc) names its extensions, the roles its policies
name, and for a directory dump the files pg_restore will open, each of which must be a plain file
inside the dump. A plain dump is scanned once for its roles and extensions, and pg_dump's own
``\\restrict`` pair is disarmed so that drill's own takes its place (drill.restore.plain); a psql
too old for ``\\restrict`` gets no plain dump.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from drill.restore import plain
from drill.restore.formats import DumpFormat, DumpInfo
from drill.restore.toc import Extension, TocEntry, UnsafeDumpError, check_data_files, extensions, read_toc

_ROLE_NAMING = ("POLICY", "USER MAPPING")


@dataclass(frozen=True)
class RestorePlan:
    format: DumpFormat
    path: Path
    roles: frozenset[str]
    extensions: tuple[Extension, ...]
    entries: tuple[TocEntry, ...] = ()  # archives only

    def use_list(self, directory: Path, leave_out_schemas: Collection[str]) -> Path | None:
        """A pg_restore ``--use-list`` without the dump's CREATE SCHEMA for schemas drill made
        itself (for an extension it had to create first); None when nothing is left out."""
        if not leave_out_schemas:
            return None
        kept = [
            entry for entry in self.entries if not (entry.desc == "SCHEMA" and entry.tag in leave_out_schemas)
        ]
        listing = directory / "restore.list"
        # pg_restore reads each line's leading dump id; the order given is the order restored.
        listing.write_text("".join(f"{entry.dump_id};\n" for entry in kept), encoding="utf-8")
        return listing


def plan_restore(path: Path, info: DumpInfo, psql_version: str) -> RestorePlan:
    """Raise UnsafeDumpError (or NotADumpError, TruncatedDumpError for a corrupt archive) when the
    dump must not be restored as it is."""
    if info.format is DumpFormat.PLAIN:
        refusal = plain.psql_refusal(psql_version)
        if refusal:
            raise UnsafeDumpError(refusal)
        scanned = plain.scan(path)
        plain.disarm_own_restrict(path)
        return RestorePlan(info.format, path, scanned.roles, scanned.extensions)
    entries = read_toc(path, info)
    if info.format is DumpFormat.DIRECTORY:
        check_data_files(path, entries)
    roles: set[str] = set()
    for entry in entries:
        if entry.desc in _ROLE_NAMING and entry.defn:
            roles.update(plain.roles_in(entry.defn.encode("utf-8")))
    return RestorePlan(info.format, path, frozenset(roles), tuple(extensions(entries)), entries)
