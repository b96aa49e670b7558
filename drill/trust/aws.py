"""Trust evidence on S3: who a set of credentials is, and which destructive permissions it holds on
a backup bucket, each answered from the strongest source that can answer it.

1. ``iam:SimulatePrincipalPolicy``, called with drill's own credentials (the target's) for the
   principal being judged, the bucket policy passed in as the resource policy where AWS simulates
   one (see ``drill.trust.aws_simulation``).
2. The bucket policy and ACL, read with drill's credentials: an unconditional Deny settles a
   permission in any account, and another account can act only where they grant it something
   (see ``drill.trust.aws_policy``).
3. Probes with the credentials being judged, each of a key that does not exist, under
   ``<prefix>drill-probe-<random>/``: S3 authorizes a request before it looks the key up, so
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
- SimulatePrincipalPolicy: an HTML 500 page (not implemented); recorded as a gap.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from botocore.parsers import ResponseParserError

from drill.config import Credentials, Target
from drill.model import Unavailable
from drill.permissions import S3_DESTRUCTIVE, S3_OBJECT_PERMISSIONS
from drill.storage.aws import SessionCache, client
from drill.storage.base import StorageError, StorageErrorKind
from drill.trust.aws_policy import (
    Verdict,
    bucket_verdicts,
    partition_of,
    resource_policy_answers,
    role_of,
)
from drill.trust.aws_simulation import (
    Simulated,
    answers_from_simulation,
    compact_policy,
    is_user,
    simulable_arn,
    simulation_request,
)
from drill.trust_facts import Access, Answer, EvidenceSource, Identity, PermissionAnswer

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_s3 import S3Client

_DENIED_CODES = frozenset({"AccessDenied", "AllAccessDisabled"})
# What S3 answers an authorized request about a key or a version that does not exist.
_ABSENT_CODES = frozenset({"NoSuchKey", "NoSuchVersion", "404", "InvalidArgument", "InvalidRequest"})
_NOT_IMPLEMENTED_CODES = frozenset({"500", "501", "InternalError", "InternalFailure", "NotImplemented"})
_REFUSED_CREDENTIALS = {
    "InvalidClientTokenId": "the access key id does not exist",
    "SignatureDoesNotMatch": "the secret access key does not match the access key id",
    "ExpiredToken": "the session token has expired",
    "ExpiredTokenException": "the session token has expired",
    "InvalidAccessKeyId": "the access key id does not exist",
}
_BUCKET_CONFIGURATION = tuple(
    permission for permission in S3_DESTRUCTIVE if permission not in S3_OBJECT_PERMISSIONS
)
# Why these are never probed; the module docstring has the longer story.
_NOT_PROBED = {
    "s3:PutObject": "never probed: only a wrong Content-MD5 refuses a write, and moto stores it anyway",
    "s3:BypassGovernanceRetention": "never probed: S3 checks it only on a GOVERNANCE-locked version",
    **dict.fromkeys(_BUCKET_CONFIGURATION, "never probed: no bucket-configuration write is harmless"),
}


def _code(error: ClientError) -> str:
    return str(
        error.response.get("Error", {}).get("Code")
        or error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    )


def _status(error: ClientError) -> str:
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = _code(error)
    return f"{status} {code}" if status and str(status) != code else code


def _described(credentials: Credentials) -> str:
    """Where the credentials come from, by name only: never a value."""
    if credentials.access_key_id_env:
        return f"the keys in {credentials.access_key_id_env} and {credentials.secret_access_key_env}"
    if credentials.profile or credentials.credentials_file:
        where = f" in {credentials.credentials_file}" if credentials.credentials_file else ""
        return f"profile {credentials.profile or 'default'!r}{where}"
    return "the SDK's default credential chain"


def caller_identity(
    credentials: Credentials,
    target: Target,
    environ: Mapping[str, str],
    sessions: SessionCache | None = None,
) -> Identity:
    """Who the credentials are, by sts:GetCallerIdentity (which needs no permission).

    Raises StorageError: INVALID when a named variable or profile does not exist (the message names
    it, never a value) or no credentials are found; ACCESS_DENIED when AWS refuses the credentials;
    TRANSIENT when the endpoint cannot be reached.
    """
    session = (sessions or SessionCache(environ)).get(credentials, target.region)
    return _identity(session, target, credentials)


def _identity(session: boto3.Session, target: Target, credentials: Credentials) -> Identity:
    who = _described(credentials)
    sts = client(session, "sts", target.endpoint_url, target.region, max_attempts=2)
    try:
        answer = sts.get_caller_identity()
    except NoCredentialsError:
        raise StorageError(
            StorageErrorKind.INVALID,
            f"sts:GetCallerIdentity found no AWS credentials in {who}; name a profile or key variables.",
        ) from None
    except ClientError as error:
        code = _code(error)
        meaning = _REFUSED_CREDENTIALS.get(code, "AWS refused the request")
        raise StorageError(
            StorageErrorKind.ACCESS_DENIED,
            f"sts:GetCallerIdentity refused {who}: {_status(error)} ({meaning}).",
        ) from None
    except (BotoCoreError, ResponseParserError) as error:
        raise StorageError(
            StorageErrorKind.TRANSIENT,
            f"sts:GetCallerIdentity for {who} failed: {type(error).__name__}.",
        ) from None
    finally:
        sts.close()
    return Identity("aws", answer["Account"], answer["Arn"], "sts:GetCallerIdentity")


def verifier_access(
    target: Target,
    environ: Mapping[str, str],
    *,
    owner_account: str | None = None,
    snapshot_keys: Sequence[str] = (),
    sessions: SessionCache | None = None,
) -> Access:
    """The same questions asked of drill's own credentials (the target's): drill only reads, so
    each destructive permission it holds is one to drop. Its probes never leave a trace."""
    return s3_access(
        target,
        target.credentials,
        environ,
        verifier_credentials=target.credentials,
        trace_probes=False,
        owner_account=owner_account,
        snapshot_keys=snapshot_keys,
        sessions=sessions,
    )


def s3_access(
    target: Target,
    agent_credentials: Credentials,
    environ: Mapping[str, str],
    *,
    verifier_credentials: Credentials,
    trace_probes: bool = False,
    owner_account: str | None = None,
    snapshot_keys: Sequence[str] = (),
    sessions: SessionCache | None = None,
) -> Access:
    """What ``agent_credentials`` may do to ``target``'s bucket: one answer per permission in
    S3_DESTRUCTIVE, from the strongest source that settles it (simulation, then the bucket policy
    and ACL, then probes); UNKNOWN answers say why, and ``gaps`` name the evidence drill lacked.

    ``verifier_credentials`` (drill's own) read the bucket policy, ACL and versioning and call the
    simulation; only the probes use the agent's credentials. The bucket's owner is
    ``owner_account``, else ``target.account``, else the account of drill's credentials.
    ``snapshot_keys`` (the newest snapshots) are simulated and judged alongside the prefix, so that
    a grant on a narrower prefix is not missed; they are never probed. ``sessions`` shares one
    boto3 session per credential set across calls.

    Raises StorageError only when the agent's credentials cannot be built (a variable or profile
    that does not exist); everything else that fails becomes a gap.
    """
    if target.bucket is None:
        raise StorageError(StorageErrorKind.INVALID, f"Target {target.name} names no bucket.")
    gaps: list[str] = []
    sessions = sessions or SessionCache(environ)
    agent_session = sessions.get(agent_credentials, target.region)
    own = verifier_credentials == agent_credentials  # verifier_access: drill judging itself
    identity = _attempt_identity(
        agent_session, target, agent_credentials, gaps, whose="drill's" if own else "the agent's"
    )
    verifier_session: boto3.Session | None
    if own:
        verifier_session, verifier = agent_session, identity
    else:
        try:
            verifier_session = sessions.get(verifier_credentials, target.region)
        except StorageError as error:
            verifier_session = None
            gaps.append(f"drill's own credentials for {target.name}: {error}")
        verifier = (
            _attempt_identity(verifier_session, target, verifier_credentials, gaps, whose="drill's")
            if verifier_session is not None
            else Unavailable("drill's own credentials could not be built")
        )
    owner = owner_account or target.account or (verifier.account if isinstance(verifier, Identity) else None)
    documents = (
        _read_bucket(verifier_session, target, target.bucket, gaps)
        if verifier_session is not None
        else _Documents(policy=None, policy_text=None, acl_grants=None, owner_id=None, versioning=_UNREAD)
    )
    sources: list[Mapping[str, PermissionAnswer]] = []
    if isinstance(identity, Identity) and identity.account:
        cross_account = owner is not None and identity.account != owner
        verdicts = bucket_verdicts(
            documents.policy,
            documents.acl_grants,
            documents.owner_id,
            principal_account=identity.account,
            principal_arn=identity.principal,
            bucket=target.bucket,
            prefix=target.prefix,
            snapshot_keys=snapshot_keys,
        )
        if verifier_session is not None:
            sources.append(
                _simulate(
                    verifier_session,
                    target,
                    identity,
                    verifier,
                    owner=owner,
                    documents=documents,
                    verdicts=verdicts,
                    snapshot_keys=snapshot_keys,
                    gaps=gaps,
                )
            )
        sources.append(
            resource_policy_answers(
                verdicts,
                cross_account=cross_account,
                principal_account=identity.account,
                owner_account=owner,
            )
        )
    sources.append(
        _probe(agent_session, target, target.bucket, documents.versioning, trace_probes=trace_probes)
    )
    permissions = strongest(sources)
    unanswered = [
        answer.permission
        for answer in permissions
        if answer.permission in _BUCKET_CONFIGURATION and answer.answer is Answer.UNKNOWN
    ]
    if unanswered:
        gaps.append(
            f"No safe probe exists for bucket-configuration writes ({', '.join(unanswered)}): only "
            "iam:SimulatePrincipalPolicy or a Deny in the bucket policy can answer them."
        )
    return Access(identity, permissions, tuple(gaps))


def strongest(sources: Iterable[Mapping[str, PermissionAnswer]]) -> tuple[PermissionAnswer, ...]:
    """Per destructive permission, the first answer that is not UNKNOWN, sources taken strongest
    first; else UNKNOWN carrying every source's reason."""
    ordered = list(sources)
    combined = []
    for permission in S3_DESTRUCTIVE:
        candidates = [source[permission] for source in ordered if permission in source]
        settled = next((answer for answer in candidates if answer.answer is not Answer.UNKNOWN), None)
        if settled is None:
            reasons = list(dict.fromkeys(answer.detail for answer in candidates)) or ["no source answered"]
            source = candidates[0].source if candidates else EvidenceSource.PROBE
            settled = PermissionAnswer(permission, Answer.UNKNOWN, source, "; ".join(reasons))
        combined.append(settled)
    return tuple(combined)


