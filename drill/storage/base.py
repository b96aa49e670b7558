"""The one interface through which drill reads backups. Implementations only read; none writes or deletes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any, BinaryIO, Protocol

from drill.clouds.errors import StorageError, StorageErrorKind
from drill.config import Target
from drill.facts import BucketPosture, DocumentDigest, ObjectProtection
from drill.model import Snapshot, UnfollowedEntry
from drill.names import unescape_name

SIDECAR_SUFFIXES = (".sha256", ".sha256sum", ".md5")


class Store(Protocol):
    """Read-only access to one target. Keys are relative to the store root and include the target prefix.

    Keys are escaped names (``drill.names``): a store escapes every name it lists and turns
    a key back into the raw name only to read the object, so no name in facts or reports can carry
    bytes that are not text, or control characters.
    """

    target: Target

    def iter_objects(self, prefix: str) -> Iterator[Snapshot | UnfollowedEntry]:
        """Stream every object under ``prefix`` page by page; order is the store's, not by time.

        A filesystem also names the links and special files it met where a snapshot could be."""
        ...

    def stat(self, key: str) -> Snapshot | None:
        """The object's metadata as the store records it, or None if there is no such object."""
        ...

    def read_small(self, key: str, limit: int) -> bytes | None:
        """The whole body of a small object (a checksum sidecar), or None if it does not exist."""
        ...

    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        """A stream of the object's body; the caller reads it in chunks and never all at once."""
        ...

    def posture(self) -> BucketPosture:
        """How the bucket or directory protects its objects. Never raises: parts it could not read are
        ``Unavailable`` with the reason (a denied lifecycle read must not hide the lock state)."""
        ...

    def protection(self, snapshot: Snapshot) -> ObjectProtection:
        """How one object is protected (lock, retention, holds), from its metadata alone; never its body."""
        ...

    def close(self) -> None: ...


def raw_key(key: str) -> str:
    """The name a store holds for ``key``, as a store's read needs it; StorageError(INVALID) when
    ``key`` is not a key a listing gave (a caller's mistake, never the store's content)."""
    try:
        return unescape_name(key)
    except ValueError as error:
        raise StorageError(StorageErrorKind.INVALID, f"{key} is not a key a listing gave: {error}.") from None


def document_digest(document: Any, entries: int, noun: str) -> DocumentDigest:
    """A policy or ACL as read (JSON values), digested canonically: keys sorted, no whitespace."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return DocumentDigest(hashlib.sha256(canonical.encode()).hexdigest(), entries, noun)
