"""verifier_least_privilege: drill's own credentials can only read the backups.

drill never writes to a target, so any destructive permission its credentials hold is a risk with
no use: whoever obtains them (from a CI variable, a pod, a laptop) could use it. The same evidence
as for agents: IAM policy simulation, GCS testIamPermissions, the bucket policy, safe probes.
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
        "s3:GetObjectRetention, s3:GetObjectLegalHold, s3:GetBucketPolicy, s3:GetBucketAcl (and "
        "iam:SimulatePrincipalPolicy for the trust evidence); on GCS roles/storage.objectViewer plus "
        "storage.buckets.get. Drop every permission the finding names."
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
    assessment = assess(access, facts.storage, bool(locked))
    allowed = [
        line for effect in Effect if effect is not Effect.NONE for line in assessment.allowed.get(effect, [])
    ]
    harmless = assessment.allowed.get(Effect.NONE, [])
    evidence = VerifierAccessEvidence(
        permissions=tuple(assessment.evidence), gaps=tuple(access.gaps), locked=locked
    )
    if allowed or harmless:
        yield Outcome(
            Status.WARN,
            f"drill's credentials for {facts.target.name} hold permissions it never uses; drop "
            f"{', '.join(line.split(' (', 1)[0] for line in allowed + harmless)}: "
            f"{'; '.join(allowed + harmless)}.",
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
        "permissions drill asks about.",
        evidence,
    )