def _attempt_identity(
    session: boto3.Session, target: Target, credentials: Credentials, gaps: list[str], *, whose: str
) -> Identity | Unavailable:
    try:
        return _identity(session, target, credentials)
    except StorageError as error:
        gaps.append(f"{whose} identity: {error}")
        return Unavailable(str(error))


_UNREAD = "unread"  # versioning status that could not be read; S3's own are None, Enabled, Suspended


@dataclass(frozen=True)
class _Documents:
    """What drill's credentials could read of the bucket; None where they could not."""

    policy: dict[str, Any] | None  # {} when the bucket has no policy
    policy_text: str | None
    acl_grants: list[Any] | None
    owner_id: str | None
    versioning: str | None  # None: never versioned; _UNREAD: unknown


def _read_bucket(session: boto3.Session, target: Target, bucket: str, gaps: list[str]) -> _Documents:
    reader: S3Client = client(session, "s3", target.endpoint_url, target.region, max_attempts=2)
    try:
        policy, policy_text = _bucket_policy(reader, bucket, gaps)
        acl_grants: list[Any] | None = None
        owner_id: str | None = None
        try:
            answer = reader.get_bucket_acl(Bucket=bucket)
            acl_grants = list(answer.get("Grants", []))
            owner_id = answer.get("Owner", {}).get("ID")
        except ClientError as error:
            gaps.append(
                f"s3:GetBucketAcl on {bucket} failed for drill's credentials: {_status(error)}; "
                "grant drill s3:GetBucketAcl so that ACL grants to other accounts can be ruled out."
            )
        except (BotoCoreError, ResponseParserError) as error:
            gaps.append(f"s3:GetBucketAcl on {bucket} failed: {type(error).__name__}.")
        try:
            versioning: str | None = reader.get_bucket_versioning(Bucket=bucket).get("Status")
        except (ClientError, BotoCoreError, ResponseParserError):
            versioning = _UNREAD  # the posture checks report why; here it only keeps the probes careful
    finally:
        reader.close()
    return _Documents(policy, policy_text, acl_grants, owner_id, versioning)


