"""A directory on a local or mounted filesystem (NFS, a backup disk, a FUSE mount of a bucket)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from drill.config import Target
from drill.model import Snapshot
from drill.storage.base import StorageError, StorageErrorKind


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

    def close(self) -> None:
        """Nothing to release."""
