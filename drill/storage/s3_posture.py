"""Read an S3 bucket's protection (versioning, Object Lock, lifecycle, the digests of its policy and
ACL) and one object's lock state.

One bucket call per part; a part that cannot be read is ``Unavailable`` on its own, so a denied
lifecycle read never hides the lock state. The normalising functions take the documented
response shapes as plain mappings, so they can be tested without a server.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from botocore.exceptions import BotoCoreError, ClientError

from drill.clouds.errors import StorageError
from drill.facts import DocumentDigest, LifecycleRule, ObjectProtection, S3BucketPosture
from drill.model import Unavailable
from drill.storage.base import document_digest

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

T = TypeVar("T")
# Turns a botocore error into drill's message; given the IAM action the failed call needs.
Translate = Callable[[ClientError | BotoCoreError, str], StorageError]

# head_object names the checksum headers; S3 spells every value in base64.
HEAD_CHECKSUMS = {
    "ChecksumSHA256": "sha256",
    "ChecksumSHA1": "sha1",
    "ChecksumCRC32": "crc32",
    "ChecksumCRC32C": "crc32c",
    "ChecksumCRC64NVME": "crc64nvme",
}
# Filter elements drill cannot evaluate against a snapshot key: the rule is assumed to apply.
_UNKNOWN_FILTERS = ("Tag", "Tags", "ObjectSizeGreaterThan", "ObjectSizeLessThan")
_DAYS_PER_YEAR = 365


class _BucketMissing(Exception):
    def __init__(self, error: StorageError) -> None:
        self.error = error
        super().__init__(str(error))


def read_posture(client: S3Client, bucket: str, translate: Translate) -> S3BucketPosture:
    """The bucket's posture in five calls; never raises for an S3 error (see ``Store.posture``)."""

    def versioning() -> str | None:
        return versioning_status(cast(Mapping[str, Any], client.get_bucket_versioning(Bucket=bucket)))

    def lock() -> tuple[bool, str | None, int | None]:
        return object_lock(cast(Mapping[str, Any], client.get_object_lock_configuration(Bucket=bucket)))

    def lifecycle() -> tuple[LifecycleRule, ...]:
        response = client.get_bucket_lifecycle_configuration(Bucket=bucket)
        return lifecycle_rules(cast(Mapping[str, Any], response))

    def policy() -> DocumentDigest | None:
        return policy_digest(client.get_bucket_policy(Bucket=bucket)["Policy"])

    def acl() -> DocumentDigest:
        return acl_digest(cast(Mapping[str, Any], client.get_bucket_acl(Bucket=bucket)))

    no_lock: tuple[bool, str | None, int | None] = (False, None, None)
    no_rules: tuple[LifecycleRule, ...] = ()
    try:
        status = _part(versioning, "s3:GetBucketVersioning", (), None, translate)
        lock_state = _part(
            lock,
            "s3:GetBucketObjectLockConfiguration",
            ("ObjectLockConfigurationNotFoundError",),
            no_lock,
            translate,
        )
        rules = _part(
            lifecycle, "s3:GetLifecycleConfiguration", ("NoSuchLifecycleConfiguration",), no_rules, translate
        )
        bucket_policy = _part(policy, "s3:GetBucketPolicy", ("NoSuchBucketPolicy",), None, translate)
        bucket_acl = _part(acl, "s3:GetBucketAcl", (), None, translate)
    except _BucketMissing as missing:  # no point asking the others; and every part has the one answer
        gone = Unavailable(str(missing.error))
        return S3BucketPosture(gone, gone, gone, gone, gone, gone, gone)
    if isinstance(lock_state, Unavailable):
        enabled: bool | Unavailable = lock_state
        mode: str | Unavailable | None = lock_state
        days: int | Unavailable | None = lock_state
    else:
        enabled, mode, days = lock_state
    return S3BucketPosture(
        versioning=status,
        object_lock_enabled=enabled,
        default_lock_mode=mode,
        default_lock_days=days,
        lifecycle=rules,
        policy=bucket_policy,
        acl=bucket_acl if bucket_acl is not None else Unavailable("S3 answered no ACL."),
    )


def _part(
    read: Callable[[], T], action: str, absent_codes: tuple[str, ...], absent: T, translate: Translate
) -> T | Unavailable:
    """One part of the posture: its value, ``absent`` when S3 says it is not configured, or why not."""
    try:
        return read()
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in absent_codes:
            return absent
        translated = translate(error, action)
        if code == "NoSuchBucket":
            raise _BucketMissing(translated) from None
        return Unavailable(str(translated))
    except BotoCoreError as error:
        return Unavailable(str(translate(error, action)))


def policy_digest(text: str) -> DocumentDigest:
    """The bucket policy's digest, of its JSON (so that its spacing does not count)."""
    try:
        document = json.loads(text)
    except ValueError:
        document = text  # not JSON: digested as written, and the trust checks say it cannot be read
    statements = document.get("Statement", ()) if isinstance(document, dict) else ()
    count = 1 if isinstance(statements, dict) else len(statements) if isinstance(statements, list) else 0
    return document_digest(document, count, "statement")


