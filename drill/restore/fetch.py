"""Download one snapshot to local disk, proving on the way that the bytes are the ones that were stored.

The body streams through in chunks and is never held in memory: each chunk is hashed as stored
(sha256 and md5, to compare with a sidecar), unwrapped if the stored object is gzip or zstd, and
written out. What lands on disk is the dump itself, ready for pg_restore or psql; a tar of a
directory dump is unpacked, refusing any member that would land outside its directory.
Whatever the snapshot expands to is counted against the drill's disk budget (drill.restore.bounds)
as it is written: a gzip or zstd bomb is stopped at the bound, not when the disk is full.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tarfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol

import zstandard

from drill.facts import Sidecar
from drill.model import Snapshot
from drill.restore.bounds import BoundedWriter, DiskBudget
from drill.restore.formats import Compression, DumpInfo, detect, sniff_compression, tar_toc_member
from drill.storage.base import Store

# The most decompressed bytes held at once: a chunk of gzip may expand a thousandfold, of zstd far more.
_OUTPUT_PIECE = 1 << 20
_SUFFIXES = {
    Compression.GZIP: {".gz": "", ".gzip": "", ".tgz": ".tar"},
    Compression.ZSTD: {".zst": "", ".zstd": "", ".tzst": ".tar"},
}
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


class FetchError(Exception):
    """The stored bytes are not a whole, intact copy; the message says what was observed."""


@dataclass(frozen=True)
class Fetched:
    path: Path  # the file or directory to restore from
    info: DumpInfo
    raw_bytes: int  # as stored
    restored_bytes: int  # on local disk, after decompression and unpacking
    compression: Compression  # how the stored object was wrapped
    sha256: str  # of the bytes as stored, lowercase hex
    md5: str
    seconds: float


class _Sink(Protocol):
    def feed(self, data: bytes) -> None: ...

    def finish(self) -> None: ...


class _Copy:
    def __init__(self, out: BinaryIO) -> None:
        self.write = out.write

    def feed(self, data: bytes) -> None:
        self.write(data)

    def finish(self) -> None:
        pass


class _Gunzip:
    """gzip members one after another (pigz and concatenated files write several), zero padding allowed."""

    def __init__(self, out: BinaryIO) -> None:
        self.write = out.write
        self.member = zlib.decompressobj(wbits=31)
        self.started = False  # whether the current member has had any input

    def feed(self, data: bytes) -> None:
        while data:
            if not self.started:
                data = data.lstrip(b"\x00")
                if not data:
                    return
                self.started = True
            self.write(self.member.decompress(data, _OUTPUT_PIECE))
            if self.member.eof:
                data = self.member.unused_data
                self.member = zlib.decompressobj(wbits=31)
                self.started = False
            else:
                data = self.member.unconsumed_tail

    def finish(self) -> None:
        if self.started:
            raise FetchError("the gzip stream ends before its end marker: the stored object is cut short.")


class _Unzstd:
    """zstd frames one after another, decompressed in bounded pieces straight to the file.

    A zstd block can expand thirty-thousandfold, so the stream writer, which hands out at most
    ``write_size`` bytes at a time, does the work; it cannot say whether the last frame ended,
    so a walk over the frame and block headers tells that.
    """

    def __init__(self, out: BinaryIO) -> None:
        self.writer = zstandard.ZstdDecompressor().stream_writer(
            out, write_size=_OUTPUT_PIECE, write_return_read=True, closefd=False
        )
        self.frames = _ZstdFrames()

    def feed(self, data: bytes) -> None:
        self.writer.write(data)
        self.frames.feed(data)

    def finish(self) -> None:
        # The writer has written all it could decode with each write(); nothing waits in it.
        if not self.frames.complete:
            raise FetchError("the zstd stream ends inside a frame: the stored object is cut short.")


_ZSTD_FRAME = 0xFD2FB528
_ZSTD_SKIPPABLE = 0x184D2A50  # to 0x184D2A5F
_ZSTD_HEADER_SIZES = {"magic": 4, "skippable": 4, "descriptor": 1, "block": 3}


class _ZstdFrames:
    """Follows the framing of RFC 8878 (frame headers, block headers, checksums) without decoding.

    Only headers are read; block contents are skipped by their sizes, so this costs a few steps
    per block of up to 128 KiB.
    """

    def __init__(self) -> None:
        self.state = "magic"
        self.pending = b""
        self.skip = 0
        self.checksum = False
        self.frames = 0

    @property
    def complete(self) -> bool:
        return self.frames > 0 and self.state == "magic" and not self.pending and not self.skip

    def feed(self, data: bytes) -> None:
        at, size = 0, len(data)
        while at < size:
            if self.skip:
                step = min(self.skip, size - at)
                self.skip -= step
                at += step
                continue
            wanted = _ZSTD_HEADER_SIZES[self.state] - len(self.pending)
            self.pending += data[at : at + wanted]
            at += wanted
            if len(self.pending) == _ZSTD_HEADER_SIZES[self.state]:
                header, self.pending = self.pending, b""
                self._step(int.from_bytes(header, "little"))

    def _step(self, value: int) -> None:
        if self.state == "magic":
            if value == _ZSTD_FRAME:
                self.state = "descriptor"
            elif value & 0xFFFFFFF0 == _ZSTD_SKIPPABLE:
                self.state = "skippable"
            else:
                raise FetchError(f"the zstd stream holds something other than a frame (magic {value:08x}).")
        elif self.state == "skippable":
            self.skip, self.state = value, "magic"
        elif self.state == "descriptor":
            single_segment = value >> 5 & 1
            content_size = (0 if not single_segment else 1, 2, 4, 8)[value >> 6]
            self.skip = (0 if single_segment else 1) + (0, 1, 2, 4)[value & 3] + content_size
            self.checksum = bool(value >> 2 & 1)
            self.state = "block"
        else:
            last, kind, size = value & 1, value >> 1 & 3, value >> 3
            if kind == 3:
                raise FetchError("the zstd stream holds a block of the reserved type: it is corrupt.")
            self.skip = 1 if kind == 1 else size  # an RLE block stores its one byte
            if last:
                self.skip += 4 if self.checksum else 0
                self.state = "magic"
                self.frames += 1


_SINKS: dict[Compression, Callable[[BinaryIO], _Sink]] = {
    Compression.NONE: _Copy,
    Compression.GZIP: _Gunzip,
    Compression.ZSTD: _Unzstd,
}
_DECODE_ERRORS = (zlib.error, zstandard.ZstdError)


@dataclass
class _Stream:
    raw_bytes: int
    compression: Compression
    sha256: str
    md5: str


def fetch(
    store: Store,
    snapshot: Snapshot,
    destination: Path,
    *,
    expected: Sidecar | None = None,
    progress: Callable[[int], None] | None = None,
    chunk_size: int = 1 << 20,
    budget: DiskBudget | None = None,
) -> Fetched:
    """Download ``snapshot`` into ``destination`` and recognise the dump it holds.

    Raises FetchError when the bytes are short, do not match the sidecar or do not decompress;
    NotADumpError or TruncatedDumpError (formats) when they are intact but not a usable dump;
    BoundExceeded when they expand past ``budget``; StorageError when the store cannot be read.
    Nothing half-written is left behind.
    ``progress`` is called with the count of stored bytes read, chunk by chunk.
    """
    started = time.monotonic()
    budget = budget or DiskBudget(destination)
    destination.mkdir(parents=True, exist_ok=True)
    name = _safe_name(snapshot.key)
    part = destination / f".{name}.part"
    made: list[Path] = [part]
    try:
        stream = _download(store, snapshot.key, part, chunk_size, progress=progress, budget=budget)
        _check_size(stream.raw_bytes, snapshot.size)
        if expected is not None:
            _check_sidecar(expected, stream)
        final = destination / _unwrapped_name(name, stream.compression)
        made.append(final)
        part.replace(final)
        info = detect(final)
        path = final
        if info.tarred_directory:
            unpacked = destination / f"{final.name}.d"
            made.append(unpacked)
            path = _unpack(final, unpacked, budget)
            final.unlink()
            info = detect(path)
    except BaseException:
        for leftover in made:
            _remove(leftover)
        raise
    return Fetched(
        path=path,
        info=info,
        raw_bytes=stream.raw_bytes,
        restored_bytes=_size_on_disk(path),
        compression=stream.compression,
        sha256=stream.sha256,
        md5=stream.md5,
        seconds=time.monotonic() - started,
    )


def _download(
    store: Store,
    key: str,
    part: Path,
    chunk_size: int,
    *,
    progress: Callable[[int], None] | None,
    budget: DiskBudget,
) -> _Stream:
    sha256 = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False)
    raw_bytes = 0
    with store.open(key) as body, part.open("wb", buffering=0) as file:
        out = BoundedWriter(file, budget, "The snapshot")
        read = body.read
        chunk = read(chunk_size)
        while 0 < len(chunk) < 4:  # the magic numbers are four bytes; a stream may hand out fewer
            more = read(chunk_size)
            if not more:
                break
            chunk += more
        compression = sniff_compression(chunk)
        sink = _SINKS[compression](out)  # type: ignore[arg-type]  # a file in all that sinks use
        try:
            while chunk:
                raw_bytes += len(chunk)
                sha256.update(chunk)
                md5.update(chunk)
                sink.feed(chunk)
                if progress is not None:
                    progress(len(chunk))
                chunk = read(chunk_size)
            sink.finish()
        except _DECODE_ERRORS as error:
            raise FetchError(
                f"the {compression} stream is corrupt within its first {raw_bytes} bytes: {error}."
            ) from None
    return _Stream(raw_bytes, compression, sha256.hexdigest(), md5.hexdigest())


def _check_size(raw_bytes: int, listed: int) -> None:
    if raw_bytes < listed:
        raise FetchError(f"truncated: got {raw_bytes} of {listed} bytes.")
    if raw_bytes > listed:
        raise FetchError(
            f"got {raw_bytes} bytes where the store listed {listed}; the object changed while it was read."
        )


def _check_sidecar(expected: Sidecar, stream: _Stream) -> None:
    digests = {"sha256": stream.sha256, "md5": stream.md5}
    algorithm = expected.algorithm.lower()
    if algorithm not in digests:
        raise FetchError(
            f"the sidecar {expected.key} uses {expected.algorithm}; drill checks sha256 and md5."
        )
    promised = expected.digest.strip().lower()
    if digests[algorithm] != promised:
        raise FetchError(
            f"checksum mismatch: {expected.key} promises {algorithm} {promised}, "
            f"but the stored bytes hash to {digests[algorithm]}."
        )


def _safe_name(key: str) -> str:
    """The key's last part, fit for a local file name (never empty, hidden or '..')."""
    name = _UNSAFE_NAME.sub("_", PurePosixPath(key).name).lstrip(".")
    return name or "snapshot"


