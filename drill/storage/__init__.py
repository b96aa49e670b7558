"""Storage backends: the only code that reads backups, from S3, GCS or backup directories."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from drill.clouds.errors import StorageError, StorageErrorKind
from drill.config import Target, TargetType
from drill.storage.base import Store

if TYPE_CHECKING:
    from drill.clouds.aws import SharedS3Clients


class StoreOpener:
    """Opens stores for many targets at once, sharing what is costly to build (AWS sessions and
    clients) between targets that use the same credentials. Close it after the stores it opened."""

    def __init__(self, environ: Mapping[str, str], *, concurrency: int = 8) -> None:
        self._environ = environ
        self._concurrency = concurrency
        self._s3: SharedS3Clients | None = None

    def open(self, target: Target) -> Store:
        if target.type is TargetType.FILESYSTEM:
            from drill.storage.filesystem import FilesystemStore

            return FilesystemStore(target)
        if target.type is TargetType.S3:
            # boto3 is imported only when an S3 target exists.
            from drill.clouds.aws import SharedS3Clients
            from drill.storage.s3 import S3Store

            if self._s3 is None:
                # A shared client serves every worker at once: its pool must fit them all.
                self._s3 = SharedS3Clients(self._environ, pool_size=max(20, self._concurrency))
            return S3Store(target, self._environ, shared=self._s3)
        from drill.storage.gcs import GcsStore  # the GCS client is slow to import; only when needed

        return GcsStore(target, self._environ)

    def close(self) -> None:
        if self._s3 is not None:
            self._s3.close()


def open_store(target: Target, environ: Mapping[str, str]) -> Store:
    """One store with clients of its own; ``store.close()`` releases them."""
    if target.type is TargetType.S3:
        from drill.storage.s3 import S3Store

        return S3Store(target, environ)
    return StoreOpener(environ).open(target)


__all__ = ["StorageError", "StorageErrorKind", "Store", "StoreOpener", "open_store"]
