"""Recognise a PostgreSQL dump by its content, and read what its header says about who wrote it.

The name of a snapshot proves nothing (``nightly.sql`` may hold a custom-format archive), so
every decision here reads bytes. The archive header is parsed the way pg_restore's ``ReadHead``
(src/bin/pg_dump/pg_backup_archiver.c) reads it:

    "PGDMP" vmaj vmin vrev intSize offSize(>= 1.7) format
    compression: a byte (>= 1.15: the algorithm), else an int (>= 1.4: the zlib level)
    7 ints: the creation time (>= 1.4), then the database name as a string
    2 strings: the server's and pg_dump's versions (>= 1.10)

An int is a sign byte and then ``intSize`` bytes, least significant first; a string is an int
length (-1 for none) and then that many bytes. A directory dump's ``toc.dat`` and a tar dump's
first member carry the same header, with the tar format code (3) in both: pg_backup_directory.c
writes "tar" there on purpose, so the code cannot tell the two apart; the files around it can.
"""

from __future__ import annotations

import codecs
import enum
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

_MAGIC = b"PGDMP"
_TAR_MAGIC = b"ustar"
_TAR_MAGIC_AT = 257
_TOC = "toc.dat"
_HEADER_READ = 8192  # a header is a few hundred bytes; its three strings are names and versions
_TEXT_PROBE = 1024
_PLAIN_HEADER_READ = 65536

# ArchiveFormat in pg_backup.h. The directory format never appears here: its toc.dat says "tar".
_FORMAT_CUSTOM = 1
_FORMAT_TAR = 3

# pg_compress_algorithm in common/compression.h, written as one byte from archive version 1.15.
_ALGORITHMS = {0: "none", 1: "gzip", 2: "lz4", 3: "zstd"}

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
_MAJOR = re.compile(r"\d+")
_WORD = re.compile(r"[A-Za-z]+")

# What other files start with, to say what was found instead of a dump.
_LOOKALIKES: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip-compressed data; decompress it before detecting the format"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data; decompress it before detecting the format"),
    (b"\xfd7zXZ\x00", "xz-compressed data, which drill does not decompress (gzip and zstd only)"),
    (b"BZh", "bzip2-compressed data, which drill does not decompress (gzip and zstd only)"),
    (b"\x04\x22\x4d\x18", "lz4-compressed data, which drill does not decompress (gzip and zstd only)"),
    (b"PK\x03\x04", "a zip archive"),
    (b"\x7fELF", "an ELF executable"),
    (b"%PDF", "a PDF document"),
)


