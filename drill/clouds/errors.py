"""The error every read of a backup's home raises: a bucket, a directory, or a question asked of a
cloud about credentials. Collection turns it into an ``Unavailable`` that carries its message."""

from __future__ import annotations

import enum


class StorageErrorKind(enum.StrEnum):
    NOT_FOUND = "not_found"
    ACCESS_DENIED = "access_denied"
    TRANSIENT = "transient"
    UNSUPPORTED = "unsupported"
    INVALID = "invalid"


class StorageError(Exception):
    """A read that failed, with a message naming the resource, what happened and what to do."""

    def __init__(self, kind: StorageErrorKind, message: str) -> None:
        self.kind = kind
        super().__init__(message)
