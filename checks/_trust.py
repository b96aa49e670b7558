"""What a destructive permission would let its holder do to one bucket, given how the bucket is
protected: shared by ``trust_separation`` (an agent's credentials) and ``verifier_least_privilege``
(drill's own).

The same permission means different things on different buckets. ``s3:DeleteObjectVersion`` on a
bucket whose versions are locked in COMPLIANCE mode can remove a version only once its lock has
passed; on an unlocked bucket it destroys backups now. So every allowed permission is classed by
its effect on *this* bucket:

- DESTROY: backup data can be deleted or overwritten now;
- WEAKEN: the protection can be removed or shortened, or more access granted (then destroy);
- HIDE: data can be hidden (delete markers, new versions), removed after its lock has passed, or
  backups written later protected less, but every version locked now survives its full period;
- NONE: the bucket's protection makes the permission harmless.

A way to gain any permission (an IAM change, a role to assume, code run as another role; see
``Access.escalation``) counts as the worst effect any permission has on this bucket.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from drill.checks._immutability import judge
from drill.config import TargetType
from drill.facts import (
    Access,
    Answer,
    EvidenceSource,
    ObjectProtection,
    PermissionAnswer,
    S3BucketPosture,
    TargetFacts,
)
from drill.model import Status, Unavailable
from drill.permissions import GCS_DESTRUCTIVE, S3_DESTRUCTIVE


class Effect(enum.IntEnum):
    NONE = 0
    HIDE = 1
    WEAKEN = 2
    DESTROY = 3


# On a bucket whose snapshots are proven locked (S3 COMPLIANCE, locked GCS retention).
_S3_LOCKED: Mapping[str, tuple[Effect, str]] = {
    "s3:DeleteObject": (Effect.HIDE, "adds delete markers; locked versions stay"),
    "s3:DeleteObjectVersion": (Effect.HIDE, "removes versions only once their lock has passed"),
    "s3:PutObject": (Effect.HIDE, "writes new versions over the snapshots; locked versions stay"),
    "s3:BypassGovernanceRetention": (Effect.NONE, "COMPLIANCE locks cannot be bypassed"),
    "s3:PutObjectRetention": (Effect.NONE, "COMPLIANCE retention can only be extended"),
    "s3:PutObjectLegalHold": (Effect.HIDE, "removes legal holds; the retention locks stay"),
    "s3:PutBucketVersioning": (Effect.NONE, "versioning cannot be suspended on an Object Lock bucket"),
    "s3:PutLifecycleConfiguration": (Effect.HIDE, "can expire versions as soon as their lock passes"),
    "s3:PutBucketPolicy": (Effect.HIDE, "can grant itself more; locked versions stay locked"),
    "s3:DeleteBucketPolicy": (Effect.HIDE, "removes the policy's denies; locked versions stay locked"),
    "s3:PutBucketObjectLockConfiguration": (
        Effect.HIDE,
        "can shorten the default retention of backups written from now on; locked versions keep their dates",
    ),
    "s3:DeleteBucket": (Effect.NONE, "a bucket holding locked versions cannot be deleted"),
    "s3:PutBucketAcl": (Effect.HIDE, "can grant write access through the ACL; locked versions stay locked"),
}


def _s3_unlocked(posture: S3BucketPosture) -> Mapping[str, tuple[Effect, str]]:
    versioned = posture.versioning == "Enabled"
    lock = posture.object_lock_enabled is True
    return {
        "s3:DeleteObject": (Effect.HIDE, "adds delete markers on the versioned bucket")
        if versioned
        else (Effect.DESTROY, "deletes snapshots outright: the bucket keeps no versions"),
        "s3:DeleteObjectVersion": (Effect.DESTROY, "deletes snapshot versions that no COMPLIANCE lock holds"),
        "s3:PutObject": (Effect.HIDE, "writes new versions over the snapshots")
        if versioned
        else (Effect.DESTROY, "overwrites snapshots: the bucket keeps no versions"),
        "s3:BypassGovernanceRetention": (Effect.WEAKEN, "overrides GOVERNANCE-mode locks")
        if lock
        else (Effect.NONE, "the bucket has no Object Lock to bypass"),
        "s3:PutObjectRetention": (Effect.WEAKEN, "can shorten GOVERNANCE retention")
        if lock
        else (Effect.NONE, "the bucket has no Object Lock"),
        "s3:PutObjectLegalHold": (Effect.WEAKEN, "removes legal holds")
        if lock
        else (Effect.NONE, "the bucket has no Object Lock"),
        "s3:PutBucketVersioning": (Effect.WEAKEN, "can suspend versioning")
        if not lock
        else (Effect.NONE, "versioning cannot be suspended on an Object Lock bucket"),
        "s3:PutLifecycleConfiguration": (Effect.DESTROY, "can add a rule that expires every snapshot"),
        "s3:PutBucketPolicy": (Effect.WEAKEN, "can grant itself any other permission on the bucket"),
        "s3:DeleteBucketPolicy": (Effect.WEAKEN, "removes the policy's denies"),
        "s3:PutBucketObjectLockConfiguration": (Effect.WEAKEN, "can change or remove the default retention"),
        "s3:DeleteBucket": (Effect.WEAKEN, "can delete the bucket once it is emptied"),
        "s3:PutBucketAcl": (
            Effect.WEAKEN,
            "can grant its own account or anyone write access through the ACL",
        ),
    }


_GCS_LOCKED: Mapping[str, tuple[Effect, str]] = {
    "storage.objects.delete": (Effect.HIDE, "deletes only objects older than the locked retention period"),
    "storage.objects.create": (Effect.HIDE, "overwrites only objects older than the retention period"),
    "storage.objects.update": (Effect.NONE, "a locked retention policy still holds every object"),
    "storage.buckets.update": (
        Effect.HIDE,
        "can change lifecycle and versioning; a locked retention period can only grow",
    ),
    "storage.buckets.delete": (Effect.NONE, "a bucket with retained objects cannot be deleted"),
    "storage.buckets.setIamPolicy": (Effect.HIDE, "can grant itself more; the locked policy still holds"),
}
_GCS_UNLOCKED: Mapping[str, tuple[Effect, str]] = {
    "storage.objects.delete": (Effect.DESTROY, "deletes snapshots (soft delete, if on, only delays it)"),
    "storage.objects.create": (Effect.DESTROY, "overwrites snapshots"),
    "storage.objects.update": (Effect.WEAKEN, "can remove holds and unlocked object retention"),
    "storage.buckets.update": (Effect.WEAKEN, "can remove or shorten the unlocked retention policy"),
    "storage.buckets.delete": (Effect.WEAKEN, "can delete the bucket once it is emptied"),
    "storage.buckets.setIamPolicy": (Effect.WEAKEN, "can grant itself any other permission"),
}


def proven_immutable(storage: TargetFacts) -> bool | None:
    """True when the bucket and its newest snapshots are locked beyond override (COMPLIANCE, a
    locked GCS policy); None when the posture could not be read."""
    if isinstance(storage.posture, Unavailable):
        return None
    protections: list[ObjectProtection | None] = []
    for copy in storage.latest:
        if isinstance(copy.protection, Unavailable):
            return None
        if copy.protection is not None:
            protections.append(copy.protection)
    judgements = [judge(storage.target, storage.posture, p, storage.policy) for p in protections or [None]]
    # GOVERNANCE allowed as a warning is not proof here: its holders may be exactly the agent.
    return all(judgement.status is Status.PASS for judgement in judgements)


def effects_for(storage: TargetFacts, locked: bool) -> Mapping[str, tuple[Effect, str]]:
    posture = storage.posture
    if storage.target.type is TargetType.GCS:
        return _GCS_LOCKED if locked else _GCS_UNLOCKED
    if locked:
        return _S3_LOCKED
    if isinstance(posture, S3BucketPosture):
        return _s3_unlocked(posture)
    return dict.fromkeys(S3_DESTRUCTIVE, (Effect.DESTROY, "the bucket's protection is unknown"))


@dataclass(frozen=True)
class PermissionRow:
    """One destructive permission: the provider's answer, on what evidence, and its effect on this bucket."""

    permission: str
    answer: Answer
    source: str  # an EvidenceSource value, as the run record spells it
    detail: str
    effect: str  # none, hide, weaken or destroy; "escalate" for a way to gain any permission
    grant: str = ""  # the policy and statement that grants it (or whose Deny refuses it)
    via: tuple[str, ...] = ()  # the roles assumed on the way, in order