class NotADumpError(Exception):
    """The content is not a PostgreSQL dump; the message says what its first bytes look like."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class TruncatedDumpError(Exception):
    """The archive ends before its header does."""


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


@dataclass(frozen=True)
class ArchiveHeader:
    """The fields of a pg_dump archive header, as ReadHead reads them."""

    version: tuple[int, int, int]
    int_size: int
    offset_size: int
    format_code: int
    data_compression: str
    database: str | None
    server_version: str | None
    dump_version: str | None
    length: int  # bytes the header takes; the TOC follows


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
    if head.startswith(_MAGIC):
        return _custom(head)
    if head[_TAR_MAGIC_AT : _TAR_MAGIC_AT + len(_TAR_MAGIC)] == _TAR_MAGIC:
        return _tar(path)
    return _plain(head)


def parse_header(data: bytes) -> ArchiveHeader:
    """Parse an archive header from the start of ``data``.

    Raises TruncatedDumpError when ``data`` ends inside the header (give it the whole file's
    first few KB: then that means the file does), NotADumpError when a field is impossible.
    """
    return _HeaderReader(data).read()


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


def _leading_token(value: str | None) -> str | None:
    """ "15.18 (Debian 15.18-0+deb12u1)" -> "15.18"; empty stays None."""
    if not value:
        return None
    token = value.split(maxsplit=1)
    return token[0] if token else None


class _HeaderReader:
    """ReadHead over a bytes buffer; every read past the end means the header is cut short."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0
        self.int_size = 4
        self.version = (1, 0, 0)

    def read(self) -> ArchiveHeader:
        if self._bytes(len(_MAGIC)) != _MAGIC:
            raise NotADumpError("not a PostgreSQL archive: it lacks the PGDMP magic.")
        vmaj, vmin = self._byte(), self._byte()
        vrev = self._byte() if (vmaj, vmin) > (1, 0) else 0
        self.version = (vmaj, vmin, vrev)
        if vmaj != 1:
            raise NotADumpError(f"the archive header names version {vmaj}.{vmin}, which no pg_restore reads.")
        self.int_size = self._byte()
        if not 1 <= self.int_size <= 32:  # ReadHead's own sanity check is "> 32"
            raise NotADumpError(f"the archive header is corrupt: an integer size of {self.int_size} bytes.")
        offset_size = self._byte() if self.version >= (1, 7, 0) else self.int_size
        format_code = self._byte()
        compression = self._compression()
        database = None
        if self.version >= (1, 4, 0):
            for _ in range(7):  # tm_sec, tm_min, tm_hour, tm_mday, tm_mon, tm_year, tm_isdst
                self._int()
            database = self._str()
        server_version = dump_version = None
        if self.version >= (1, 10, 0):
            server_version = self._str()
            dump_version = self._str()
        return ArchiveHeader(
            version=self.version,
            int_size=self.int_size,
            offset_size=offset_size,
            format_code=format_code,
            data_compression=compression,
            database=database,
            server_version=_leading_token(server_version),
            dump_version=_leading_token(dump_version),
            length=self.at,
        )

    def _compression(self) -> str:
        if self.version >= (1, 15, 0):
            code = self._byte()
            return _ALGORITHMS.get(code, f"unknown algorithm {code}")
        if self.version >= (1, 2, 0):
            level = self._byte() if self.version < (1, 4, 0) else self._int()
            return "none" if level == 0 else "gzip"
        return "gzip"

    def _bytes(self, count: int) -> bytes:
        end = self.at + count
        if end > len(self.data):
            raise TruncatedDumpError("the dump ends inside its header.")
        piece = self.data[self.at : end]
        self.at = end
        return piece

    def _byte(self) -> int:
        return self._bytes(1)[0]

    def _int(self) -> int:
        negative = self._byte() if self.version > (1, 0, 0) else 0
        value = int.from_bytes(self._bytes(self.int_size), "little")
        return -value if negative else value

    def _str(self) -> str | None:
        length = self._int()
        if length < 0:
            return None
        if length > _HEADER_READ:
            raise NotADumpError(f"the archive header is corrupt: it names a string of {length} bytes.")
        return self._bytes(length).decode("utf-8", errors="replace")


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
    if header.format_code == _FORMAT_CUSTOM:
        return _archive_info(header, DumpFormat.CUSTOM)
    if header.format_code == _FORMAT_TAR:
        raise NotADumpError(
            "a lone toc.dat of a directory or tar dump: the table of contents without its data files."
        )
    raise NotADumpError(
        f"the archive header names format code {header.format_code}, which pg_restore does not know."
    )


def _toc_header(toc: IO[bytes], where: str) -> ArchiveHeader:
    head = toc.read(_HEADER_READ)
    if not head.startswith(_MAGIC):
        raise NotADumpError(f"{where} does not start with PGDMP: {_describe(head)}")
    return parse_header(head)


def _directory(path: Path) -> DumpInfo:
    toc = path / _TOC
    if not toc.is_file():
        raise NotADumpError(f"the directory {path.name} holds no toc.dat, so it is not a directory dump.")
    with toc.open("rb") as file:
        header = _toc_header(file, "its toc.dat")
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
                header = _toc_header(extracted, f"its {toc.name}")
    except tarfile.TarError as error:
        raise NotADumpError(f"a damaged tar archive: {error}.") from None
    if pg_dump_tar:
        return _archive_info(header, DumpFormat.TAR)
    return _archive_info(header, DumpFormat.DIRECTORY, tarred=True)


def _plain(head: bytes) -> DumpInfo:
    probe = head[:_TEXT_PROBE]
    text = _utf8_prefix(probe)
    if text is None or "\x00" in text:
        raise NotADumpError(f"not a PostgreSQL dump: {_describe(head)}")
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


def _describe(head: bytes) -> str:
    """What the first bytes look like: 'starts with bytes 7f 45 4c 46 (an ELF executable).'"""
    if not head:
        return "it is empty."
    shown = " ".join(f"{byte:02x}" for byte in head[:4])
    for magic, name in _LOOKALIKES:
        if head.startswith(magic):
            return f"starts with bytes {shown} ({name})."
    return f"starts with bytes {shown}."
