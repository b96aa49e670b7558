"""Trust evidence on S3: who a set of credentials is, and which destructive permissions it holds on
a backup bucket, from the strongest source that answers.

1. ``iam:SimulatePrincipalPolicy`` (with drill's own credentials) for a principal in the bucket's
   account, the bucket policy passed in as the resource policy.
2. The bucket policy and ACL (read with drill's credentials): another account can act on the
   bucket only where they grant it something.
3. Probes with the credentials being judged, each refused before it could act: DeleteObject with a
   made-up version id, PutObjectRetention and PutObjectLegalHold, all of a key that does not exist
   (under ``drill-probe-<random>/`` in the target's prefix), and DeleteObject of such a key where it
   leaves no trace: on an unversioned bucket, or with ``trace_probes`` (on a versioned bucket it
   adds a delete marker for that absent key). S3 authorizes a request before it looks the key up,
   so 403 means denied and "no such key/version" means allowed. Bucket-configuration writes
   (policy, lifecycle, versioning, lock configuration, DeleteBucket) are never probed: no request
   of theirs is safe.

Measured on moto 5 in server mode with authorization on: the three object probes answer 403 for a
principal without the permission and 404 NoSuchKey/NoSuchVersion (or 400 for retention on a bucket
without Object Lock) for one with it, and none of them leaves an object, version or delete marker.
moto answers SimulatePrincipalPolicy with 500; that gap is recorded and the other sources decide.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from drill.config import Credentials, Target
from drill.model import Unavailable
from drill.permissions import S3_DESTRUCTIVE
from drill.storage.aws import SessionCache, client
from drill.storage.base import StorageError, StorageErrorKind
from drill.trust.aws_policy import (
    answers_from_simulation,
    bucket_arn,
    object_arn,
    resource_policy_answers,
    simulable_arn,
)
from drill.trust_facts import Access, Answer, EvidenceSource, Identity, PermissionAnswer

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_DENIED_CODES = frozenset({"AccessDenied", "403", "AllAccessDisabled"})
# What S3 answers an authorized request about a key or version that does not exist.
_ALLOWED_CODES = frozenset(
    {
        "NoSuchKey",
        "NoSuchVersion",
        "404",
        "InvalidArgument",
        "InvalidRequest",
        "BadDigest",
        "InvalidBucketState",
    }
)
_MADE_UP_VERSION = "drill-probe-version-0000000000000000"


def _code(error: ClientError) -> str:
    return str(
        error.response.get("Error", {}).get("Code")
        or error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    )


def caller_identity(
    credentials: Credentials, target: Target, environ: Mapping[str, str], sessions: SessionCache | None = None
) -> Identity:
    """sts:GetCallerIdentity: needs no permission, names the account and principal of any credentials."""
    session = (sessions or SessionCache(environ)).get(credentials, target.region)
    sts = client(session, "sts", target.endpoint_url, target.region, max_attempts=2)
    try:
        answer = sts.get_caller_identity()
    except (ClientError, BotoCoreError) as error:
        code = _code(error) if isinstance(error, ClientError) else type(error).__name__
        raise StorageError(StorageErrorKind.ACCESS_DENIED, f"sts:GetCallerIdentity failed: {code}.") from None
    finally:
        sts.close()
    return Identity("aws", answer["Account"], answer["Arn"], "sts:GetCallerIdentity")


def s3_access(
    target: Target,
    credentials: Credentials,
    environ: Mapping[str, str],
    *,
    verifier_credentials: Credentials,
    trace_probes: bool = False,
    owner_account: str | None = None,
    sessions: SessionCache | None = None,
) -> Access:
    """What ``credentials`` may do to ``target``'s bucket, each answer from the strongest source."""
    assert target.bucket is not None  # guaranteed by config validation
    sessions = sessions or SessionCache(environ)
    gaps: list[str] = []
    try:
        identity: Identity | Unavailable = caller_identity(credentials, target, environ, sessions)
    except StorageError as error:
        identity = Unavailable(str(error))
        gaps.append(str(error))
    verifier = sessions.get(verifier_credentials, target.region)
    reader: S3Client = client(verifier, "s3", target.endpoint_url, target.region, max_attempts=2)
    try:
        policy, acl, owner_id, versioning = _bucket_documents(reader, target.bucket, gaps)
    finally:
        reader.close()
    sources: list[dict[str, PermissionAnswer]] = []
    if isinstance(identity, Identity):
        cross_account = owner_account is not None and identity.account != owner_account
        if not cross_account:
            sources.append(_simulate(verifier, target, identity, policy, gaps))
        if policy is not None or acl is not None:
            sources.append(
                resource_policy_answers(
                    policy,
                    acl or (),
                    owner_id,
                    permissions=S3_DESTRUCTIVE,
                    agent_account=identity.account or "",
                    agent_arn=identity.principal,
                    bucket=target.bucket,
                    prefix=target.prefix,
                    cross_account=cross_account,
                )
            )
    agent = sessions.get(credentials, target.region)
    probe_client: S3Client = client(agent, "s3", target.endpoint_url, target.region, max_attempts=2)
    try:
        sources.append(_probe(probe_client, target, versioning, trace_probes, gaps))
    finally:
        probe_client.close()
    return Access(identity, _combine(sources, gaps), tuple(gaps))


