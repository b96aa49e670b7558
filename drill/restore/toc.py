"""The table of contents of a pg_dump archive, read the way pg_restore's ``ReadToc`` reads it
(src/bin/pg_dump/pg_backup_archiver.c), and the checks drill makes on it before pg_restore runs.

Each entry is: dumpId, hadDumper, tableoid (>= 1.8), oid, tag, desc, section (>= 1.11), defn,
dropStmt, copyStmt (>= 1.3), namespace (>= 1.6), tablespace (>= 1.10), tableam (>= 1.14),
relkind (an int, >= 1.16), owner, "false" (withOids, >= 1.9), dependencies (strings ending in a
null one, >= 1.5), then what the format adds: the custom format an offset, the directory and tar
formats the name of the file holding the entry's data.

A directory dump's file names are the snapshot's to choose, and pg_restore opens ``<dir>/<name>``:
a name such as ``../../etc/shadow`` would be read as table data. ``check_data_files`` refuses any
name that is not one plain file inside the dump directory, before pg_restore starts.
"""

from __future__ import annotations

import re
import stat
import tarfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from drill.restore.archive_header import (
    HEADER_READ,
    ArchiveHeader,
    NotADumpError,
    TruncatedDumpError,
    parse_header,
)
from drill.restore.formats import DumpFormat, DumpInfo, tar_toc_member

_KEPT = frozenset({"EXTENSION", "SCHEMA", "POLICY", "USER MAPPING", "BLOBS", "BLOB METADATA"})
_SKIP_IN_MEMORY = 1 << 20  # longer strings are skipped over, never held
_COMPRESSED_SUFFIXES = ("", ".gz", ".lz4", ".zst")  # pg_restore opens the first that exists
_BLOB_TOC_LINE_LIMIT = 4096
_BLOB_LINE = re.compile(rb"^(\d+) (\S+)\n?$")
_EXTENSION = re.compile(
    r'CREATE EXTENSION (?:IF NOT EXISTS )?("(?:[^"]|"")+"|[^\s;]+)(?: WITH SCHEMA ("(?:[^"]|"")+"|[^\s;]+))?'
)


class UnsafeDumpError(Exception):
    """The dump asks pg_restore to do something drill refuses; the message says what and why."""


@dataclass(frozen=True)
class TocEntry:
    """One entry, with what drill uses of it; ``defn`` is kept only for the kinds drill reads."""

    dump_id: int
    desc: str
    tag: str
    namespace: str | None
    owner: str | None
    defn: str | None = None
    filename: str | None = None  # directory and tar formats: the file holding the entry's data


@dataclass(frozen=True)
class Extension:
    name: str
    schema: str | None  # None: the dump leaves it to the extension's default


def read_toc(path: Path, info: DumpInfo) -> tuple[TocEntry, ...]:
    """The entries of the archive at ``path`` (a custom file, a directory dump, a tar dump)."""
    with _toc_stream(path, info) as (stream, size):
        header = parse_header(stream.read(HEADER_READ))
        stream.seek(header.length)
        return tuple(_TocReader(stream, header, size, info.format).entries())


def extensions(entries: Iterable[TocEntry]) -> list[Extension]:
    found = []
    for entry in entries:
        if entry.desc == "EXTENSION":
            schema = extension_schema(entry.defn or "")
            found.append(Extension(entry.tag, schema))
    return found


def extension_schema(statement: str) -> str | None:
    match = _EXTENSION.search(statement)
    return _identifier(match.group(2)) if match and match.group(2) else None


def _identifier(text: str) -> str:
    if text.startswith('"'):
        return text[1:-1].replace('""', '"')
    return text.lower()


def check_data_files(directory: Path, entries: Iterable[TocEntry]) -> None:
    """Every file a directory dump's toc.dat (or its blobs TOC) names must be one plain file in it."""
    blob_tocs: set[str] = set()
    for entry in entries:
        if entry.filename is None:
            continue
        _check_name(directory, entry.filename, f"{entry.desc} {entry.tag}")
        if entry.desc in ("BLOBS", "BLOB METADATA"):
            blob_tocs.add(entry.filename)
    if blob_tocs:
        # pg_restore 16 and older read "blobs.toc" whatever the entry says; 17 reads the entry's.
        blob_tocs.add("blobs.toc")
    for name in sorted(blob_tocs):
        for blob_file in _blob_files(directory / name, name):
            _check_name(directory, blob_file, f"a large object listed in {name}")


def _check_name(directory: Path, name: str, what: str) -> None:
    shown = repr(name[:80])
    if not name or "/" in name or "\0" in name or name in (".", ".."):
        raise UnsafeDumpError(
            f"the dump's toc.dat names the data file {shown} for {what}, which is not a file inside "
            "the dump directory; drill refused to restore it."
        )
    for suffix in _COMPRESSED_SUFFIXES:
        try:
            mode = (directory / f"{name}{suffix}").lstat().st_mode
        except OSError:
            continue
        if stat.S_ISREG(mode):
            return
        raise UnsafeDumpError(
            f"the dump's data file {shown} for {what} is not a plain file; drill refused to restore it."
        )
    raise UnsafeDumpError(
        f"the dump's toc.dat names the data file {shown} for {what}, which it does not hold."
    )


