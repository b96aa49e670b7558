"""What a set of credentials may do to an S3 backup bucket: one answer per destructive permission,
judged on the real backup keys, and what the credentials could become one step away (see
``drill.trust.aws``).

Library choice: drill evaluates IAM policies itself (``statements``, ``conditions``,
``evaluate``, ``judge``). Tried first: principalmapper 1.1.5 (AGPL-3.0, which an Apache-2.0
project cannot ship; last released 2022; its local simulation answers yes or no for a given
request context, never "cannot tell", and names no statement), cloudsplaining 0.9.1 (MIT; it
flags risky statements in GetAccountAuthorizationDetails output but does not decide whether a
principal may act on a resource, Deny and resource policies included; its privilege-escalation
table is where drill's list in ``escalation`` comes from), policy_sentry 0.15.2 (MIT; an IAM
action database of 13 MB with five more dependencies, used to write policies: drill needs a
dozen S3 actions and the escalation actions, which IAM's wildcards match by name) and iam-ape
1.1.6 (GPL-3.0; effective permissions without resource policies or undecidable conditions).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence

import boto3

from drill.clouds.aws import SessionCache, identity_endpoints
from drill.clouds.errors import StorageError, StorageErrorKind
from drill.config import Credentials, Target
from drill.facts import Access, Answer, EvidenceSource, Identity, PermissionAnswer
from drill.model import Unavailable
from drill.names import unescape_name
from drill.permissions import S3_BUCKET_CONFIGURATION, S3_DESTRUCTIVE
from drill.trust.aws.arns import bucket_arn, object_arn, partition_of
from drill.trust.aws.bucket import UNREAD, Documents, read_bucket
from drill.trust.aws.directory import Directory
from drill.trust.aws.evaluate import bucket_verdict, resources_for
from drill.trust.aws.iam import simulate
from drill.trust.aws.iam_read import load_directory
from drill.trust.aws.identity import attempt_identity, caller_identity
from drill.trust.aws.judge import Bucket, Judge, merge_roles
from drill.trust.aws.owner import Owner, bucket_owner
from drill.trust.aws.probes import probe
from drill.trust.aws.statements import Caller, Resource, statements_of

_NO_DOCUMENTS = Documents(policy=None, policy_text=None, acl_grants=None, owner_id=None, versioning=UNREAD)


class AwsTrust:
    """The trust questions about S3 targets, sharing one boto3 session per credential set and region,
    one reading of each account's IAM, and one reading of each bucket's owner."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self.sessions = SessionCache(environ)
        self._directories: dict[
            tuple[Credentials, str | None, str | None], tuple[Directory, tuple[str, ...]]
        ] = {}
        self._owners: dict[tuple[str, tuple[str, ...]], tuple[Owner, tuple[str, ...]]] = {}
        self._lock = threading.Lock()

    def identity(self, target: Target, credentials: Credentials) -> Identity:
        return caller_identity(credentials, target, self._environ, self.sessions)

    def access(self, target: Target, credentials: Credentials, *, snapshot_keys: tuple[str, ...]) -> Access:
        return s3_access(
            target,
            credentials,
            self._environ,
            verifier_credentials=target.credentials,
            snapshot_keys=snapshot_keys,
            shared=self,
        )

    def directory(self, session: boto3.Session, target: Target, account: str, gaps: list[str]) -> Directory:
        """drill's account's IAM, read once per credential set (GetAccountAuthorizationDetails is one
        call for the whole account, however many agents are judged)."""
        endpoint = identity_endpoints(target).iam
        key = (target.credentials, target.region, endpoint)
        with self._lock:
            if key not in self._directories:
                notes: list[str] = []
                self._directories[key] = (
                    load_directory(session, endpoint, target.region, account, notes),
                    tuple(notes),
                )
            directory, notes_made = self._directories[key]
        gaps.extend(notes_made)
        return directory

    def owner(
        self,
        session: boto3.Session,
        target: Target,
        documents: Documents,
        *,
        drill: str | None,
        candidates: Sequence[str],
        gaps: list[str],
    ) -> Owner:
        key = (target.name, tuple(candidates))
        with self._lock:
            if key not in self._owners:
                notes: list[str] = []
                assert target.bucket is not None
                found = bucket_owner(
                    session,
                    target,
                    target.bucket,
                    acl_owner_id=documents.owner_id,
                    drill_account=drill,
                    candidates=candidates,
                    notes=notes,
                )
                self._owners[key] = (found, tuple(notes))
            owner, notes_made = self._owners[key]
        gaps.extend(notes_made)
        return owner