def _bucket_policy(
    reader: S3Client, bucket: str, gaps: list[str]
) -> tuple[dict[str, Any] | None, str | None]:
    try:
        text = reader.get_bucket_policy(Bucket=bucket)["Policy"]
    except ClientError as error:
        if _code(error) == "NoSuchBucketPolicy":
            return {}, None
        gaps.append(
            f"s3:GetBucketPolicy on {bucket} failed for drill's credentials: {_status(error)}; "
            "grant drill s3:GetBucketPolicy so that the bucket policy can be weighed."
        )
        return None, None
    except (BotoCoreError, ResponseParserError) as error:
        gaps.append(f"s3:GetBucketPolicy on {bucket} failed: {type(error).__name__}.")
        return None, None
    try:
        policy = json.loads(text)
    except ValueError:
        gaps.append(f"The bucket policy of {bucket} is not valid JSON.")
        return None, None
    if not isinstance(policy, dict):
        gaps.append(f"The bucket policy of {bucket} is not a JSON object.")
        return None, None
    return policy, text


def _unanswered(reason: str) -> dict[str, PermissionAnswer]:
    return {
        permission: PermissionAnswer(permission, Answer.UNKNOWN, EvidenceSource.SIMULATION, reason)
        for permission in S3_DESTRUCTIVE
    }


