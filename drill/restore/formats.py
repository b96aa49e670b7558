"""Recognise a PostgreSQL dump by its content, and read what its header says about who wrote it.

The name of a snapshot proves nothing (``nightly.sql`` may hold a custom-format archive), so
every decision here reads bytes. A custom-format archive starts with the archive header
(drill.restore.archive_header); a directory dump's ``toc.dat`` and a tar dump's first member carry
the same header, with the tar format code (3) in both: pg_backup_directory.c writes "tar" there on
purpose, so the code cannot tell the two apart; the files around it can.
"""

from __future__ import annotations

import codecs
import enum
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from drill.restore.archive_header import (
    FORMAT_CUSTOM,
    FORMAT_TAR,
    MAGIC,
    ArchiveHeader,
    NotADumpError,
    describe,
    parse_header,
    read_toc_header,
)

_TAR_MAGIC = b"ustar"
_TAR_MAGIC_AT = 257
_TOC = "toc.dat"
_TEXT_PROBE = 1024
_PLAIN_HEADER_READ = 65536

# fmt: off
_SQL_STARTS = frozenset({
    "abort", "alter", "analyze", "begin", "call", "checkpoint", "close", "cluster", "comment", "commit",
    "copy", "create", "deallocate", "declare", "delete", "discard", "do", "drop", "end", "execute",
    "explain", "fetch", "grant", "import", "insert", "listen", "load", "lock", "merge", "move", "notify",
    "prepare", "reassign", "refresh", "reindex", "release", "reset", "revoke", "rollback", "savepoint",
    "security", "select", "set", "show", "start", "table", "truncate", "unlisten", "update", "vacuum",
    "values", "with",
})
# fmt: on
_DUMPED_BY = re.compile(rb"^-- Dumped by pg_dump(?:all)? version (\S+)", re.MULTILINE)
_DUMPED_FROM = re.compile(rb"^-- Dumped from database version (\S+)", re.MULTILINE)
_WORD = re.compile(r"[A-Za-z]+")


class DumpFormat(enum.StrEnum):
    CUSTOM = "custom"  # pg_dump -Fc: one file, starts with PGDMP
    DIRECTORY = "directory"  # pg_dump -Fd: a directory holding toc.dat and one file per table
    TAR = "tar"  # pg_dump -Ft: a tar archive whose first member is toc.dat
    PLAIN = "plain"  # SQL text for psql


class Compression(enum.StrEnum):
    """How a snapshot is wrapped as stored, around the dump itself."""

    NONE = "none"
    GZIP = "gzip"
    ZSTD = "zstd"


_COMPRESSION_MAGIC = {Compression.GZIP: b"\x1f\x8b", Compression.ZSTD: b"\x28\xb5\x2f\xfd"}


@dataclass(frozen=True)
class DumpInfo:
    """What the dump's own bytes say. Versions are the leading token of what pg_dump wrote ("15.18")."""

    format: DumpFormat
    archive_version: tuple[int, int, int] | None  # None for plain SQL
    dump_version: str | None  # the pg_dump that wrote it, where the dump records it
    server_version: str | None = None  # the server it was dumped from
    database: str | None = None  # the dumped database; plain dumps do not name it
    data_compression: str | None = None  # inside the archive: none | gzip | lz4 | zstd
    tarred_directory: bool = False  # a tar of a -Fd directory: extract it, then restore the directory


def sniff_compression(head: bytes) -> Compression:
    """The wrapper the first bytes announce; NONE when they announce neither gzip nor zstd."""
    for compression, magic in _COMPRESSION_MAGIC.items():
        if head.startswith(magic):
            return compression
    return Compression.NONE


def detect(path: Path) -> DumpInfo:
    """Recognise the dump at ``path`` (a file, or a directory dump) from its content alone."""
    if path.is_dir():
        return _directory(path)
    with path.open("rb") as file:
        head = file.read(_PLAIN_HEADER_READ)
    if not head:
        raise NotADumpError("the file is empty.")
    if head.startswith(MAGIC):
        return _custom(head)
    if head[_TAR_MAGIC_AT : _TAR_MAGIC_AT + len(_TAR_MAGIC)] == _TAR_MAGIC:
        return _tar(path)
    return _plain(head)


def _archive_info(header: ArchiveHeader, dump_format: DumpFormat, *, tarred: bool = False) -> DumpInfo:
    return DumpInfo(
        format=dump_format,
        archive_version=header.version,
        dump_version=header.dump_version,
        server_version=header.server_version,
        database=header.database,
        data_compression=header.data_compression,
        tarred_directory=tarred,
    )