def verifier_access(
    target: Target,
    environ: Mapping[str, str],
    *,
    snapshot_keys: Sequence[str] = (),
    shared: AwsTrust | None = None,
) -> Access:
    """The same questions asked of drill's own credentials (the target's): drill only reads, so
    each destructive permission it holds, or any way to gain one, is one to drop."""
    return s3_access(
        target,
        target.credentials,
        environ,
        verifier_credentials=target.credentials,
        snapshot_keys=snapshot_keys,
        shared=shared,
    )


def s3_access(
    target: Target,
    agent_credentials: Credentials,
    environ: Mapping[str, str],
    *,
    verifier_credentials: Credentials,
    snapshot_keys: Sequence[str] = (),
    shared: AwsTrust | None = None,
) -> Access:
    """What ``agent_credentials`` may do to the real backup keys of ``target`` (``snapshot_keys``;
    every object under the prefix only when none was listed) and to the bucket itself.

    ``verifier_credentials`` (drill's own) read the bucket policy, ACL, versioning and owner, the
    account's IAM, and call the simulation; only the probes use the agent's credentials. Answers
    from the simulation, the policies drill read and the probes are combined by ``strongest``;
    then what roles the agent may assume add (``drill.trust.aws.judge``).

    Raises StorageError only when the agent's credentials cannot be built (a variable or profile
    that does not exist); everything else that fails becomes a gap.
    """
    if target.bucket is None:
        raise StorageError(StorageErrorKind.INVALID, f"Target {target.name} names no bucket.")
    bucket = target.bucket
    gaps: list[str] = []
    shared = shared or AwsTrust(environ)
    agent_session = shared.sessions.get(agent_credentials, target.region)
    own = verifier_credentials == agent_credentials
    identity = attempt_identity(
        agent_session, target, agent_credentials, gaps, whose="drill's" if own else "the agent's"
    )
    verifier_session: boto3.Session | None
    if own:
        verifier_session, verifier = agent_session, identity
    else:
        try:
            verifier_session = shared.sessions.get(verifier_credentials, target.region)
        except StorageError as error:
            verifier_session = None
            gaps.append(f"drill's own credentials for {target.name}: {error}")
        verifier = (
            attempt_identity(verifier_session, target, verifier_credentials, gaps, whose="drill's")
            if verifier_session is not None
            else Unavailable("drill's own credentials could not be built")
        )
    documents = (
        read_bucket(verifier_session, target, bucket, gaps) if verifier_session is not None else _NO_DOCUMENTS
    )
    drill_account = verifier.account if isinstance(verifier, Identity) else None
    agent_account = identity.account if isinstance(identity, Identity) else None
    candidates = [account for account in (target.account, drill_account, agent_account) if account]
    owner = (
        shared.owner(
            verifier_session, target, documents, drill=drill_account, candidates=candidates, gaps=gaps
        )
        if verifier_session is not None
        else Owner(target.account, "the configured account (drill's credentials could not read the bucket)")
    )
    directory = _directory(shared, verifier_session, target, verifier, gaps)
    caller = (
        Caller(identity.principal, identity.account) if isinstance(identity, Identity) else Caller(None, None)
    )
    partition = partition_of(caller.arn or "")
    # Listed keys are escaped text (drill.names); policies match the names the store holds.
    keys = tuple(
        Resource(object_arn(bucket, unescape_name(key), partition)) for key in dict.fromkeys(snapshot_keys)
    ) or (Resource(object_arn(bucket, target.prefix, partition), region=True),)
    judge = Judge(
        Bucket(
            name=bucket,
            statements=statements_of(f"bucket policy of {bucket}", documents.policy)
            if documents.policy is not None
            else None,
            unread=f"the bucket policy of {bucket} could not be read",
            acl=tuple(documents.acl_grants) if documents.acl_grants is not None else None,
            acl_owner=documents.owner_id,
            acl_unread=f"the ACL of {bucket} could not be read",
            owner=owner.account,
            resource=Resource(bucket_arn(bucket, partition)),
            keys=keys,
        ),
        directory,
    )
    entity = judge.entity(caller.arn)
    power = judge.power(caller, entity)
    sources: list[Mapping[str, PermissionAnswer]] = []
    if isinstance(identity, Identity) and identity.account and verifier_session is not None:
        policies = judge.policies(entity)
        verdicts = {
            permission: bucket_verdict(
                permission, resources_for(permission, judge.bucket.resource, keys), caller, policies
            )
            for permission in S3_DESTRUCTIVE
        }
        sources.append(
            simulate(
                verifier_session,
                target,
                identity,
                verifier,
                owner=owner.account,
                documents=documents,
                verdicts=verdicts,
                snapshot_keys=snapshot_keys,
                gaps=gaps,
            )
        )
    sources.append(power.own)
    sources.append(probe(agent_session, target, bucket, documents.versioning, snapshot_keys))
    permissions = merge_roles(strongest(sources), power.through)
    _explain_gaps(permissions, owner, gaps)
    return Access(
        identity, tuple(permissions), tuple(gaps), tuple(power.escalation), owner.account, owner.evidence
    )