def chain(who: str, answer: PermissionAnswer) -> str:
    """``ci-agent -> assume backup-admin -> s3:DeleteObjectVersion``: how the principal gets the permission."""
    steps = [who] if who else []
    steps += [f"assume {role}" for role in answer.via]
    steps.append(answer.permission)
    return " -> ".join(steps)


def granted(answer: PermissionAnswer) -> str:
    return f"; granted by {answer.grant}" if answer.grant and answer.answer is Answer.ALLOWED else ""


@dataclass
class Assessment:
    """Allowed, unknown and denied permissions of one principal on one bucket, by effect."""

    allowed: dict[Effect, list[str]] = field(default_factory=dict)
    unknown: dict[Effect, list[str]] = field(default_factory=dict)
    denied: list[str] = field(default_factory=list)
    evidence: list[PermissionRow] = field(default_factory=list)
    escalation: list[PermissionRow] = field(default_factory=list)  # ways to gain any permission

    def worst_allowed(self) -> Effect:
        return max((effect for effect, items in self.allowed.items() if items), default=Effect.NONE)

    def worst_unknown(self) -> Effect:
        return max((effect for effect, items in self.unknown.items() if items), default=Effect.NONE)

    def describe(self, effect: Effect, *, unknown: bool = False) -> str:
        return "; ".join((self.unknown if unknown else self.allowed).get(effect, []))


