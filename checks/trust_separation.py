"""trust_separation: an agent's credentials cannot destroy or weaken the backups on a target.

Judged on the real backup keys from evidence in this order of strength, each named in the
finding: who the credentials are (their principal against the backup writer's), the provider's
own permission answers (IAM policy simulation, GCS testIamPermissions), every policy that can
grant the principal anything, read and evaluated by drill (identity policies with its groups',
the bucket policy and ACL: "nothing grants it" is a denial), and probes of the real keys that
cannot change them. What the principal could become one step away (an IAM change, a role it may
assume) counts as what that would let it do. The answers are judged against the bucket's
protection (see checks._trust): an agent that may delete but whose target is locked in
COMPLIANCE can hide versions, not destroy them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import ClassVar

from drill.checks._trust import Assessment, Effect, PermissionRow, assess, proven_immutable
from drill.config import TargetType
from drill.facts import AgentTargetFacts, Answer, Identity, known
from drill.model import Control, Evidence, Scope, Severity, Status, Unavailable
from drill.registry import Outcome, check


@dataclass(frozen=True)
class IdentityRow:
    """Who a set of credentials is, and how drill learnt it."""

    principal: str
    account: str | None
    source: str


@dataclass(frozen=True)
class UnknownIdentity:
    """Credentials whose identity could not be learnt, and why."""

    unavailable: str


@dataclass(frozen=True)
class AgentAccessEvidence(Evidence):
    """Who the agent is, what it may do to the bucket, and the evidence each answer rests on."""

    kind: ClassVar[str] = "trust_separation"
    agent_identity: IdentityRow | UnknownIdentity
    owner_account: str | None
    drill_identity: IdentityRow | None = None
    owner_evidence: str = ""  # how the owner was established, or why it is unknown
    permissions: tuple[PermissionRow, ...] = ()
    escalation: tuple[PermissionRow, ...] = ()  # ways to gain more: IAM changes, roles it may assume
    gaps: tuple[str, ...] = ()  # why evidence is missing, e.g. a denied iam:SimulatePrincipalPolicy
    locked: bool | None = None
    other_immutable_copies: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()  # the kinds of evidence the verdict rests on: identity, simulation...


@dataclass(frozen=True)
class NoCredentialsEvidence(Evidence):
    """The agent holds only credentials of another cloud than the target's."""

    kind: ClassVar[str] = "trust_separation.no_credentials"
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class AgentPathsEvidence(Evidence):
    """A filesystem target against the paths the agent can reach."""

    kind: ClassVar[str] = "trust_separation.paths"
    path: str | None
    agent_paths: tuple[str, ...]
    evidence: tuple[str, ...] = ()


@check(
    "trust_separation",
    severity=Severity.CRITICAL,
    scope=Scope.AGENT_TARGET,
    controls=(Control.ISO27001_A_8_3, Control.SOC2_CC6_1),
    remediation=(
        "Take the destructive permissions named in the finding away from the agent's principal "
        "(or keep the backups in another account or project that grants it nothing), and lock the "
        "backups: S3 Object Lock in COMPLIANCE mode, a locked GCS retention policy."
    ),
    evidence=(AgentAccessEvidence, NoCredentialsEvidence, AgentPathsEvidence),
)
def trust_separation(facts: AgentTargetFacts) -> Iterator[Outcome]:
    """Agent credentials cannot delete or weaken the backups, nor gain the power to (identity, policies, probes)."""
    if facts.target.type is TargetType.FILESYSTEM:
        yield _filesystem(facts)
        return
    if facts.access is None:
        yield Outcome.passed(
            f"Agent {facts.agent.name} holds {facts.agent.credentials.provider} credentials only, no "
            f"{_cloud(facts)} credentials; it cannot act on {facts.target.name}.",
            NoCredentialsEvidence(evidence=("credential kind",)),
        )
        return
    access = known(facts.access)
    identity = access.identity
    evidence = AgentAccessEvidence(
        agent_identity=_identity(identity),
        owner_account=facts.owner_account,
        drill_identity=_known_identity(facts.verifier) if isinstance(facts.verifier, Identity) else None,
        owner_evidence=access.owner_evidence,
    )
    unloaded = isinstance(identity, Unavailable) and not facts.agent.credentials.configured
    if unloaded and all(item.answer is Answer.UNKNOWN for item in access.permissions):
        yield Outcome.errored(
            f"Agent {facts.agent.name} names no credentials, so it holds whatever the SDK's default "
            f"chain finds where it runs (environment, shared files, web identity, instance role); drill "
            f"could not load that chain ({_reason(identity)}) and cannot judge what it cannot load. Name "
            "the agent's credentials.",
            replace(evidence, gaps=tuple(access.gaps)),
        )
        return
    if isinstance(identity, Identity) and facts.target.writer and identity.acts_as(facts.target.writer):
        yield Outcome(
            Status.FAIL,
            f"Agent {facts.agent.name} acts as {identity.principal}, the principal that writes the backups "
            f"on {facts.target.name}: whoever can write them can destroy them.",
            replace(evidence, evidence=("identity",)),
            Severity.CRITICAL,
        )
        return
    locked = proven_immutable(facts.storage)
    if locked is None:
        yield Outcome.errored(
            f"Cannot judge agent {facts.agent.name} on {facts.target.name}: the bucket's protection could "
            "not be read (see the immutability finding).",
            evidence,
        )
        return
    assessment = assess(access, facts.storage, locked, who=facts.agent.name)
    evidence = replace(
        evidence,
        permissions=tuple(assessment.evidence),
        escalation=tuple(assessment.escalation),
        gaps=tuple(access.gaps),
        locked=locked,
        other_immutable_copies=tuple(_other_locked(facts)),
        evidence=tuple(_sources(identity, assessment)),
    )
    yield _verdict(facts, identity, assessment, locked, evidence)


