"""Probes of the real backup keys with the credentials being judged, each a request that cannot
change them: it names a version id that does not exist. S3 authorizes a request on the key it
names before it looks the version up, so 403 AccessDenied means denied *for that key*, and "no
such version" (or success on nothing) means allowed.

- ``s3:DeleteObjectVersion``: DeleteObject of the key with a made-up version id.
- ``s3:PutObjectRetention`` / ``s3:PutObjectLegalHold``: a GOVERNANCE retention a day out, and a
  legal hold OFF, on a made-up version of the key.

Only on a bucket whose versioning is Enabled: there S3 looks the version up and finds nothing.
On a bucket that was never versioned, **moto deletes the object** when asked to delete a made-up
version of it (measured, 5.2.5: its unversioned delete ignores the version id), and an S3-
compatible store may do the same, so drill sends nothing there. A 403 speaks for the probed key
and for requests like drill's: every listed key is probed (up to ``MAX_KEYS``) and a permission
is denied only when each answered 403. A condition in a policy drill read (source address, VPC
endpoint...) that could let the agent's own requests through keeps the answer UNKNOWN (see
``drill.trust.aws.access``).

Never probed: ``s3:DeleteObject`` (no request that names a real key without a version id is
harmless: it hides or deletes it), ``s3:PutObject`` (only a wrong Content-MD5 refuses a write, and
moto stores such an object anyway), ``s3:BypassGovernanceRetention`` (S3 checks it only on a
GOVERNANCE-locked version) and every bucket-configuration write. They are answered by the
policies drill reads, or stay UNKNOWN.

Measured on moto 5.2.5 in server mode with IAM enforced, on a real key of a versioned bucket:
- DeleteObject with a made-up version id: 403 AccessDenied without s3:DeleteObjectVersion on that
  key (a grant on ``pg/a*`` answers 204 for ``pg/a.dump`` and 403 elsewhere); 204 with it; the
  key's versions are unchanged and no delete marker appears.
- PutObjectRetention / PutObjectLegalHold with a made-up version id: 403 without the permission;
  with it, 400 InvalidRequest on a bucket without Object Lock, and 500 on an Object Lock bucket
  (moto fails to find the version), which drill reports as UNKNOWN; the real version's legal hold
  and retention are unchanged.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from drill.clouds.aws import client
from drill.config import Target
from drill.facts import Answer, EvidenceSource, PermissionAnswer
from drill.names import unescape_name
from drill.permissions import S3_BUCKET_CONFIGURATION
from drill.trust.aws.bucket import UNREAD
from drill.trust.aws.codes import ABSENT_CODES, DENIED_CODES, code_of, status_of

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MAX_KEYS = 16
_NOT_PROBED = {
    "s3:DeleteObject": "never probed: no DeleteObject of a real key without a version id is harmless",
    "s3:PutObject": "never probed: only a wrong Content-MD5 refuses a write, and moto stores it anyway",
    "s3:BypassGovernanceRetention": "never probed: S3 checks it only on a GOVERNANCE-locked version",
    **dict.fromkeys(S3_BUCKET_CONFIGURATION, "never probed: no bucket-configuration write is harmless"),
}


def _made_up_version_id() -> str:
    # The shape of a real S3 version id (32 URL-safe characters); 192 random bits never name one.
    return secrets.token_urlsafe(24)[:32]


def _unprobed(permission: str, reason: str) -> PermissionAnswer:
    return PermissionAnswer(permission, Answer.UNKNOWN, EvidenceSource.PROBE, reason)


def probe(
    session: boto3.Session, target: Target, bucket: str, versioning: str | None, keys: Sequence[str]
) -> dict[str, PermissionAnswer]:
    """Requests with the agent's credentials on the real keys that cannot change them."""
    answers = {permission: _unprobed(permission, reason) for permission, reason in _NOT_PROBED.items()}
    probed = ("s3:DeleteObjectVersion", "s3:PutObjectRetention", "s3:PutObjectLegalHold")
    if versioning != "Enabled":
        why = "could not be read" if versioning == UNREAD else f"is {versioning or 'off'}"
        for permission in probed:
            answers[permission] = _unprobed(
                permission, f"not probed: the bucket's versioning {why}, so no request on a real key is safe"
            )
        return answers
    if not keys:
        for permission in probed:
            answers[permission] = _unprobed(permission, "not probed: no backup key was listed")
        return answers
    chosen = list(dict.fromkeys(keys))[:MAX_KEYS]
    s3: S3Client = client(session, "s3", target.endpoint_url, target.region, max_attempts=2)
    retain_until = datetime.now(UTC) + timedelta(days=1)
    requests: dict[str, tuple[str, Callable[[str, str], object]]] = {
        "s3:DeleteObjectVersion": (
            "DeleteObject with a made-up version id",
            lambda key, version: s3.delete_object(Bucket=bucket, Key=unescape_name(key), VersionId=version),
        ),
        "s3:PutObjectRetention": (
            "PutObjectRetention on a made-up version",
            lambda key, version: s3.put_object_retention(
                Bucket=bucket,
                Key=unescape_name(key),
                VersionId=version,
                Retention={"Mode": "GOVERNANCE", "RetainUntilDate": retain_until},
            ),
        ),
        "s3:PutObjectLegalHold": (
            "PutObjectLegalHold OFF on a made-up version",
            lambda key, version: s3.put_object_legal_hold(
                Bucket=bucket, Key=unescape_name(key), VersionId=version, LegalHold={"Status": "OFF"}
            ),
        ),
    }
    try:
        for permission, (what, request) in requests.items():
            per_key = [(key, _one(what, request, key)) for key in chosen]
            answers[permission] = _combined(permission, per_key, skipped=len(set(keys)) - len(chosen))
    finally:
        s3.close()
    return answers


def _one(what: str, request: Callable[[str, str], object], key: str) -> tuple[Answer, str]:
    try:
        request(key, _made_up_version_id())
    except ClientError as error:
        code = code_of(error)
        if code in DENIED_CODES:
            message = str(error.response.get("Error", {}).get("Message") or "")
            said = f": {message[:200]}" if message and message != "Access Denied" else ""
            return Answer.DENIED, f"{what} answered {status_of(error)}{said}"
        if code in ABSENT_CODES:
            return (
                Answer.ALLOWED,
                f"{what} answered {status_of(error)}, not AccessDenied: the request was authorized",
            )
        return Answer.UNKNOWN, f"{what} answered {status_of(error)}, which proves nothing"
    except (BotoCoreError, ResponseParserError) as error:
        return Answer.UNKNOWN, f"{what} failed: {type(error).__name__}"
    return Answer.ALLOWED, f"{what} succeeded (the version does not exist: nothing was deleted)"


def _combined(
    permission: str, per_key: list[tuple[str, tuple[Answer, str]]], *, skipped: int
) -> PermissionAnswer:
    for key, (answer, detail) in per_key:
        if answer is Answer.ALLOWED:
            return PermissionAnswer(permission, Answer.ALLOWED, EvidenceSource.PROBE, f"{detail} on {key}")
    for key, (answer, detail) in per_key:
        if answer is Answer.UNKNOWN:
            return PermissionAnswer(permission, Answer.UNKNOWN, EvidenceSource.PROBE, f"{detail} on {key}")
    if skipped:
        return _unprobed(
            permission, f"denied on the {len(per_key)} keys probed, but {skipped} more were not probed"
        )
    keys = ", ".join(key for key, _ in per_key)
    detail = per_key[0][1][1]
    return PermissionAnswer(
        permission, Answer.DENIED, EvidenceSource.PROBE, f"{detail}, on every backup key judged ({keys})"
    )
