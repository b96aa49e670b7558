"""A directory on a local or mounted filesystem (NFS, a backup disk, a FUSE mount of a bucket)."""

from __future__ import annotations

import array
import fcntl
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from drill.clouds.errors import StorageError, StorageErrorKind
from drill.config import Target
from drill.facts import FilesystemPosture, ObjectProtection
from drill.model import Snapshot, Unavailable

# From linux/fs.h: read a file's inode flags; FS_IMMUTABLE_FL is what `chattr +i` sets.
_FS_IOC_GETFLAGS = 0x80086601
_FS_IMMUTABLE_FL = 0x00000010


def immutable_attribute(path: Path) -> bool:
    """Whether the file carries the immutable attribute; False where the filesystem has no such flag."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        flags = array.array("l", [0])
        fcntl.ioctl(descriptor, _FS_IOC_GETFLAGS, flags, True)
    except OSError:  # ENOTTY/EOPNOTSUPP: tmpfs, NFS and FUSE keep no such flag, so no proof
        return False
    finally:
        os.close(descriptor)
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
    def __init__(self, target: Target) -> None:
        assert target.path is not None  # guaranteed by config validation
        self.target = target
        self.root = Path(target.path)

    def _root_or_raise(self) -> None:
        if not self.root.is_dir():
            raise StorageError(
                StorageErrorKind.NOT_FOUND,
                f"Directory {self.root} of target {self.target.name} does not exist or is not a directory.",
            )

    def _snapshot(self, path: Path, stat: os.stat_result) -> Snapshot:
        return Snapshot(
            key=path.relative_to(self.root).as_posix(),
            size=stat.st_size,
            created_at=datetime.fromtimestamp(stat.st_mtime, UTC),
        )

    def iter_objects(self, prefix: str) -> Iterator[Snapshot]:
        self._root_or_raise()
        # Walk only below the deepest directory the prefix names; never follow links out of the tree.
        start = self.root / prefix.rsplit("/", 1)[0] if "/" in prefix else self.root
        if not start.is_dir():
            return
        try:
            for directory, _, files in os.walk(start, followlinks=False, onerror=self._raise):
                for name in files:
                    path = Path(directory, name)
                    key = path.relative_to(self.root).as_posix()
                    if not key.startswith(prefix) or path.is_symlink():
                        continue
                    try:
                        stat = path.stat()
                    except FileNotFoundError:  # removed between listing and stat: a backup job rotating
                        continue
                    yield self._snapshot(path, stat)
        except PermissionError as error:
            raise StorageError(
                StorageErrorKind.ACCESS_DENIED,
                f"Cannot read {error.filename} of target {self.target.name}: permission denied.",
            ) from None

    @staticmethod
    def _raise(error: OSError) -> None:
        raise error

    def stat(self, key: str) -> Snapshot | None:
        path = self.root / key
        try:
            return self._snapshot(path, path.stat()) if path.is_file() else None
        except PermissionError:
            raise StorageError(
                StorageErrorKind.ACCESS_DENIED,
                f"Cannot stat {path} of target {self.target.name}: permission denied.",
            ) from None

    def read_small(self, key: str, limit: int) -> bytes | None:
        path = self.root / key
        try:
            with path.open("rb") as handle:
                return handle.read(limit)
        except FileNotFoundError:
            return None
        except PermissionError:
            raise StorageError(
                StorageErrorKind.ACCESS_DENIED,
                f"Cannot read {path} of target {self.target.name}: permission denied.",
            ) from None

    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        try:
            return (self.root / key).open("rb")
        except FileNotFoundError:
            raise StorageError(
                StorageErrorKind.NOT_FOUND, f"{key} does not exist on target {self.target.name}."
            ) from None

    def posture(self) -> FilesystemPosture:
        try:
            read_only = bool(os.statvfs(self.root).f_flag & os.ST_RDONLY)
            return FilesystemPosture(read_only_mount=read_only, mount_point=str(mount_point(self.root)))
        except OSError as error:
            reason = (
                f"Cannot read the mount flags of {self.root} (target {self.target.name}): {error.strerror}."
            )
            return FilesystemPosture(read_only_mount=Unavailable(reason), mount_point=None)

    def protection(self, snapshot: Snapshot) -> ObjectProtection:
        path = self.root / snapshot.key
        try:
            stat = path.stat()
            immutable = immutable_attribute(path)
        except FileNotFoundError:
            raise StorageError(
                StorageErrorKind.NOT_FOUND, f"{snapshot.key} vanished from target {self.target.name}."
            ) from None
        except PermissionError:
            raise StorageError(
                StorageErrorKind.ACCESS_DENIED,
                f"Cannot open {path} of target {self.target.name}: permission denied.",
            ) from None
        return ObjectProtection(
            key=snapshot.key,
            size=stat.st_size,
            written_at=datetime.fromtimestamp(stat.st_mtime, UTC),
            immutable_attribute=immutable,
        )

    def close(self) -> None:
        """Nothing to release."""