def acl_digest(response: Mapping[str, Any]) -> DocumentDigest:
    """The ACL's digest: its owner and grants, in any order, without display names (which S3 may
    change on its own)."""
    grants = []
    for grant in response.get("Grants") or ():
        grantee = {key: value for key, value in (grant.get("Grantee") or {}).items() if key != "DisplayName"}
        grants.append({"Grantee": grantee, "Permission": grant.get("Permission")})
    grants.sort(key=lambda grant: json.dumps(grant, sort_keys=True))
    owner = (response.get("Owner") or {}).get("ID")
    return document_digest({"Owner": owner, "Grants": grants}, len(grants), "grant")


def versioning_status(response: Mapping[str, Any]) -> str | None:
    """``Enabled`` or ``Suspended``; None when versioning was never turned on (S3 omits ``Status``)."""
    status = response.get("Status")
    return str(status) if status else None


def object_lock(response: Mapping[str, Any]) -> tuple[bool, str | None, int | None]:
    """Whether Object Lock is on, and the default retention's mode and length in days (a year is 365).

    moto answers ``Days`` and ``Years`` both, the unused one as 0; AWS sends only the one that is set.
    """
    config = response.get("ObjectLockConfiguration") or {}
    enabled = config.get("ObjectLockEnabled") == "Enabled"
    retention = (config.get("Rule") or {}).get("DefaultRetention") or {}
    mode = retention.get("Mode") or None
    days: int | None = None
    if retention.get("Days"):
        days = int(retention["Days"])
    elif retention.get("Years"):
        days = int(retention["Years"]) * _DAYS_PER_YEAR
    return enabled, mode, days


def lifecycle_rules(response: Mapping[str, Any]) -> tuple[LifecycleRule, ...]:
    return tuple(lifecycle_rule(rule, index) for index, rule in enumerate(response.get("Rules") or ()))


def lifecycle_rule(rule: Mapping[str, Any], index: int) -> LifecycleRule:
    """One rule of GetBucketLifecycleConfiguration, with its filter reduced to a prefix.

    The prefix comes from ``Filter.Prefix``, ``Filter.And.Prefix`` or the legacy top-level
    ``Prefix``; an empty prefix matches everything and becomes None. Tag and size filters cannot be
    evaluated against a key, so the rule is marked ``conditions_unknown`` and assumed to apply.
    """
    rule_filter: Mapping[str, Any] = rule.get("Filter") or {}
    conjunction: Mapping[str, Any] = rule_filter.get("And") or {}
    prefix = rule_filter.get("Prefix") or conjunction.get("Prefix") or rule.get("Prefix") or None
    unknown = any(name in part for part in (rule_filter, conjunction) for name in _UNKNOWN_FILTERS)
    expiration: Mapping[str, Any] = rule.get("Expiration") or {}
    noncurrent: Mapping[str, Any] = rule.get("NoncurrentVersionExpiration") or {}
    expire_on = expiration.get("Date")
    return LifecycleRule(
        rule_id=str(rule.get("ID") or f"lifecycle[{index}]"),
        enabled=rule.get("Status") == "Enabled",
        prefix=prefix,
        expire_current_days=_days(expiration.get("Days")),
        expire_noncurrent_days=_days(noncurrent.get("NoncurrentDays")),
        expire_on=_utc(expire_on) if isinstance(expire_on, datetime) else None,
        conditions_unknown=unknown,
        raw=_plain(rule),
    )


def _days(value: Any) -> int | None:
    return int(value) if value is not None else None


def _utc(moment: datetime) -> datetime:
    # botocore parses S3's "Z" timestamps as tzutc, but moto's as tzlocal; a naive one is UTC.
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _plain(value: Any) -> Any:
    """A deep copy made of dicts, lists and scalars: evidence that serialises without surprises."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return _utc(value)
    return value


def head_checksums(head: Mapping[str, Any]) -> dict[str, str]:
    """The etag and every whole-object checksum HEAD returned (with ``ChecksumMode=ENABLED``).

    Under SSE-KMS or SSE-C the ETag is not the object's MD5, so it is left out rather than
    compared with an MD5 sidecar or another copy and mistaken for corruption.
    """
    encrypted = head.get("ServerSideEncryption", "").startswith("aws:kms") or "SSECustomerAlgorithm" in head
    checksums = {} if encrypted else {"etag": str(head["ETag"]).strip('"')}
    for field, algorithm in HEAD_CHECKSUMS.items():
        value = head.get(field)
        # A multipart upload's checksum is a checksum of part checksums ("...-3"), not of the object.
        if isinstance(value, str) and "-" not in value and head.get("ChecksumType") != "COMPOSITE":
            checksums[algorithm] = value
    return checksums


def object_protection(key: str, head: Mapping[str, Any]) -> ObjectProtection:
    """The lock state of one version from its HEAD response.

    S3 sends the retention headers only to a caller holding s3:GetObjectRetention, and the legal
    hold header only with s3:GetObjectLegalHold: without them the version reads as unlocked, which
    the immutability check fails closed on.
    """
    version = head.get("VersionId")
    retain_until = head.get("ObjectLockRetainUntilDate")
    return ObjectProtection(
        key=key,
        size=int(head["ContentLength"]),
        written_at=_utc(head["LastModified"]),
        version_id=version if version and version != "null" else None,
        lock_mode=head.get("ObjectLockMode") or None,
        retain_until=_utc(retain_until) if isinstance(retain_until, datetime) else None,
        legal_hold=head.get("ObjectLockLegalHoldStatus") == "ON",
        checksums=head_checksums(head),
    )
