"""An S3 bucket (or anything speaking the S3 API: moto, MinIO, Ceph) under an optional prefix."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from drill.clouds.aws import SharedS3Clients, aws_session, s3_client
from drill.clouds.errors import StorageError, StorageErrorKind
from drill.config import Target
from drill.facts import ObjectProtection, S3BucketPosture
from drill.model import Checksum, Snapshot
from drill.names import escape_name, raw_prefix
from drill.storage.base import raw_key
from drill.storage.s3_posture import head_checksums, object_protection, read_posture

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import HeadObjectOutputTypeDef, HeadObjectRequestTypeDef, ObjectTypeDef

_DENIED = {
    "AccessDenied",
    "AllAccessDisabled",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "403",
}
_TRANSIENT = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "ServiceUnavailable"}
_UNSUPPORTED = {"NotImplemented", "501"}


class S3Store:
    def __init__(
        self,
        target: Target,
        environ: Mapping[str, str],
        *,
        page_size: int = 1000,
        max_attempts: int = 5,
        shared: SharedS3Clients | None = None,
    ) -> None:
        """``shared``: take the client from there (and leave closing it to its owner)."""
        assert target.bucket is not None  # guaranteed by config validation
        self.target = target
        self.bucket = target.bucket
        self.page_size = page_size
        self._owns_client = shared is None
        try:
            if shared is not None:
                self.client = shared.for_target(target)
            else:
                session = aws_session(target.credentials, target.region, environ)
                self.client = s3_client(session, target, max_attempts=max_attempts)
        except StorageError as error:
            raise StorageError(error.kind, f"Target {target.name}: {error}") from None
        self._bucket_seen = False

    def iter_objects(self, prefix: str) -> Iterator[Snapshot]:
        paginator = self.client.get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=self.bucket, Prefix=raw_prefix(prefix), PaginationConfig={"PageSize": self.page_size}
        )
        try:
            for page in pages:
                self._bucket_seen = True
                for item in page.get("Contents", []):
                    yield self._listed(item)
        except (ClientError, BotoCoreError) as error:
            raise self._error(error, "s3:ListBucket", None) from None

    def _listed(self, item: ObjectTypeDef) -> Snapshot:
        # The listing names a ChecksumAlgorithm but not its value; stat() fetches values for the few
        # objects a check cares about, rather than a HEAD per listed object.
        return Snapshot(
            key=escape_name(item["Key"]),
            size=item["Size"],
            created_at=item["LastModified"].astimezone(UTC),
            checksums=(Checksum("etag", item["ETag"].strip('"')),),
        )

    def stat(self, key: str) -> Snapshot | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=raw_key(key), ChecksumMode="ENABLED")
        except ClientError as error:
            if _code(error) in {"404", "NoSuchKey"}:
                self._raise_if_bucket_missing()
                return None
            raise self._error(error, "s3:GetObject", key) from None
        except BotoCoreError as error:
            raise self._error(error, "s3:GetObject", key) from None
        return self._headed(key, head)

    def _headed(self, key: str, head: HeadObjectOutputTypeDef) -> Snapshot:
        checksums = head_checksums(cast(Mapping[str, Any], head))
        version = head.get("VersionId")
        return Snapshot(
            key=key,
            size=head["ContentLength"],
            created_at=head["LastModified"].astimezone(UTC),
            checksums=tuple(Checksum(algorithm, value) for algorithm, value in checksums.items()),
            version_id=version if version and version != "null" else None,
        )

    def posture(self) -> S3BucketPosture:
        """Versioning, Object Lock and lifecycle, one call each; each part fails on its own."""
        return read_posture(self.client, self.bucket, lambda error, action: self._error(error, action, None))

    def protection(self, snapshot: Snapshot) -> ObjectProtection:
        """The lock state of the snapshot's version (the current one when the listing named none).

        HEAD rather than GetObjectRetention: it answers mode, date and legal hold in one call.
        """
        key = snapshot.key
        request: HeadObjectRequestTypeDef = {
            "Bucket": self.bucket,
            "Key": raw_key(key),
            "ChecksumMode": "ENABLED",
        }
        if snapshot.version_id:
            request["VersionId"] = snapshot.version_id
        action = "s3:GetObjectVersion" if snapshot.version_id else "s3:GetObject"
        try:
            head = self.client.head_object(**request)
        except ClientError as error:
            if _code(error) in {"404", "NoSuchKey"}:
                self._raise_if_bucket_missing()
            raise self._error(error, action, key) from None
        except BotoCoreError as error:
            raise self._error(error, action, key) from None
        return object_protection(key, cast(Mapping[str, Any], head))

    def _raise_if_bucket_missing(self) -> None:
        """A 404 from HEAD does not say whether the key or the bucket is missing; ask once per store."""
        if self._bucket_seen:
            return
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as error:
            if _code(error) in {"404", "NoSuchBucket"}:
                raise self._bucket_missing() from None
            # Any other answer (a 403 without s3:ListBucket) means the bucket exists.
        except BotoCoreError as error:
            raise self._error(error, "s3:ListBucket", None) from None
        self._bucket_seen = True

    def read_small(self, key: str, limit: int) -> bytes | None:
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=raw_key(key), Range=f"bytes=0-{limit - 1}"
            )
            with response["Body"] as body:
                return body.read()
        except ClientError as error:
            code = _code(error)
            if code == "NoSuchKey":
                return None
            if code == "InvalidRange":  # S3 refuses any range of an empty object
                return b""
            raise self._error(error, "s3:GetObject", key) from None
        except BotoCoreError as error:
            raise self._error(error, "s3:GetObject", key) from None

    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=raw_key(key))
        except (ClientError, BotoCoreError) as error:
            raise self._error(error, "s3:GetObject", key) from None
        return self._streaming(key, response["Body"])

    @contextmanager
    def _streaming(self, key: str, body: Any) -> Iterator[BinaryIO]:
        try:
            yield cast(BinaryIO, body)
        # A connection dropped mid-body surfaces in the caller's read(), inside this with-block.
        except (ReadTimeoutError, ResponseStreamingError, ConnectionClosedError) as error:
            raise StorageError(
                StorageErrorKind.TRANSIENT,
                f"Reading s3://{self.bucket}/{key} of target {self.target.name} broke off: {error}.",
            ) from None
        finally:
            body.close()

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def _bucket_missing(self) -> StorageError:
        return StorageError(
            StorageErrorKind.NOT_FOUND, f"Bucket {self.bucket} of target {self.target.name} does not exist."
        )

    def _error(self, error: ClientError | BotoCoreError, action: str, key: str | None) -> StorageError:
        """Translate a botocore error; messages carry codes and names, never a credential."""
        name = self.target.name
        where = f"s3://{self.bucket}/{key}" if key else f"bucket {self.bucket}"
        if isinstance(error, ClientError):
            code = _code(error)
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if code == "NoSuchBucket":
                return self._bucket_missing()
            if code in {"NoSuchKey", "404"}:
                return StorageError(StorageErrorKind.NOT_FOUND, f"{where} of target {name} does not exist.")
            if code in _DENIED or status == 403:
                # Without s3:ListBucket, S3 answers 403 rather than 404 for a key that does not exist.
                hint = (
                    " S3 also answers so for a missing key when s3:ListBucket is not granted." if key else ""
                )
                return StorageError(
                    StorageErrorKind.ACCESS_DENIED,
                    f"{action} denied on {where} for target {name} ({code}).{hint}",
                )
            if code in _UNSUPPORTED or status == 501:
                return StorageError(
                    StorageErrorKind.UNSUPPORTED,
                    f"The endpoint of target {name} does not implement {action} ({code}).",
                )
            if code in _TRANSIENT or status >= 500:
                return StorageError(
                    StorageErrorKind.TRANSIENT,
                    f"{action} on {where} for target {name} kept failing after retries ({code}); try again later.",
                )
            return StorageError(
                StorageErrorKind.INVALID, f"{action} on {where} for target {name} failed ({code})."
            )
        if isinstance(error, NoCredentialsError | PartialCredentialsError):
            return StorageError(
                StorageErrorKind.INVALID,
                f"No usable AWS credentials for target {name}; name a profile, a credentials_file "
                "or access_key_id_env and secret_access_key_env.",
            )
        if isinstance(error, ConnectionError | ConnectionClosedError | ReadTimeoutError):
            endpoint = self.target.endpoint_url or "the S3 endpoint"
            return StorageError(
                StorageErrorKind.TRANSIENT,
                f"Cannot reach {endpoint} for {action} on {where} of target {name}: {type(error).__name__}.",
            )
        return StorageError(
            StorageErrorKind.INVALID, f"{action} on {where} for target {name} failed: {error}."
        )


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