def _bucket_documents(
    reader: S3Client, bucket: str, gaps: list[str]
) -> tuple[dict[str, Any] | None, list[Any] | None, str | None, str | None]:
    """The bucket policy, ACL grants, owner id and versioning status, as far as drill may read them."""
    policy: dict[str, Any] | None = None
    acl: list[Any] | None = None
    owner_id: str | None = None
    versioning: str | None = "unknown"
    try:
        policy = json.loads(reader.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError as error:
        if _code(error) == "NoSuchBucketPolicy":
            policy = {}
        else:
            gaps.append(f"s3:GetBucketPolicy on {bucket} failed for drill's credentials: {_code(error)}")
    except (BotoCoreError, ValueError) as error:
        gaps.append(f"s3:GetBucketPolicy on {bucket} failed: {type(error).__name__}")
    try:
        answer = reader.get_bucket_acl(Bucket=bucket)
        acl = list(answer.get("Grants", []))
        owner_id = answer.get("Owner", {}).get("ID")
    except (ClientError, BotoCoreError) as error:
        code = _code(error) if isinstance(error, ClientError) else type(error).__name__
        gaps.append(f"s3:GetBucketAcl on {bucket} failed for drill's credentials: {code}")
    try:
        versioning = reader.get_bucket_versioning(Bucket=bucket).get("Status")
    except (ClientError, BotoCoreError):
        versioning = "unknown"  # the posture checks report why; here it only keeps probes careful
    return policy, acl, owner_id, versioning


def _simulate(
    verifier: Any, target: Target, identity: Identity, policy: dict[str, Any] | None, gaps: list[str]
) -> dict[str, PermissionAnswer]:
    assert target.bucket is not None
    arn = simulable_arn(identity.principal)
    if arn is None:
        gaps.append(
            f"iam:SimulatePrincipalPolicy cannot simulate {identity.principal} (an account root or federated user)"
        )
        return {}
    iam = client(verifier, "iam", target.endpoint_url, target.region, max_attempts=2)
    request: dict[str, Any] = {
        "PolicySourceArn": arn,
        "ActionNames": list(S3_DESTRUCTIVE),
        "ResourceArns": [bucket_arn(target.bucket), object_arn(target.bucket, target.prefix)],
    }
    if policy:
        request["ResourcePolicy"] = json.dumps(policy)
    results: list[Any] = []
    try:
        for page in iam.get_paginator("simulate_principal_policy").paginate(**request):
            results.extend(page.get("EvaluationResults", []))
    except ClientError as error:
        code = _code(error)
        hint = (
            "; grant drill iam:SimulatePrincipalPolicy on the agent's principal"
            if code in _DENIED_CODES
            else " (not implemented by this endpoint)"
            if code in ("500", "InternalError", "InternalFailure", "NotImplemented")
            else ""
        )
        gaps.append(f"iam:SimulatePrincipalPolicy unavailable to drill's credentials: {code}{hint}")
        return {}
    except (BotoCoreError, ResponseParserError) as error:
        # moto answers this action with an HTML 500 page, which botocore cannot parse.
        gaps.append(
            f"iam:SimulatePrincipalPolicy unavailable: {type(error).__name__} (not implemented by this endpoint?)"
        )
        return {}
    finally:
        iam.close()
    return answers_from_simulation(results, target.bucket, target.prefix)


def _probe(
    s3: S3Client, target: Target, versioning: str | None, trace_probes: bool, gaps: list[str]
) -> dict[str, PermissionAnswer]:
    assert target.bucket is not None
    bucket = target.bucket
    key = f"{target.prefix}drill-probe-{uuid.uuid4().hex}/absent"
    probes: dict[str, tuple[str, Callable[[], Any]]] = {
        "s3:DeleteObjectVersion": (
            "DeleteObject of a made-up version of a key that does not exist",
            lambda: s3.delete_object(Bucket=bucket, Key=key, VersionId=_MADE_UP_VERSION),
        ),
        "s3:PutObjectRetention": (
            "PutObjectRetention of a key that does not exist",
            lambda: s3.put_object_retention(
                Bucket=bucket,
                Key=key,
                Retention={"Mode": "GOVERNANCE", "RetainUntilDate": "2000-01-01T00:00:00Z"},
            ),
        ),
        "s3:PutObjectLegalHold": (
            "PutObjectLegalHold of a key that does not exist",
            lambda: s3.put_object_legal_hold(Bucket=bucket, Key=key, LegalHold={"Status": "OFF"}),
        ),
    }
    if versioning is None or trace_probes:
        probes["s3:DeleteObject"] = (
            "DeleteObject of a key that does not exist",
            lambda: s3.delete_object(Bucket=bucket, Key=key),
        )
    answers: dict[str, PermissionAnswer] = {}
    if "s3:DeleteObject" not in probes:
        answers["s3:DeleteObject"] = PermissionAnswer(
            "s3:DeleteObject",
            Answer.UNKNOWN,
            EvidenceSource.PROBE,
            "not probed: on a versioned bucket the probe would leave a delete marker (trace_probes = true allows it)",
        )
    for permission, (what, request) in probes.items():
        try:
            request()
        except ClientError as error:
            code = _code(error)
            if code in _DENIED_CODES:
                answers[permission] = PermissionAnswer(
                    permission, Answer.DENIED, EvidenceSource.PROBE, f"{what} answered {code}"
                )
            elif code in _ALLOWED_CODES:
                answers[permission] = PermissionAnswer(
                    permission,
                    Answer.ALLOWED,
                    EvidenceSource.PROBE,
                    f"{what} answered {code}, not AccessDenied",
                )
            else:
                answers[permission] = PermissionAnswer(
                    permission, Answer.UNKNOWN, EvidenceSource.PROBE, f"{what} answered {code}"
                )
        except BotoCoreError as error:
            answers[permission] = PermissionAnswer(
                permission, Answer.UNKNOWN, EvidenceSource.PROBE, f"{what} failed: {type(error).__name__}"
            )
        else:
            answers[permission] = PermissionAnswer(
                permission, Answer.ALLOWED, EvidenceSource.PROBE, f"{what} succeeded"
            )
    return answers


def _combine(sources: list[dict[str, PermissionAnswer]], gaps: list[str]) -> tuple[PermissionAnswer, ...]:
    """Per permission, the first settled answer in order of strength; else UNKNOWN with every reason."""
    combined = []
    for permission in S3_DESTRUCTIVE:
        candidates = [source[permission] for source in sources if permission in source]
        settled = next((answer for answer in candidates if answer.answer is not Answer.UNKNOWN), None)
        if settled is None:
            simulation = next((gap for gap in gaps if "SimulatePrincipalPolicy" in gap), None)
            reasons = "; ".join(answer.detail for answer in candidates) or (
                f"no safe probe exists, and {simulation}" if simulation else "no safe probe exists"
            )
            settled = PermissionAnswer(permission, Answer.UNKNOWN, EvidenceSource.PROBE, reasons)
        combined.append(settled)
    return tuple(combined)
