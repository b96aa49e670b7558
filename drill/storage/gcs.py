"""A Cloud Storage bucket (or gcp-storage-emulator) under an optional prefix."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC
from typing import Any, BinaryIO, cast

import requests
from google.api_core import exceptions as api
from google.api_core.retry import Retry
from google.auth import exceptions as auth
from google.cloud.storage.retry import DEFAULT_RETRY

from drill.clouds.bounded import CONNECT_TIMEOUT, READ_TIMEOUT
from drill.clouds.errors import StorageError, StorageErrorKind
from drill.clouds.gcp import gcs_client
from drill.config import Target
from drill.facts import GcsBucketPosture, ObjectProtection
from drill.model import Checksum, Snapshot, Unavailable
from drill.names import escape_name, raw_prefix
from drill.storage.base import raw_key
from drill.storage.gcs_posture import blob_protection, bucket_posture, iam_policy_digest

# Ask only for what a Snapshot holds: a listing of many thousand backups stays small.
_LIST_FIELDS = "items(name,size,timeCreated,updated,md5Hash,crc32c,generation),nextPageToken"
_TIMEOUT = (CONNECT_TIMEOUT, READ_TIMEOUT)  # seconds: an endpoint that never answers must not hold a run
_READ_CHUNK = 16 * 1024 * 1024  # one ranged request per chunk; the library's default is 40 MiB
# What the client raises for a failed call; anything else is a bug and surfaces as itself.
_CLIENT_ERRORS = (api.GoogleAPIError, auth.GoogleAuthError, requests.RequestException)
_TRANSIENT = (
    api.TooManyRequests,
    api.ServerError,
    api.RetryError,
    requests.ConnectionError,
    requests.Timeout,
    auth.TransportError,
)


class GcsStore:
    def __init__(
        self,
        target: Target,
        environ: Mapping[str, str],
        *,
        page_size: int = 1000,
        retry: Retry = DEFAULT_RETRY,
    ) -> None:
        assert target.bucket is not None  # guaranteed by config validation
        self.target = target
        self.bucket_name = target.bucket
        self.page_size = page_size
        self.retry = retry
        try:
            self.client = gcs_client(target.credentials, target.endpoint_url, environ)
        except StorageError as error:
            raise StorageError(error.kind, f"Target {target.name}: {error}") from None
        self.bucket = self.client.bucket(self.bucket_name)
        self._bucket_seen = False

    def iter_objects(self, prefix: str) -> Iterator[Snapshot]:
        blobs = self.client.list_blobs(
            self.bucket_name,
            prefix=raw_prefix(prefix) or None,
            page_size=self.page_size,
            fields=_LIST_FIELDS,
            retry=self.retry,
            timeout=_TIMEOUT,
        )
        try:
            for page in blobs.pages:  # one request per page, fetched as the caller consumes
                self._bucket_seen = True
                for blob in page:
                    yield _snapshot(blob)
        except _CLIENT_ERRORS as error:
            raise self._error(error, "storage.objects.list", None) from None

    def stat(self, key: str) -> Snapshot | None:
        try:
            blob = self.bucket.get_blob(raw_key(key), retry=self.retry, timeout=_TIMEOUT)
        except _CLIENT_ERRORS as error:
            raise self._error(error, "storage.objects.get", key) from None
        if blob is None:  # get_blob answers None for a missing bucket too
            self._raise_if_bucket_missing()
            return None
        return _snapshot(blob)

    def read_small(self, key: str, limit: int) -> bytes | None:
        try:
            data: bytes = self.bucket.blob(raw_key(key)).download_as_bytes(
                start=0, end=limit - 1, raw_download=True, retry=self.retry, timeout=_TIMEOUT
            )
        except api.NotFound:
            self._raise_if_bucket_missing()
            return None
        except _CLIENT_ERRORS as error:
            raise self._error(error, "storage.objects.get", key) from None
        return data

    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        # Fetch the metadata first so a missing object fails here, and so the reader's ranged
        # requests all name this generation even if the object is overwritten mid-read.
        try:
            blob = self.bucket.get_blob(raw_key(key), retry=self.retry, timeout=_TIMEOUT)
        except _CLIENT_ERRORS as error:
            raise self._error(error, "storage.objects.get", key) from None
        if blob is None:
            self._raise_if_bucket_missing()
            raise StorageError(
                StorageErrorKind.NOT_FOUND,
                f"gs://{self.bucket_name}/{key} of target {self.target.name} does not exist.",
            )
        # Raw bytes, as stored: size and md5 describe those, not a decompressed transcoding.
        reader = blob.open(
            "rb", chunk_size=_READ_CHUNK, raw_download=True, retry=self.retry, timeout=_TIMEOUT
        )
        return self._streaming(key, reader)

    @contextmanager
    def _streaming(self, key: str, reader: Any) -> Iterator[BinaryIO]:
        try:
            yield cast(BinaryIO, reader)
        except _CLIENT_ERRORS as error:  # a failed ranged read surfaces in the caller's read()
            raise self._error(error, "storage.objects.get", key) from None
        finally:
            reader.close()

    def posture(self) -> GcsBucketPosture:
        """Retention policy, versioning, soft delete and lifecycle from one bucket metadata read, and the
        digest of the bucket's IAM policy from a second."""
        try:
            # A fresh Bucket: self.bucket serves other threads' reads and must not change under them.
            bucket = self.client.get_bucket(self.bucket_name, retry=self.retry, timeout=_TIMEOUT)
        except _CLIENT_ERRORS as error:
            reason = Unavailable(str(self._error(error, "storage.buckets.get", None)))
            return GcsBucketPosture(reason, reason, reason, reason, reason, reason, reason)
        try:
            policy = bucket.get_iam_policy(requested_policy_version=3, retry=self.retry, timeout=_TIMEOUT)
        except _CLIENT_ERRORS as error:
            return bucket_posture(
                bucket, Unavailable(str(self._error(error, "storage.buckets.getIamPolicy", None)))
            )
        return bucket_posture(bucket, iam_policy_digest(policy.to_api_repr()))

    def protection(self, snapshot: Snapshot) -> ObjectProtection:
        """Retention and holds of the listed generation (real GCS answers 404 once it is overwritten)."""
        key = snapshot.key
        generation = int(snapshot.version_id) if snapshot.version_id else None
        try:
            blob = self.bucket.get_blob(
                raw_key(key), generation=generation, retry=self.retry, timeout=_TIMEOUT
            )
        except _CLIENT_ERRORS as error:
            raise self._error(error, "storage.objects.get", key) from None
        if blob is None:
            self._raise_if_bucket_missing()
            raise StorageError(
                StorageErrorKind.NOT_FOUND,
                f"gs://{self.bucket_name}/{key} of target {self.target.name} does not exist"
                + (f" in generation {generation}." if generation else "."),
            )
        return blob_protection(key, blob)

    def close(self) -> None:
        self.client.close()

    def _raise_if_bucket_missing(self) -> None:
        """A missing object and a missing bucket look alike; list one name, once per store, to tell."""
        if self._bucket_seen:
            return
        try:
            next(iter(self.client.list_blobs(self.bucket_name, max_results=1, fields="items(name)")), None)
        except api.NotFound:
            raise self._bucket_missing() from None
        except api.Forbidden:
            pass  # the bucket exists; listing is simply not granted
        except _CLIENT_ERRORS as error:
            raise self._error(error, "storage.objects.list", None) from None
        self._bucket_seen = True

    def _bucket_missing(self) -> StorageError:
        return StorageError(
            StorageErrorKind.NOT_FOUND,
            f"Bucket {self.bucket_name} of target {self.target.name} does not exist.",
        )

    def _error(self, error: Exception, permission: str, key: str | None) -> StorageError:
        """Translate a client error; messages carry names and status codes, never a credential."""
        name = self.target.name
        where = f"gs://{self.bucket_name}/{key}" if key else f"bucket {self.bucket_name}"
        if isinstance(error, api.NotFound):
            if key is None:
                return self._bucket_missing()
            return StorageError(StorageErrorKind.NOT_FOUND, f"{where} of target {name} does not exist.")
        if isinstance(error, api.Forbidden | api.Unauthorized | auth.RefreshError):
            return StorageError(
                StorageErrorKind.ACCESS_DENIED,
                f"{permission} denied on {where} for target {name} ({type(error).__name__}).",
            )
        if isinstance(error, api.MethodNotImplemented):
            return StorageError(
                StorageErrorKind.UNSUPPORTED,
                f"The endpoint of target {name} does not implement {permission}.",
            )
        if isinstance(error, _TRANSIENT):
            # The retry wrapper hides what kept failing; name the last failure instead.
            cause = error.cause if isinstance(error, api.RetryError) and error.cause else error
            if isinstance(cause, requests.ConnectionError | auth.TransportError):
                endpoint = self.target.endpoint_url or "storage.googleapis.com"
                return StorageError(
                    StorageErrorKind.TRANSIENT,
                    f"Cannot reach {endpoint} for {permission} on {where} of target {name}: "
                    f"{type(cause).__name__}.",
                )
            return StorageError(
                StorageErrorKind.TRANSIENT,
                f"{permission} on {where} for target {name} kept failing after retries "
                f"({type(cause).__name__}); try again later.",
            )
        code = error.code if isinstance(error, api.GoogleAPICallError) else type(error).__name__
        return StorageError(
            StorageErrorKind.INVALID, f"{permission} on {where} for target {name} failed ({code})."
        )


def _snapshot(blob: Any) -> Snapshot:
    checksums = []
    if blob.md5_hash:  # composite objects have none
        checksums.append(Checksum("md5", blob.md5_hash))
    if blob.crc32c:
        checksums.append(Checksum("crc32c", blob.crc32c))
    # timeCreated, not updated: a metadata change (a hold, a label) must not make an old backup look new.
    created = blob.time_created or blob.updated
    return Snapshot(
        key=escape_name(blob.name),
        size=int(blob.size),
        created_at=created.astimezone(UTC),
        checksums=tuple(checksums),
        version_id=str(blob.generation) if blob.generation else None,
    )