def assess(access: Access, storage: TargetFacts, locked: bool, who: str = "") -> Assessment:
    """Each answer classed by its effect on this bucket; lines name the chain and the granting statement."""
    effects = effects_for(storage, locked)
    catalogue = GCS_DESTRUCTIVE if storage.target.type is TargetType.GCS else S3_DESTRUCTIVE
    result = Assessment()
    for permission in catalogue:
        answer = access.answer(permission) or PermissionAnswer(
            permission, Answer.UNKNOWN, EvidenceSource.PROBE, "no evidence was collected for it"
        )
        effect, meaning = effects[permission]
        result.evidence.append(
            PermissionRow(
                permission,
                answer.answer,
                answer.source.value,
                answer.detail,
                effect.name.lower(),
                answer.grant,
                answer.via,
            )
        )
        line = f"{chain(who, answer)} ({meaning}{granted(answer)})"
        if answer.answer is Answer.ALLOWED:
            result.allowed.setdefault(effect, []).append(line)
        elif answer.answer is Answer.UNKNOWN:
            result.unknown.setdefault(effect, []).append(f"{chain(who, answer)}: {answer.detail}")
        else:
            result.denied.append(permission)
    # Whoever can grant itself any permission can do the worst any permission does to this bucket.
    worst = max(effect for effect, _ in effects.values())
    groups: dict[tuple[Answer, tuple[str, ...], str], list[PermissionAnswer]] = {}
    for answer in access.escalation:
        result.escalation.append(
            PermissionRow(
                answer.permission,
                answer.answer,
                answer.source.value,
                answer.detail,
                "escalate",
                answer.grant,
                answer.via,
            )
        )
        if answer.answer is not Answer.DENIED:
            groups.setdefault((answer.answer, answer.via, answer.grant or answer.detail), []).append(answer)
    for (kind, _, _), answers in groups.items():
        first = answers[0]
        names = [answer.permission for answer in answers]
        more = f" and {len(names) - 4} more" if len(names) > 4 else ""
        steps = chain(who, first).rsplit(first.permission, 1)[0]
        line = f"{steps}{', '.join(names[:4])}{more}"
        if kind is Answer.ALLOWED:
            why = f"granted by {first.grant}" if first.grant else first.detail
            result.allowed.setdefault(worst, []).append(f"{line} (one step from any permission; {why})")
        else:
            result.unknown.setdefault(worst, []).append(f"{line}: {first.detail}")
    return result
