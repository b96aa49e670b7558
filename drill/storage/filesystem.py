"""A directory on a local or mounted filesystem (NFS, a backup disk, a FUSE mount of a bucket)."""

from __future__ import annotations

import array
import errno
import fcntl
import os
import stat
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Literal

from drill.clouds.errors import StorageError, StorageErrorKind
from drill.config import Target
from drill.facts import FilesystemPosture, ObjectProtection
from drill.model import EntryKind, Snapshot, Unavailable, UnfollowedEntry
from drill.names import escape_name, raw_prefix
from drill.storage.base import raw_key

# From linux/fs.h: read a file's inode flags; FS_IMMUTABLE_FL is what `chattr +i` sets.
_FS_IOC_GETFLAGS = 0x80086601
_FS_IMMUTABLE_FL = 0x00000010


def immutable_attribute(path: Path) -> bool:
    """Whether the file carries the immutable attribute; False where the filesystem has no such flag."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        return _immutable(descriptor)
    finally:
        os.close(descriptor)


def _immutable(descriptor: int) -> bool:
    flags = array.array("l", [0])
    try:
        fcntl.ioctl(descriptor, _FS_IOC_GETFLAGS, flags, True)
    except OSError:  # ENOTTY/EOPNOTSUPP: tmpfs, NFS and FUSE keep no such flag, so no proof
        return False
    return bool(flags[0] & _FS_IMMUTABLE_FL)


def mount_point(path: Path, mountinfo: Path = Path("/proc/self/mountinfo")) -> Path:
    """The mount that holds ``path``: the longest mount point above it.

    Read from the kernel's mount table, because a bind mount on the same device is invisible to
    ``Path.is_mount`` (it compares devices), and a read-only bind mount is a common way to protect
    a backup directory.
    """
    resolved = path.resolve()
    try:
        lines = mountinfo.read_text().splitlines()
    except OSError:
        lines = []
    # Field 5 is the mount point, with spaces and other specials escaped as octal (\040).
    points = [
        Path(line.split()[4].encode().decode("unicode_escape")) for line in lines if len(line.split()) > 4
    ]
    above = [point for point in points if resolved == point or point in resolved.parents]
    if above:
        return max(above, key=lambda point: len(point.parts))
    current = resolved
    while not current.is_mount():
        current = current.parent
    return current


class FilesystemStore:
    """A backup directory, read without ever following a symbolic link below it.

    The configured directory is the user's choice and may itself be a link; below it, every
    entry is opened one path component at a time with ``O_NOFOLLOW`` from a descriptor of the
    directory above (so a link swapped in during a read is refused, not followed). A link where a
    snapshot could be is listed as an ``UnfollowedEntry`` instead: the ``snapshot_links`` check
    reports it, and nothing reads through it.
    """

    def __init__(self, target: Target) -> None:
        assert target.path is not None  # guaranteed by config validation
        self.target = target
        self.root = Path(os.path.realpath(target.path))

    def _shown(self, raw: str) -> str:
        """A path below the root as a message may quote it: escaped, as keys are."""
        return escape_name(str(self.root / raw) if raw else str(self.root))

    def _root_or_raise(self) -> None:
        if not self.root.is_dir():
            raise StorageError(
                StorageErrorKind.NOT_FOUND,
                f"Directory {self._shown('')} of target {self.target.name} does not exist or is not a directory.",
            )

    def _beneath(self, raw: str, *, directory: bool = False) -> int:
        """A descriptor of ``raw`` below the root, opened without following a link at any component.

        Raises ``LinkBelow`` where a component is a symbolic link, OSError as the kernel reports
        anything else.
        """
        parts = [part for part in raw.split("/") if part]
        if any(part in (".", "..") for part in parts):
            raise StorageError(
                StorageErrorKind.INVALID, f"{escape_name(raw)} is not a name below the target."
            )
        descriptor = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for index, part in enumerate(parts):
                last = index == len(parts) - 1
                # O_NONBLOCK: opening a FIFO someone left where a snapshot should be must not wait for a writer.
                kind = os.O_DIRECTORY if directory or not last else os.O_NONBLOCK
                try:
                    following = os.open(
                        part, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | kind, dir_fd=descriptor
                    )
                except OSError as error:
                    # A link answers ELOOP, or ENOTDIR where a directory was asked for, as a file does.
                    if error.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(part, descriptor):
                        raise LinkBelow("/".join(parts[: index + 1])) from None
                    raise
                os.close(descriptor)
                descriptor = following
        except BaseException:
            os.close(descriptor)
            raise
        return descriptor

    def _file(self, key: str, action: str) -> int:
        """A descriptor of the regular file ``key`` names, or StorageError saying why there is none."""
        raw = raw_key(key)
        try:
            descriptor = self._beneath(raw)
        except FileNotFoundError:
            raise StorageError(
                StorageErrorKind.NOT_FOUND, f"{key} does not exist on target {self.target.name}."
            ) from None
        except PermissionError:
            raise StorageError(
                StorageErrorKind.ACCESS_DENIED,
                f"Cannot {action} {self._shown(raw)} of target {self.target.name}: permission denied.",
            ) from None
        except LinkBelow as link:
            raise StorageError(
                StorageErrorKind.INVALID,
                f"{escape_name(link.raw)} on target {self.target.name} is a symbolic link: drill follows "
                f"no link in a filesystem target, so it does not read {key}.",
            ) from None
        except NotADirectoryError:
            raise StorageError(
                StorageErrorKind.NOT_FOUND, f"{key} does not exist on target {self.target.name}."
            ) from None
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            os.close(descriptor)
            raise StorageError(
                StorageErrorKind.INVALID, f"{key} on target {self.target.name} is not a regular file."
            )
        return descriptor

    def _snapshot(self, key: str, status: os.stat_result) -> Snapshot:
        return Snapshot(key=key, size=status.st_size, created_at=datetime.fromtimestamp(status.st_mtime, UTC))

    def iter_objects(self, prefix: str) -> Iterator[Snapshot | UnfollowedEntry]:
        """Every regular file whose key starts with ``prefix``, and every link or special file where one
        could be; the walk starts at the deepest directory the prefix names and never enters a link."""
        self._root_or_raise()
        raw = raw_prefix(prefix)
        pending = [raw.rsplit("/", 1)[0] if "/" in raw else ""]
        try:
            first = self._directory_on_the_way(pending[0])
            if first is not True:
                if first is not None:
                    yield first
                return
            while pending:
                directory = pending.pop()
                yield from self._entries(directory, prefix, pending)
        except PermissionError as error:
            shown = escape_name(str(error.filename)) if error.filename else self._shown("")
            raise StorageError(
                StorageErrorKind.ACCESS_DENIED,
                f"Cannot read {shown} of target {self.target.name}: permission denied.",
            ) from None

    def _directory_on_the_way(self, raw: str) -> Literal[True] | UnfollowedEntry | None:
        """Whether the walk can start at ``raw``: True, None (nothing there), or the link found on the way."""
        walked = ""
        for part in [part for part in raw.split("/") if part]:
            walked = f"{walked}/{part}" if walked else part
            try:
                status = os.lstat(self.root / walked)
            except (FileNotFoundError, NotADirectoryError):
                return None
            if stat.S_ISLNK(status.st_mode):
                return self._unfollowed(walked, status)
            if not stat.S_ISDIR(status.st_mode):
                return None
        return True

    def _entries(
        self, directory: str, prefix: str, pending: list[str]
    ) -> Iterator[Snapshot | UnfollowedEntry]:
        try:
            descriptor = self._beneath(directory, directory=True)
        except (FileNotFoundError, NotADirectoryError):
            return  # removed since it was listed: a backup job rotating
        except LinkBelow as link:  # made a link since it was listed: report it, never enter it
            yield self._unfollowed(link.raw, os.lstat(self.root / link.raw))
            return
        try:
            with os.scandir(descriptor) as entries:
                for entry in entries:
                    raw = f"{directory}/{entry.name}" if directory else entry.name
                    key = escape_name(raw)
                    try:
                        status = entry.stat(follow_symlinks=False)
                    except FileNotFoundError:  # removed between listing and stat
                        continue
                    if stat.S_ISDIR(status.st_mode):
                        if _could_hold(key, prefix):
                            pending.append(raw)
                    elif stat.S_ISREG(status.st_mode):
                        if key.startswith(prefix):
                            yield self._snapshot(key, status)
                    elif _could_hold(key, prefix):
                        yield self._unfollowed(raw, status)
        finally:
            os.close(descriptor)

    def _unfollowed(self, raw: str, status: os.stat_result) -> UnfollowedEntry:
        """A link or special file, described without reading through it. Where a link leads is
        decided on its resolved path; only the resolved path's kind is looked up, never its content."""
        key = escape_name(raw)
        if not stat.S_ISLNK(status.st_mode):
            return UnfollowedEntry(key, EntryKind.SPECIAL_FILE)
        path = self.root / raw
        try:
            destination: str | None = escape_name(str(path.readlink()))
        except OSError:
            destination = None
        resolved = Path(os.path.realpath(path))
        inside = resolved == self.root or resolved.is_relative_to(self.root)
        if not resolved.exists():
            kind = EntryKind.DANGLING_LINK
        else:
            kind = EntryKind.DIRECTORY_LINK if resolved.is_dir() else EntryKind.FILE_LINK
        return UnfollowedEntry(key, kind, destination, leaves_target=not inside)

    def stat(self, key: str) -> Snapshot | None:
        try:
            descriptor = self._file(key, "stat")
        except StorageError as error:
            if error.kind is StorageErrorKind.NOT_FOUND:
                return None
            raise
        try:
            return self._snapshot(key, os.fstat(descriptor))
        finally:
            os.close(descriptor)

    def read_small(self, key: str, limit: int) -> bytes | None:
        try:
            descriptor = self._file(key, "read")
        except StorageError as error:
            if error.kind is StorageErrorKind.NOT_FOUND:
                return None
            raise
        with os.fdopen(descriptor, "rb") as handle:
            return handle.read(limit)

    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        return os.fdopen(self._file(key, "open"), "rb")

    def posture(self) -> FilesystemPosture:
        try:
            read_only = bool(os.statvfs(self.root).f_flag & os.ST_RDONLY)
            return FilesystemPosture(read_only_mount=read_only, mount_point=str(mount_point(self.root)))
        except OSError as error:
            reason = (
                f"Cannot read the mount flags of {self._shown('')} (target {self.target.name}): "
                f"{error.strerror}."
            )
            return FilesystemPosture(read_only_mount=Unavailable(reason), mount_point=None)

    def protection(self, snapshot: Snapshot) -> ObjectProtection:
        try:
            descriptor = self._file(snapshot.key, "open")
        except StorageError as error:
            if error.kind is StorageErrorKind.NOT_FOUND:
                raise StorageError(
                    StorageErrorKind.NOT_FOUND, f"{snapshot.key} vanished from target {self.target.name}."
                ) from None
            raise
        try:
            status = os.fstat(descriptor)
            immutable = _immutable(descriptor)
        finally:
            os.close(descriptor)
        return ObjectProtection(
            key=snapshot.key,
            size=status.st_size,
            written_at=datetime.fromtimestamp(status.st_mtime, UTC),
            immutable_attribute=immutable,
        )

    def close(self) -> None:
        """Nothing to release."""


class LinkBelow(Exception):
    """A component of a path below the root is a symbolic link; ``raw`` is the path up to it."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        super().__init__(raw)


def _is_link(name: str, directory: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=directory, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _could_hold(key: str, prefix: str) -> bool:
    """Whether an entry named ``key`` could be, or lead to, a name that starts with ``prefix``."""
    return key.startswith(prefix) or prefix.startswith(f"{key}/")