def _verdict(
    facts: AgentTargetFacts,
    identity: Identity | Unavailable,
    assessment: Assessment,
    locked: bool,
    evidence: AgentAccessEvidence,
) -> Outcome:
    who = f"Agent {facts.agent.name}{_as(identity)}"
    where = facts.target.name
    worst = assessment.worst_allowed()
    on_evidence = f" (evidence: {', '.join(evidence.evidence)})" if evidence.evidence else ""
    # Losing this copy is survivable only if another copy of the same backups is locked.
    survivable = bool(evidence.other_immutable_copies)
    severity = Severity.HIGH if survivable else Severity.CRITICAL
    elsewhere = (
        f" (locked copies survive on {', '.join(evidence.other_immutable_copies)})"
        if survivable
        else " (no other copy is locked)"
    )
    if worst is Effect.DESTROY:
        return Outcome(
            Status.FAIL,
            f"{who} could destroy the backups on {where}{elsewhere}: {assessment.describe(Effect.DESTROY)}"
            f"{on_evidence}.",
            evidence,
            severity,
        )
    if worst is Effect.WEAKEN:
        return Outcome(
            Status.FAIL,
            f"{who} could weaken the protection of the backups on {where}{elsewhere}: "
            f"{assessment.describe(Effect.WEAKEN)}{on_evidence}.",
            evidence,
            severity,
        )
    if assessment.worst_unknown() >= Effect.WEAKEN:
        unknown = "; ".join(
            assessment.describe(effect, unknown=True)
            for effect in (Effect.DESTROY, Effect.WEAKEN)
            if assessment.unknown.get(effect)
        )
        return Outcome.errored(
            f"Cannot tell whether {who} could destroy or weaken the backups on {where}: {unknown}.",
            evidence,
        )
    separation = _separation(facts, identity)
    if worst is Effect.HIDE or assessment.worst_unknown() is Effect.HIDE:
        allowed = assessment.describe(Effect.HIDE)
        unverified = assessment.describe(Effect.HIDE, unknown=True)
        detail = "; ".join(
            part for part in (allowed, f"not verified: {unverified}" if unverified else "") if part
        )
        if locked:
            kind = "COMPLIANCE mode" if facts.target.type is TargetType.S3 else "a locked retention policy"
            why = f"which are locked in {kind}, but could hide them, expire them once their lock passes, or protect later backups less"
        else:
            why = (
                "whose bucket keeps every version, but could hide them behind delete markers or new versions"
            )
        return Outcome(
            Status.WARN,
            f"{who} cannot destroy the backups on {where}, {why}: {detail}{on_evidence}.",
            evidence,
        )
    return Outcome.passed(
        f"{who} cannot delete or weaken the backups on {where}{separation}: "
        f"{len(assessment.denied)} destructive permissions denied on the backup keys, and nothing "
        f"grants it more one step away ({', '.join(evidence.evidence)}).",
        evidence,
    )


def _filesystem(facts: AgentTargetFacts) -> Outcome:
    path = facts.target.path
    if facts.agent_paths_reach_target:
        return Outcome(
            Status.FAIL,
            f"The backups of {facts.target.name} ({path}) lie inside the paths agent {facts.agent.name} "
            "can reach: one command in its workspace deletes them with the data.",
            AgentPathsEvidence(path=path, agent_paths=tuple(facts.agent.paths), evidence=("paths",)),
            Severity.CRITICAL,
        )
    return Outcome.skipped(
        f"{facts.target.name} ({path}) is outside agent {facts.agent.name}'s paths; drill cannot judge "
        "the agent's operating-system permissions on it.",
        AgentPathsEvidence(path=path, agent_paths=tuple(facts.agent.paths)),
    )


def _separation(facts: AgentTargetFacts, identity: Identity | Unavailable) -> str:
    if isinstance(identity, Identity) and identity.account and facts.owner_account:
        if identity.account != facts.owner_account:
            return f" (another account: {identity.account}, backups in {facts.owner_account})"
        return f" (same account {identity.account})"
    return ""


def _other_locked(facts: AgentTargetFacts) -> list[str]:
    return [peer.target.name for peer in facts.peers if proven_immutable(peer) is True]


def _sources(identity: Identity | Unavailable, assessment: Assessment) -> list[str]:
    sources = ["identity"] if isinstance(identity, Identity) else []
    for row in assessment.evidence:
        if row.answer is not Answer.UNKNOWN and row.source not in sources:
            sources.append(row.source)
    return sources


def _reason(identity: Identity | Unavailable) -> str:
    return identity.reason if isinstance(identity, Unavailable) else identity.principal


def _identity(identity: Identity | Unavailable) -> IdentityRow | UnknownIdentity:
    if isinstance(identity, Unavailable):
        return UnknownIdentity(identity.reason)
    return _known_identity(identity)


def _known_identity(identity: Identity) -> IdentityRow:
    return IdentityRow(identity.principal, identity.account, identity.source)


def _as(identity: Identity | Unavailable) -> str:
    return f" ({identity.principal})" if isinstance(identity, Identity) else ""


def _cloud(facts: AgentTargetFacts) -> str:
    return "AWS" if facts.target.type is TargetType.S3 else "Google Cloud"