def _simulate(
    session: boto3.Session,
    target: Target,
    identity: Identity,
    verifier: Identity | Unavailable,
    *,
    owner: str | None,
    documents: _Documents,
    verdicts: Mapping[str, Verdict],
    snapshot_keys: Sequence[str],
    gaps: list[str],
) -> dict[str, PermissionAnswer]:
    assert target.bucket is not None  # checked by s3_access
    arn = simulable_arn(identity.principal)
    if arn is None:
        reason = "not simulated: an account root or federated user has no policies to simulate"
        gaps.append(f"iam:SimulatePrincipalPolicy cannot simulate {identity.principal}.")
        return _unanswered(reason)
    if isinstance(verifier, Identity) and verifier.account != identity.account:
        gaps.append(
            f"iam:SimulatePrincipalPolicy sees only principals of drill's own account ({verifier.account}); "
            f"{identity.principal} is in {identity.account}."
        )
        return _unanswered(
            f"not simulated: the principal is in another account ({identity.account}) than drill's"
        )
    cross_account = owner is not None and owner != identity.account
    # AWS simulates a resource policy for IAM users only; without one, an absent bucket policy
    # still leaves nothing out, except across accounts, where the bucket must grant too.
    include_policy = bool(documents.policy) and is_user(arn)
    included = include_policy or (documents.policy == {} and not cross_account)
    partition = partition_of(identity.principal)
    request = simulation_request(
        arn,
        target.bucket,
        target.prefix,
        partition=partition,
        snapshot_keys=snapshot_keys,
        bucket_policy=compact_policy(documents.policy) if include_policy and documents.policy else None,
        resource_owner=owner if cross_account else None,
    )
    iam: IAMClient = client(session, "iam", target.endpoint_url, target.region, max_attempts=2)
    try:
        response = simulate_principal(iam, request)
    except ClientError as error:
        code = _code(error)
        if code in _DENIED_CODES:
            hint = "; grant drill iam:SimulatePrincipalPolicy on the agent's principal"
        elif code in _NOT_IMPLEMENTED_CODES:
            hint = " (not implemented by this endpoint)"
        else:
            hint = ""
        gaps.append(
            f"iam:SimulatePrincipalPolicy unavailable to drill's credentials: {_status(error)}{hint}."
        )
        return _unanswered(f"not simulated (SimulatePrincipalPolicy answered {_status(error)})")
    except (BotoCoreError, ResponseParserError) as error:
        # moto answers this action with an HTML 500 page, which botocore cannot parse.
        gaps.append(
            f"iam:SimulatePrincipalPolicy unavailable: {type(error).__name__} (not implemented by this endpoint)."
        )
        return _unanswered(f"not simulated (SimulatePrincipalPolicy failed: {type(error).__name__})")
    finally:
        iam.close()
    return answers_from_simulation(
        response,
        target.bucket,
        target.prefix,
        partition=partition,
        snapshot_keys=snapshot_keys,
        simulated=Simulated(resource_policy_included=included, cross_account=cross_account),
        verdicts=verdicts,
    )