def _unwrapped_name(name: str, compression: Compression) -> str:
    for suffix, replacement in _SUFFIXES.get(compression, {}).items():
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)] + replacement
    return name


def _unpack(archive_path: Path, into: Path, budget: DiskBudget) -> Path:
    """Unpack a tar of a -Fd directory into ``into``; returns the directory holding toc.dat.

    Only plain files and directories under ``into`` are accepted: an absolute name, a '..', a
    link or a device file is refused before anything is written, and every member is written as
    drill's own, readable, with no set-id bit, whatever the archive says of its owner and mode.
    Where the stdlib has the "data" filter (3.11.4 on), it checks the same again while extracting.
    """
    with tarfile.open(archive_path, mode="r:") as archive:
        toc, _ = tar_toc_member(archive)
        members = archive.getmembers()
        for member in members:
            _check_member(member)
            member.mode = 0o755 if member.isdir() else 0o644
            member.uid, member.gid, member.uname, member.gname = os.getuid(), os.getgid(), "", ""
        budget.check(0, "The unpacked directory dump", coming=sum(member.size for member in members))
        into.mkdir()
        filtered = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        try:
            archive.extractall(into, members=members, **filtered)  # type: ignore[arg-type]  # noqa: S202  # each member checked above
        except getattr(tarfile, "FilterError", ()) as error:
            raise FetchError(f"refused to unpack the tar archive: {error}.") from None
    return into / PurePosixPath(toc.name).parent


def _check_member(member: tarfile.TarInfo) -> None:
    name = PurePosixPath(member.name)
    if name.is_absolute():
        raise FetchError(f"the tar archive holds an absolute path {member.name!r}; refused to unpack it.")
    if ".." in name.parts:
        raise FetchError(
            f"the tar archive holds {member.name!r}, which points outside its directory; refused to unpack it."
        )
    if not (member.isfile() or member.isdir()):
        kind = "a link" if member.issym() or member.islnk() else "a device or pipe"
        raise FetchError(
            f"the tar archive holds {member.name!r}, {kind}; a directory dump holds only files, "
            "so it was refused."
        )


def _size_on_disk(path: Path) -> int:
    if path.is_dir():
        return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())
    return path.stat().st_size


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
