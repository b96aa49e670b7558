"""Builders of trust evidence in the shapes drill.trust produces, for the trust check tests."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from drill.config import Agent, Credentials, Policy, Target
from drill.facts import (
    Access,
    AgentTargetFacts,
    Answer,
    BucketPosture,
    EvidenceSource,
    Identity,
    ObjectProtection,
    PermissionAnswer,
    TargetFacts,
    VerifierTargetFacts,
)
from drill.model import Unavailable
from drill.permissions import GCS_DESTRUCTIVE, S3_DESTRUCTIVE
from tests import factories, postures

OWNER = "111111111111"
AGENT_KEYS = Credentials(access_key_id_env="AGENT_KEY", secret_access_key_env="AGENT_SECRET")


def storage(
    posture: BucketPosture | Unavailable,
    protection: ObjectProtection | Unavailable | None,
    *,
    target_model: Target | None = None,
) -> TargetFacts:
    target_model = target_model or factories.target()
    copy = replace(
        factories.database_target_facts(factories.listing(factories.snapshot()), target_model=target_model),
        protection=protection,
    )
    return TargetFacts(
        target=target_model, policy=Policy(), now=factories.NOW, posture=posture, latest=(copy,)
    )


def locked_s3(name: str = "vault") -> TargetFacts:
    return storage(postures.s3(), postures.locked_object(), target_model=factories.target(name))


def plain_s3(name: str = "vault", *, versioning: Any = None) -> TargetFacts:
    posture = postures.s3(versioning=versioning, lock=False, mode=None, days=None)
    return storage(
        posture, postures.locked_object(mode=None, locked_for=None), target_model=factories.target(name)
    )


def identity(account: str = OWNER, name: str = "agent") -> Identity:
    return Identity("aws", account, f"arn:aws:iam::{account}:user/{name}", "sts:GetCallerIdentity")


def access(
    *,
    allowed: frozenset[str] | set[str] = frozenset(),
    unknown: frozenset[str] | set[str] = frozenset(),
    source: EvidenceSource = EvidenceSource.PROBE,
    who: Identity | Unavailable | None = None,
    gcs: bool = False,
    owner: str | None = OWNER,
    grant: str = "",
    via: tuple[str, ...] = (),
    escalation: tuple[PermissionAnswer, ...] = (),
) -> Access:
    """One answer per destructive permission: ALLOWED if in ``allowed``, UNKNOWN if in ``unknown``;
    allowed ones name ``grant`` and the roles ``via`` which they come."""
    catalogue = GCS_DESTRUCTIVE if gcs else S3_DESTRUCTIVE
    answers = []
    for permission in catalogue:
        if permission in allowed:
            answers.append(
                PermissionAnswer(permission, Answer.ALLOWED, source, "answered as allowed", grant, via)
            )
            continue
        if permission in unknown:
            answer, detail = Answer.UNKNOWN, "no safe probe; iam:SimulatePrincipalPolicy unavailable"
        else:
            answer, detail = Answer.DENIED, "403 AccessDenied"
        answers.append(PermissionAnswer(permission, answer, source, detail))
    return Access(
        who if who is not None else identity(),
        tuple(answers),
        escalation=escalation,
        owner=None if gcs else owner,
        owner_evidence="the configured account" if owner else "unknown",
    )


def escalation(permission: str = "iam:PutUserPolicy", answer: Answer = Answer.ALLOWED) -> PermissionAnswer:
    """A way to gain any permission, as drill.trust.aws.judge reports it."""
    return PermissionAnswer(
        permission,
        answer,
        EvidenceSource.POLICIES,
        "allowed by group admins, inline policy 'all', statement 1 (write a user's inline policy)",
        "group admins, inline policy 'all', statement 1" if answer is Answer.ALLOWED else "",
        blocks_weaker=answer is Answer.UNKNOWN,
    )


def agent_target(
    access_facts: Access | Unavailable | None,
    storage_facts: TargetFacts,
    *,
    peers: tuple[TargetFacts, ...] = (),
    agent: Agent | None = None,
    verifier: Identity | Unavailable | None = None,
    reaches: bool = False,
) -> AgentTargetFacts:
    return AgentTargetFacts(
        agent=agent or Agent(name="coder", credentials=AGENT_KEYS),
        target=storage_facts.target,
        now=factories.NOW,
        access=access_facts,
        verifier=verifier
        or Identity("aws", OWNER, f"arn:aws:iam::{OWNER}:user/drill", "sts:GetCallerIdentity"),
        storage=storage_facts,
        peers=peers,
        agent_paths_reach_target=reaches,
    )


def verifier_target(
    access_facts: Access | Unavailable | None, storage_facts: TargetFacts, writable: bool | None = None
) -> VerifierTargetFacts:
    return VerifierTargetFacts(
        target=storage_facts.target,
        now=factories.NOW,
        access=access_facts,
        storage=storage_facts,
        writable_path=writable,
    )