def _blob_files(path: Path, name: str) -> Iterator[str]:
    """The file names a blobs TOC lists, one ``<oid> <file>`` per line (pg_backup_directory.c)."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return
    with handle:
        while line := handle.readline(_BLOB_TOC_LINE_LIMIT + 1):
            match = _BLOB_LINE.match(line)
            if len(line) > _BLOB_TOC_LINE_LIMIT or match is None:
                raise UnsafeDumpError(
                    f"the dump's {name} holds a line drill cannot read; refused to restore it."
                )
            yield match.group(2).decode("utf-8", "replace")


@contextmanager
def _toc_stream(path: Path, info: DumpInfo) -> Iterator[tuple[IO[bytes], int]]:
    if info.format is DumpFormat.DIRECTORY:
        toc = path / "toc.dat"
        with toc.open("rb") as stream:
            yield stream, toc.stat().st_size
    elif info.format is DumpFormat.TAR:
        try:
            with tarfile.open(path, mode="r:") as archive:
                member, _ = tar_toc_member(archive)
                extracted = archive.extractfile(member)
                assert extracted is not None  # a regular file
                with extracted:
                    yield extracted, member.size
        except tarfile.TarError as error:
            raise NotADumpError(f"a damaged tar archive: {error}.") from None
    else:
        with path.open("rb") as stream:
            yield stream, path.stat().st_size


class _TocReader:
    """ReadToc over a stream; a read past ``size`` means the archive is cut short or corrupt."""

    def __init__(self, stream: IO[bytes], header: ArchiveHeader, size: int, dump_format: DumpFormat) -> None:
        self.stream = stream
        self.size = size
        self.version = header.version
        self.int_size = header.int_size
        self.offset_size = header.offset_size
        self.format = dump_format

    def entries(self) -> Iterator[TocEntry]:
        count = self._int()
        if count < 0 or count > self.size:  # every entry takes more than one byte
            raise NotADumpError(f"the archive's table of contents is corrupt: it counts {count} entries.")
        for _ in range(count):
            yield self._entry()

    def _entry(self) -> TocEntry:
        v = self.version
        dump_id = self._int()
        if dump_id <= 0:
            raise NotADumpError(f"the archive's table of contents is corrupt: entry id {dump_id}.")
        self._int()  # hadDumper
        if v >= (1, 8, 0):
            self._skip_str()  # tableoid
        self._skip_str()  # oid
        tag, desc = self._str() or "", self._str() or ""
        if v >= (1, 11, 0):
            self._int()  # section
        defn = None
        if desc in _KEPT:
            defn = self._str()
        else:
            self._skip_str()
        self._skip_str()  # dropStmt
        if v >= (1, 3, 0):
            self._skip_str()  # copyStmt
        namespace = self._str() if v >= (1, 6, 0) else None
        if v >= (1, 10, 0):
            self._skip_str()  # tablespace
        if v >= (1, 14, 0):
            self._skip_str()  # tableam
        if v >= (1, 16, 0):
            self._int()  # relkind
        owner = self._str()
        if v >= (1, 9, 0):
            self._skip_str()  # withOids
        if v >= (1, 5, 0):
            while self._skip_str() is not None:  # dependencies, ending in a null string
                pass
        filename = self._extra()
        return TocEntry(dump_id, desc, tag, namespace, owner, defn, filename)

    def _extra(self) -> str | None:
        if self.format is DumpFormat.CUSTOM:
            if self.version < (1, 7, 0):
                self._int()
                self._int()
            else:
                self._bytes(1 + self.offset_size)
            return None
        name = self._str()
        return name or None

    def _bytes(self, count: int) -> bytes:
        data = self.stream.read(count)
        if len(data) < count:
            raise TruncatedDumpError("the dump ends inside its table of contents.")
        return data

    def _int(self) -> int:
        negative = self._bytes(1)[0] if self.version > (1, 0, 0) else 0
        value = int.from_bytes(self._bytes(self.int_size), "little")
        return -value if negative else value

    def _length(self) -> int | None:
        length = self._int()
        if length < 0:
            return None
        if length > self.size:
            raise NotADumpError(f"the archive's table of contents is corrupt: a string of {length} bytes.")
        return length

    def _str(self) -> str | None:
        length = self._length()
        if length is None:
            return None
        if length > _SKIP_IN_MEMORY:
            self._skip(length)
            return ""
        return self._bytes(length).decode("utf-8", errors="replace")

    def _skip_str(self) -> str | None:
        """Skip a string; "" for one that was there, None for the null string."""
        length = self._length()
        if length is None:
            return None
        self._skip(length)
        return ""

    def _skip(self, count: int) -> None:
        while count > 0:
            step = min(count, _SKIP_IN_MEMORY)
            self._bytes(step)
            count -= step
