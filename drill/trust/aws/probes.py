"""Probes of a backup bucket with the credentials being judged, each of a key that does not exist,
under ``<prefix>drill-probe-<random>/``: S3 authorizes a request before it looks the key up, so
403 AccessDenied means denied and "no such key/version" (or success on nothing) means allowed.

- ``s3:DeleteObjectVersion``: DeleteObject with a made-up version id. Deleting a version never
  leaves a delete marker.
- ``s3:PutObjectRetention`` and ``s3:PutObjectLegalHold``: a GOVERNANCE retention (a date in
  the future) and a legal hold OFF, on the absent key.
- ``s3:DeleteObject``: DeleteObject of the absent key, only on a bucket that was never
  versioned, where it leaves no trace, or when the agent's ``trace_probes`` is true. On a
  versioned (or suspended) bucket it **adds a delete marker** for the absent key: a trace
  under ``drill-probe-…/`` that hides nothing, which anyone with s3:DeleteObjectVersion can
  remove, and which drill (read-only) never cleans up.

Never probed: ``s3:PutObject`` (the only refusal before a write is a wrong Content-MD5, and
moto stores such an object anyway: an endpoint that did so on an Object Lock bucket would keep
a probe object that nobody can delete), ``s3:BypassGovernanceRetention`` (S3 checks it only
against a GOVERNANCE-locked version, and drill never touches a real one), and every
bucket-configuration write (policy, lifecycle, versioning, lock configuration, DeleteBucket):
no request of theirs is safe. They stay UNKNOWN unless a stronger source answered.
Any answer other than AccessDenied or the expected "absent" errors is UNKNOWN with its code,
never DENIED. One caveat from AWS's documentation: GET and HEAD of a missing key answer 403
instead of 404 to a caller without s3:ListBucket; the retention and legal-hold writes are not
documented either way, so their DENIED detail carries S3's message (AWS's newer messages name
the action and the policy type that denied it).

Measured on moto 5.2.5 in server mode with authorization on (identity policies enforced before
the backend answers, so 403 comes first whatever the key):
- DeleteObject with a version id: 403 AccessDenied without s3:DeleteObjectVersion (s3:DeleteObject
  alone is not enough), 204 with it; no version, object or delete marker appears.
- PutObjectRetention / PutObjectLegalHold: 403 without the permission; with it, 400 InvalidRequest
  ("Bucket is missing ObjectLockConfiguration") on a bucket without Object Lock, and 500 (moto
  fails on the absent key) on an Object Lock bucket, which drill reports as UNKNOWN.
- DeleteObject without a version id: 403 without s3:DeleteObject, 204 with it. moto adds no delete
  marker for a key it never held, even on a versioned bucket; AWS documents that it does.
- PutObject with a wrong Content-MD5: 403 without s3:PutObject, but **200 with it: moto stores
  the object** (and on an Object Lock bucket locks it), hence no PutObject probe.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from drill.clouds.aws import client
from drill.config import Target
from drill.facts import Answer, EvidenceSource, PermissionAnswer
from drill.permissions import S3_BUCKET_CONFIGURATION
from drill.trust.aws.bucket import UNREAD
from drill.trust.aws.codes import ABSENT_CODES, DENIED_CODES, code_of, status_of

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Why these are never probed; the module docstring has the longer story.
_NOT_PROBED = {
    "s3:PutObject": "never probed: only a wrong Content-MD5 refuses a write, and moto stores it anyway",
    "s3:BypassGovernanceRetention": "never probed: S3 checks it only on a GOVERNANCE-locked version",
    **dict.fromkeys(S3_BUCKET_CONFIGURATION, "never probed: no bucket-configuration write is harmless"),
}


def _made_up_version_id() -> str:
    # The shape of a real S3 version id (32 URL-safe characters), never one that exists: the key is new.
    return secrets.token_urlsafe(24)[:32]


def probe(
    session: boto3.Session, target: Target, bucket: str, versioning: str | None, *, trace_probes: bool
) -> dict[str, PermissionAnswer]:
    """Requests with the agent's credentials that cannot change any backup; see the module docstring."""
    key = f"{target.prefix}drill-probe-{uuid.uuid4().hex}/absent"
    s3: S3Client = client(session, "s3", target.endpoint_url, target.region, max_attempts=2)
    retain_until = datetime.now(UTC) + timedelta(days=1)
    probes: dict[str, tuple[str, Callable[[], object]]] = {
        "s3:DeleteObjectVersion": (
            "DeleteObject of a made-up version of an absent key",
            lambda: s3.delete_object(Bucket=bucket, Key=key, VersionId=_made_up_version_id()),
        ),
        "s3:PutObjectRetention": (
            "PutObjectRetention on an absent key",
            lambda: s3.put_object_retention(
                Bucket=bucket, Key=key, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": retain_until}
            ),
        ),
        "s3:PutObjectLegalHold": (
            "PutObjectLegalHold OFF on an absent key",
            lambda: s3.put_object_legal_hold(Bucket=bucket, Key=key, LegalHold={"Status": "OFF"}),
        ),
    }
    answers = {
        permission: PermissionAnswer(permission, Answer.UNKNOWN, EvidenceSource.PROBE, reason)
        for permission, reason in _NOT_PROBED.items()
    }
    if versioning is None or trace_probes:
        probes["s3:DeleteObject"] = (
            "DeleteObject of an absent key",
            lambda: s3.delete_object(Bucket=bucket, Key=key),
        )
    else:
        why = "could not be read" if versioning == UNREAD else f"is {versioning}"
        answers["s3:DeleteObject"] = PermissionAnswer(
            "s3:DeleteObject",
            Answer.UNKNOWN,
            EvidenceSource.PROBE,
            f"not probed: the bucket's versioning {why}, so the probe would leave a delete marker "
            "(trace_probes = true allows it)",
        )
    try:
        for permission, (what, request) in probes.items():
            answers[permission] = _probe_answer(permission, what, request)
    finally:
        s3.close()
    return answers


def _probe_answer(permission: str, what: str, request: Callable[[], object]) -> PermissionAnswer:
    try:
        request()
    except ClientError as error:
        code = code_of(error)
        if code in DENIED_CODES:
            message = str(error.response.get("Error", {}).get("Message") or "")
            said = f": {message[:200]}" if message and message != "Access Denied" else ""
            return PermissionAnswer(
                permission, Answer.DENIED, EvidenceSource.PROBE, f"{what} answered {status_of(error)}{said}"
            )
        if code in ABSENT_CODES:
            return PermissionAnswer(
                permission,
                Answer.ALLOWED,
                EvidenceSource.PROBE,
                f"{what} answered {status_of(error)}, not AccessDenied: the request was authorized",
            )
        return PermissionAnswer(
            permission,
            Answer.UNKNOWN,
            EvidenceSource.PROBE,
            f"{what} answered {status_of(error)}, which proves nothing",
        )
    except (BotoCoreError, ResponseParserError) as error:
        return PermissionAnswer(
            permission, Answer.UNKNOWN, EvidenceSource.PROBE, f"{what} failed: {type(error).__name__}"
        )
    return PermissionAnswer(
        permission, Answer.ALLOWED, EvidenceSource.PROBE, f"{what} succeeded (there was nothing to act on)"
    )
