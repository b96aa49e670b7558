"""What a set of credentials could do to a backup bucket: who it is, and one answer per destructive
permission with the evidence behind it; for every agent and for drill's own credentials, per target.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime

from drill.config import Agent, Target
from drill.facts.base import Subject
from drill.facts.storage import TargetFacts
from drill.model import Unavailable

_SESSION = re.compile(r"^arn:aws[\w-]*:sts::(\d{12}):assumed-role/([^/]+)/[^/]+$")
_ROLE = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/(?:.*/)?([^/]+)$")


class Answer(enum.StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"
    UNKNOWN = "unknown"


class EvidenceSource(enum.StrEnum):
    """Where an answer came from, strongest first: the provider's own evaluation, then what the
    resource policy allows at all, then a live request that is denied or refused before it acts."""

    SIMULATION = "iam:SimulatePrincipalPolicy"
    TEST_IAM_PERMISSIONS = "storage.buckets.testIamPermissions"
    POLICIES = "policies"  # every identity policy, the bucket policy and ACL, read and evaluated by drill
    RESOURCE_POLICY = "bucket policy and ACL"
    PROBE = "probe"


@dataclass(frozen=True)
class PermissionAnswer:
    permission: str  # as the provider spells it: "s3:DeleteObjectVersion", "storage.objects.delete"
    answer: Answer
    source: EvidenceSource
    detail: str  # e.g. "DeleteObject of pg/a.dump with a made-up version id answered 403 AccessDenied"
    grant: str = ""  # the policy and statement that grants it (or whose explicit Deny refuses it)
    via: tuple[str, ...] = ()  # the roles assumed on the way, in order, when the power is a role's
    blocks_weaker: bool = False  # UNKNOWN because a policy read may grant it: no weaker source denies it


@dataclass(frozen=True)
class Identity:
    provider: str  # "aws" | "gcp"
    account: str | None  # AWS account id or GCP project
    principal: str  # ARN or service-account email
    source: str  # how it was learnt: "sts:GetCallerIdentity", "service-account key file", ...

    def acts_as(self, principal: str) -> bool:
        """Whether these credentials act as ``principal``: the same ARN or email, or a session of
        the role it names (``arn:aws:sts::A:assumed-role/NAME/S`` acts as ``arn:aws:iam::A:role/NAME``,
        whatever the role's path)."""
        if principal == self.principal:
            return True
        session = _SESSION.match(self.principal)
        role = _ROLE.match(principal)
        return bool(session and role and session.groups() == role.groups())


@dataclass(frozen=True)
class Access:
    """What one set of credentials may do to one target's bucket, and on what evidence.

    ``permissions`` holds one answer per destructive permission (see drill.permissions), the
    strongest source winning; ``gaps`` says why evidence is missing, e.g. which permission the
    verifier lacked, so that an UNKNOWN answer always carries its reason.
    """

    identity: Identity | Unavailable
    permissions: tuple[PermissionAnswer, ...]
    gaps: tuple[str, ...] = ()
    # Power one step away: IAM changes, code run as another role, roles drill could not read. Only
    # those not denied are listed; each is reason enough to fail (or, UNKNOWN, to withhold a pass).
    escalation: tuple[PermissionAnswer, ...] = ()
    owner: str | None = None  # the bucket owner's account, as drill established it (None: unknown)
    owner_evidence: str = ""  # how: "ExpectedBucketOwner", "configured account", ...

    def answer(self, permission: str) -> PermissionAnswer | None:
        return next((item for item in self.permissions if item.permission == permission), None)


@dataclass(frozen=True)
class AgentTargetFacts:
    """One agent's credentials against one backup target.

    ``access`` is None when the agent holds no credentials for the target's provider (AWS keys
    cannot act on a GCS bucket); ``storage`` is the target's posture and newest snapshots, so the
    check can tell a COMPLIANCE-locked copy from one an agent could destroy; ``peers`` are the
    other targets of the databases this target holds, to tell whether it is the only immutable copy.
    """

    agent: Agent
    target: Target
    now: datetime
    access: Access | Unavailable | None
    verifier: Identity | Unavailable  # drill's own identity for this target
    storage: TargetFacts
    peers: tuple[TargetFacts, ...] = ()
    agent_paths_reach_target: bool = False  # filesystem: the target lies under one of the agent's paths

    @property
    def subject(self) -> Subject:
        return Subject(target=self.target.name, agent=self.agent.name)

    @property
    def owner_account(self) -> str | None:
        """Who owns the bucket, as drill established it (never assumed to be drill's own account)."""
        if isinstance(self.access, Access):
            return self.access.owner
        return self.target.account


@dataclass(frozen=True)
class VerifierTargetFacts:
    """drill's own credentials against one target: drill only reads, so it should hold nothing more."""

    target: Target
    now: datetime
    access: Access | Unavailable | None  # None for a filesystem target
    storage: TargetFacts
    writable_path: bool | None = None  # filesystem: whether drill's OS user could write or delete there

    @property
    def subject(self) -> Subject:
        return Subject(target=self.target.name)
