"""A pg_dump archive header, read the way pg_restore's ``ReadHead`` (src/bin/pg_dump/pg_backup_archiver.c)
reads it:

    "PGDMP" vmaj vmin vrev intSize offSize(>= 1.7) format
    compression: a byte (>= 1.15: the algorithm), else an int (>= 1.4: the zlib level)
    7 ints: the creation time (>= 1.4), then the database name as a string
    2 strings: the server's and pg_dump's versions (>= 1.10)

An int is a sign byte and then ``intSize`` bytes, least significant first; a string is an int
length (-1 for none) and then that many bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

MAGIC = b"PGDMP"
HEADER_READ = 8192  # a header is a few hundred bytes; its three strings are names and versions

# ArchiveFormat in pg_backup.h. The directory format never appears here: its toc.dat says "tar".
FORMAT_CUSTOM = 1
FORMAT_TAR = 3

# pg_compress_algorithm in common/compression.h, written as one byte from archive version 1.15.
_ALGORITHMS = {0: "none", 1: "gzip", 2: "lz4", 3: "zstd"}

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


def parse_header(data: bytes) -> ArchiveHeader:
    """Parse an archive header from the start of ``data``.

    Raises TruncatedDumpError when ``data`` ends inside the header (give it the whole file's
    first few KB: then that means the file does), NotADumpError when a field is impossible.
    """
    return _HeaderReader(data).read()


def read_toc_header(toc: IO[bytes], where: str) -> ArchiveHeader:
    """The header at the start of a directory or tar dump's toc.dat; ``where`` names it in errors."""
    head = toc.read(HEADER_READ)
    if not head.startswith(MAGIC):
        raise NotADumpError(f"{where} does not start with PGDMP: {describe(head)}")
    return parse_header(head)


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
        if self._bytes(len(MAGIC)) != MAGIC:
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
        if length > HEADER_READ:
            raise NotADumpError(f"the archive header is corrupt: it names a string of {length} bytes.")
        return self._bytes(length).decode("utf-8", errors="replace")


def describe(head: bytes) -> str:
    """What the first bytes look like: 'starts with bytes 7f 45 4c 46 (an ELF executable).'"""
    if not head:
        return "it is empty."
    shown = " ".join(f"{byte:02x}" for byte in head[:4])
    for magic, name in _LOOKALIKES:
        if head.startswith(magic):
            return f"starts with bytes {shown} ({name})."
    return f"starts with bytes {shown}."