def _directory(
    shared: AwsTrust,
    session: boto3.Session | None,
    target: Target,
    verifier: Identity | Unavailable,
    gaps: list[str],
) -> Directory | Unavailable:
    if not identity_endpoints(target).iam_available:
        reason = (
            f"{target.name}'s endpoint is not AWS and no iam_endpoint_url is set: the store has no IAM API"
        )
    elif session is None or not isinstance(verifier, Identity):
        reason = "drill's own identity is unknown, so its account's IAM cannot be read"
    else:
        return shared.directory(session, target, verifier.account or "", gaps)
    gaps.append(f"{reason}; only the bucket policy, its ACL and the probes are weighed.")
    return Unavailable(reason)


def _explain_gaps(permissions: Iterable[PermissionAnswer], owner: Owner, gaps: list[str]) -> None:
    if owner.account is None:
        gaps.append(f"Bucket owner unknown: {owner.evidence}.")
    unanswered = [
        answer.permission
        for answer in permissions
        if answer.permission in S3_BUCKET_CONFIGURATION and answer.answer is Answer.UNKNOWN
    ]
    if unanswered:
        gaps.append(
            f"No safe probe exists for bucket-configuration writes ({', '.join(unanswered)}): only the "
            "policies drill reads (iam:GetAccountAuthorizationDetails or iam:Get*/List*, the bucket "
            "policy) or iam:SimulatePrincipalPolicy can answer them."
        )


def strongest(sources: Iterable[Mapping[str, PermissionAnswer]]) -> tuple[PermissionAnswer, ...]:
    """Per destructive permission: allowed if any source saw it allowed (a request authorized, a
    statement granting it); else the first settled answer, sources taken strongest first, unless
    a stronger source is UNKNOWN because a policy it read may grant it (then no weaker denial
    counts); else UNKNOWN carrying every source's reason."""
    ordered = list(sources)
    combined = []
    for permission in S3_DESTRUCTIVE:
        candidates = [source[permission] for source in ordered if permission in source]
        settled = next((answer for answer in candidates if answer.answer is Answer.ALLOWED), None)
        for answer in candidates:
            if settled is not None:
                break
            if answer.answer is Answer.DENIED:
                settled = answer
            elif answer.blocks_weaker:
                others = "; ".join(item.detail for item in candidates if item is not answer)
                detail = (
                    f"{answer.detail}; weaker evidence cannot settle it ({others})"
                    if others
                    else answer.detail
                )
                settled = PermissionAnswer(
                    permission, Answer.UNKNOWN, answer.source, detail, answer.grant, answer.via, True
                )
        if settled is None:
            reasons = list(dict.fromkeys(answer.detail for answer in candidates)) or ["no source answered"]
            source = candidates[0].source if candidates else EvidenceSource.PROBE
            settled = PermissionAnswer(permission, Answer.UNKNOWN, source, "; ".join(reasons))
        combined.append(settled)
    return tuple(combined)
