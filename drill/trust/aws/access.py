"""What a set of credentials may do to an S3 backup bucket: one answer per destructive permission,
each from the strongest source that settles it (see ``drill.trust.aws``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import boto3

from drill.clouds.aws import SessionCache
from drill.clouds.errors import StorageError, StorageErrorKind
from drill.config import Credentials, Target
from drill.facts import Access, Answer, EvidenceSource, Identity, PermissionAnswer
from drill.model import Unavailable
from drill.permissions import S3_BUCKET_CONFIGURATION, S3_DESTRUCTIVE
from drill.trust.aws.bucket import UNREAD, Documents, read_bucket
from drill.trust.aws.iam import simulate
from drill.trust.aws.identity import attempt_identity, caller_identity
from drill.trust.aws.policy import bucket_verdicts, resource_policy_answers
from drill.trust.aws.probes import probe


class AwsTrust:
    """The trust questions about S3 targets, sharing one boto3 session per credential set and region."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self._sessions = SessionCache(environ)

    def identity(self, target: Target, credentials: Credentials) -> Identity:
        return caller_identity(credentials, target, self._environ, self._sessions)

    def access(
        self,
        target: Target,
        credentials: Credentials,
        *,
        trace_probes: bool,
        owner_account: str | None,
        snapshot_keys: tuple[str, ...],
    ) -> Access:
        return s3_access(
            target,
            credentials,
            self._environ,
            verifier_credentials=target.credentials,
            trace_probes=trace_probes,
            owner_account=owner_account,
            snapshot_keys=snapshot_keys,
            sessions=self._sessions,
        )


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
    identity = attempt_identity(
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
            attempt_identity(verifier_session, target, verifier_credentials, gaps, whose="drill's")
            if verifier_session is not None
            else Unavailable("drill's own credentials could not be built")
        )
    owner = owner_account or target.account or (verifier.account if isinstance(verifier, Identity) else None)
    documents = (
        read_bucket(verifier_session, target, target.bucket, gaps)
        if verifier_session is not None
        else Documents(policy=None, policy_text=None, acl_grants=None, owner_id=None, versioning=UNREAD)
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
                simulate(
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
        probe(agent_session, target, target.bucket, documents.versioning, trace_probes=trace_probes)
    )
    permissions = strongest(sources)
    unanswered = [
        answer.permission
        for answer in permissions
        if answer.permission in S3_BUCKET_CONFIGURATION and answer.answer is Answer.UNKNOWN
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