def _custom(head: bytes) -> DumpInfo:
    header = parse_header(head)
    if header.format_code == FORMAT_CUSTOM:
        return _archive_info(header, DumpFormat.CUSTOM)
    if header.format_code == FORMAT_TAR:
        raise NotADumpError(
            "a lone toc.dat of a directory or tar dump: the table of contents without its data files."
        )
    raise NotADumpError(
        f"the archive header names format code {header.format_code}, which pg_restore does not know."
    )


def _directory(path: Path) -> DumpInfo:
    toc = path / _TOC
    if not toc.is_file():
        raise NotADumpError(f"the directory {path.name} holds no toc.dat, so it is not a directory dump.")
    with toc.open("rb") as file:
        header = read_toc_header(file, "its toc.dat")
    return _archive_info(header, DumpFormat.DIRECTORY)


# pg_dump -Fd compresses each table's file; -Ft never compresses, so such a name means a directory.
_COMPRESSED_DATA = re.compile(r"\.dat\.(?:gz|lz4|zst)$")


def tar_toc_member(archive: tarfile.TarFile) -> tuple[tarfile.TarInfo, bool]:
    """The archive's toc.dat member, and whether the archive is a pg_dump -Ft one.

    -Ft puts toc.dat first, every member at the top level, and never compresses a member;
    pg_restore reads only that layout. Any other tar holding one toc.dat is a packed -Fd directory.
    """
    members = archive.getmembers()
    tocs = [member for member in members if member.isfile() and PurePosixPath(member.name).name == _TOC]
    if not tocs:
        raise NotADumpError("a tar archive without a toc.dat: not a pg_dump tar or directory dump.")
    if len(tocs) > 1:
        names = ", ".join(member.name for member in tocs[:3])
        raise NotADumpError(f"a tar archive holding {len(tocs)} dumps ({names}); drill restores one.")
    first = next((member for member in members if not member.isdir()), None)
    pg_dump_tar = (
        first is tocs[0]
        and first.name == _TOC
        and all("/" not in member.name for member in members)
        and not any(_COMPRESSED_DATA.search(member.name) for member in members)
    )
    return tocs[0], pg_dump_tar


def _tar(path: Path) -> DumpInfo:
    try:
        with tarfile.open(path, mode="r:") as archive:
            toc, pg_dump_tar = tar_toc_member(archive)
            extracted = archive.extractfile(toc)
            assert extracted is not None  # a regular file
            with extracted:
                header = read_toc_header(extracted, f"its {toc.name}")
    except tarfile.TarError as error:
        raise NotADumpError(f"a damaged tar archive: {error}.") from None
    if pg_dump_tar:
        return _archive_info(header, DumpFormat.TAR)
    return _archive_info(header, DumpFormat.DIRECTORY, tarred=True)


def _plain(head: bytes) -> DumpInfo:
    probe = head[:_TEXT_PROBE]
    text = _utf8_prefix(probe)
    if text is None or "\x00" in text:
        raise NotADumpError(f"not a PostgreSQL dump: {describe(head)}")
    if not _looks_like_sql(text):
        snippet = " ".join(text.split())[:40]
        raise NotADumpError(f"not a PostgreSQL dump: text that does not read as SQL, starting {snippet!r}.")
    dumped_by = _DUMPED_BY.search(head)
    dumped_from = _DUMPED_FROM.search(head)
    return DumpInfo(
        format=DumpFormat.PLAIN,
        archive_version=None,
        dump_version=dumped_by.group(1).decode("ascii", errors="replace") if dumped_by else None,
        server_version=dumped_from.group(1).decode("ascii", errors="replace") if dumped_from else None,
    )


def _utf8_prefix(probe: bytes) -> str | None:
    """The probe as text if it is UTF-8, forgiving one character cut in half at its end."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        return decoder.decode(probe, final=False)
    except UnicodeDecodeError:
        return None


def _looks_like_sql(text: str) -> bool:
    """Comments, then a statement keyword or a psql meta-command (pg_dump writes \\restrict, \\connect)."""
    rest = text.lstrip("\ufeff")
    while True:
        rest = rest.lstrip()
        if rest.startswith("--"):
            newline = rest.find("\n")
            if newline < 0:
                return True  # all comments as far as the probe reaches
            rest = rest[newline + 1 :]
        elif rest.startswith("/*"):
            end = rest.find("*/")
            if end < 0:
                return True
            rest = rest[end + 2 :]
        else:
            break
    if not rest:
        return True
    if rest.startswith("\\"):
        return True
    word = _WORD.match(rest)
    return word is not None and word.group().lower() in _SQL_STARTS
