"""verifier_least_privilege: drill's own credentials can only read the backups.

drill never writes to a target, so any destructive permission its credentials hold, or any way to
gain one (an IAM change, a role it may assume), is a risk with no use: whoever obtains them (from a
CI variable, a pod, a laptop) could use it. The same evidence as for agents: IAM policy
simulation, GCS testIamPermissions, the policies drill reads and evaluates, probes of the real keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from drill.checks._trust import Effect, PermissionRow, assess, proven_immutable
from drill.facts import VerifierTargetFacts, known
from drill.model import Control, Evidence, Scope, Severity, Status
from drill.registry import Outcome, check


@dataclass(frozen=True)
class VerifierAccessEvidence(Evidence):
    """What drill's own credentials may do to the bucket, and on what evidence."""

    kind: ClassVar[str] = "verifier_least_privilege"
    permissions: tuple[PermissionRow, ...]
    gaps: tuple[str, ...]
    locked: bool | None
    escalation: tuple[PermissionRow, ...] = ()  # ways to gain more: IAM changes, roles it may assume


@dataclass(frozen=True)
class VerifierPathEvidence(Evidence):
    """Whether drill's operating-system user can write to a filesystem target."""

    kind: ClassVar[str] = "verifier_least_privilege.path"
    path: str | None
    writable: bool


@check(
    "verifier_least_privilege",
    severity=Severity.MEDIUM,
    scope=Scope.VERIFIER_TARGET,
    controls=(Control.ISO27001_A_8_3, Control.SOC2_CC6_1),
    remediation=(
        "Give drill read-only credentials: on S3 s3:ListBucket, s3:GetObject, s3:GetObjectVersion, "
        "s3:GetBucketVersioning, s3:GetBucketObjectLockConfiguration, s3:GetLifecycleConfiguration, "
        "s3:GetObjectRetention, s3:GetObjectLegalHold, s3:GetBucketPolicy, s3:GetBucketAcl (and, "
        "for the trust evidence, iam:GetAccountAuthorizationDetails or iam:Get*/iam:List*, and "
        "iam:SimulatePrincipalPolicy); on GCS roles/storage.objectViewer plus storage.buckets.get. "
        "Drop every permission the finding names, and any IAM write or role it may assume."
    ),
    evidence=(VerifierAccessEvidence, VerifierPathEvidence),
)
def verifier_least_privilege(facts: VerifierTargetFacts) -> Iterator[Outcome]:
    """drill's own credentials cannot delete or change the backups."""
    if facts.access is None:
        if facts.writable_path:
            yield Outcome(
                Status.WARN,
                f"drill's operating-system user can write to {facts.target.path}: it could delete the "
                "backups it only needs to read. Run drill as a user with read access, or mount the copy read-only.",
                VerifierPathEvidence(path=facts.target.path, writable=True),
            )
        elif facts.writable_path is False:
            yield Outcome.passed(
                f"drill's operating-system user cannot write to {facts.target.path}.",
                VerifierPathEvidence(path=facts.target.path, writable=False),
            )
        else:
            yield Outcome.errored(f"Could not tell whether drill can write to {facts.target.path}.")
        return
    access = known(facts.access)
    locked = proven_immutable(facts.storage)
    assessment = assess(access, facts.storage, bool(locked), who="drill")
    allowed = [
        line for effect in Effect if effect is not Effect.NONE for line in assessment.allowed.get(effect, [])
    ]
    harmless = assessment.allowed.get(Effect.NONE, [])
    evidence = VerifierAccessEvidence(
        permissions=tuple(assessment.evidence),
        gaps=tuple(access.gaps),
        locked=locked,
        escalation=tuple(assessment.escalation),
    )
    if allowed:
        yield Outcome(
            Status.FAIL,
            f"drill's credentials for {facts.target.name} could change or destroy what drill only reads; "
            f"drop {', '.join(_names(allowed))}: {'; '.join(allowed + harmless)}.",
            evidence,
        )
        return
    if harmless:
        yield Outcome(
            Status.WARN,
            f"drill's credentials for {facts.target.name} hold permissions it never uses, harmless on "
            f"this bucket today; drop {', '.join(_names(harmless))}: {'; '.join(harmless)}.",
            evidence,
        )
        return
    unknown = [line for items in assessment.unknown.values() for line in items]
    if unknown:
        yield Outcome.errored(
            f"Cannot tell whether drill's credentials for {facts.target.name} are read-only: {'; '.join(unknown)}.",
            evidence,
        )
        return
    yield Outcome.passed(
        f"drill's credentials for {facts.target.name} hold none of the {len(assessment.denied)} destructive "
        "permissions drill asks about on the backup keys, and nothing grants them more one step away "
        f"(evidence: {', '.join(sorted({row.source for row in assessment.evidence}))}).",
        evidence,
    )


def _names(lines: list[str]) -> list[str]:
    """The permission (or the chain's last step) each line is about."""
    return list(dict.fromkeys(line.split(" (", 1)[0].split(" -> ")[-1] for line in lines))