def simulate_principal(iam: IAMClient, request: Mapping[str, Any]) -> dict[str, Any]:
    """Every page of SimulatePrincipalPolicy's answer, its ``EvaluationResults`` joined.

    Two documented ambiguities are retried once each: a role with a path (an assumed-role ARN drops
    it) is looked up by name on NoSuchEntity, and a ResourceOwner refused as an ARN is sent as the
    bare account id.
    """
    current = dict(request)
    retried: set[str] = set()
    while True:
        try:
            results: list[Any] = []
            for page in iam.get_paginator("simulate_principal_policy").paginate(**current):
                results.extend(page.get("EvaluationResults", []))
        except ClientError as error:
            code = _code(error)
            role = role_of(current["PolicySourceArn"])
            if code == "NoSuchEntity" and role is not None and "role" not in retried:
                retried.add("role")
                current["PolicySourceArn"] = iam.get_role(RoleName=role[1])["Role"]["Arn"]
                continue
            owner = str(current.get("ResourceOwner", ""))
            if code == "InvalidInput" and owner.endswith(":root") and "owner" not in retried:
                retried.add("owner")
                current["ResourceOwner"] = owner.split(":")[4]
                continue
            raise
        return {"EvaluationResults": results}


def _made_up_version_id() -> str:
    # The shape of a real S3 version id (32 URL-safe characters), never one that exists: the key is new.
    return secrets.token_urlsafe(24)[:32]


def _probe(
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
        why = "could not be read" if versioning == _UNREAD else f"is {versioning}"
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
        code = _code(error)
        if code in _DENIED_CODES:
            message = str(error.response.get("Error", {}).get("Message") or "")
            said = f": {message[:200]}" if message and message != "Access Denied" else ""
            return PermissionAnswer(
                permission, Answer.DENIED, EvidenceSource.PROBE, f"{what} answered {_status(error)}{said}"
            )
        if code in _ABSENT_CODES:
            return PermissionAnswer(
                permission,
                Answer.ALLOWED,
                EvidenceSource.PROBE,
                f"{what} answered {_status(error)}, not AccessDenied: the request was authorized",
            )
        return PermissionAnswer(
            permission,
            Answer.UNKNOWN,
            EvidenceSource.PROBE,
            f"{what} answered {_status(error)}, which proves nothing",
        )
    except (BotoCoreError, ResponseParserError) as error:
        return PermissionAnswer(
            permission, Answer.UNKNOWN, EvidenceSource.PROBE, f"{what} failed: {type(error).__name__}"
        )
    return PermissionAnswer(
        permission, Answer.ALLOWED, EvidenceSource.PROBE, f"{what} succeeded (there was nothing to act on)"
    )
