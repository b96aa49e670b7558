"""Storage backends. Only this package talks to S3, GCS or backup directories."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from drill.config import Target, TargetType
from drill.storage.base import StorageError, StorageErrorKind, Store


def _filesystem(target: Target, environ: Mapping[str, str]) -> Store:
    from drill.storage.filesystem import FilesystemStore

    return FilesystemStore(target)


def _s3(target: Target, environ: Mapping[str, str]) -> Store:
    from drill.storage.s3 import S3Store  # boto3 is imported only when an S3 target exists

    return S3Store(target, environ)


def _gcs(target: Target, environ: Mapping[str, str]) -> Store:
    from drill.storage.gcs import GcsStore  # the GCS client is slow to import; only when needed

    return GcsStore(target, environ)


_BACKENDS: dict[TargetType, Callable[[Target, Mapping[str, str]], Store]] = {
    TargetType.FILESYSTEM: _filesystem,
    TargetType.S3: _s3,
    TargetType.GCS: _gcs,
}


def open_store(target: Target, environ: Mapping[str, str]) -> Store:
    return _BACKENDS[target.type](target, environ)


__all__ = ["StorageError", "StorageErrorKind", "Store", "open_store"]
