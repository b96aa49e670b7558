"""immutability: each target proves that nobody can delete its snapshots before min_retention."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from drill.checks._immutability import CopyProtection, Judgement, judge
from drill.facts import ObjectProtection, TargetFacts, known
from drill.model import Control, Evidence, Scope, Severity, Status
from drill.registry import Outcome, check


@dataclass(frozen=True)
class ImmutabilityEvidence(Evidence):
    """What proves or disproves the target's immutability, and the protection read off each copy."""

    kind: ClassVar[str] = "immutability"
    proofs: tuple[str, ...]
    problems: tuple[str, ...]
    warnings: tuple[str, ...]
    objects: tuple[CopyProtection, ...]  # the bucket with each database's latest snapshot on it


@check(
    "immutability",
    severity=Severity.HIGH,
    scope=Scope.TARGET,
    controls=(Control.ISO27001_A_8_13, Control.SOC2_A1_2),
    remediation=(
        "Enable S3 Object Lock with a COMPLIANCE default retention of at least min_retention "
        "(or lock the GCS bucket's retention policy); on a filesystem, set chattr +i or mount read-only."
    ),
    evidence=(ImmutabilityEvidence,),
)
def immutability(facts: TargetFacts) -> Iterator[Outcome]:
    """Copies are locked (COMPLIANCE, locked retention) for at least min_retention."""
    posture = known(facts.posture)
    latest = [known(copy.protection) for copy in facts.latest]
    # With no snapshot on the target yet, the bucket alone is judged.
    objects: list[ObjectProtection | None] = [p for p in latest if p is not None] or [None]
    judgements = [judge(facts.target, posture, protection, facts.policy) for protection in objects]
    yield _outcome(facts, judgements)


def _outcome(facts: TargetFacts, judgements: list[Judgement]) -> Outcome:
    problems = _unique(problem for judgement in judgements for problem in judgement.problems)
    warnings = _unique(warning for judgement in judgements for warning in judgement.warnings)
    proofs = _unique(proof for judgement in judgements for proof in judgement.proofs)
    evidence = ImmutabilityEvidence(
        proofs=tuple(proofs),
        problems=tuple(problems),
        warnings=tuple(warnings),
        objects=tuple(judgement.evidence for judgement in judgements),
    )
    name = facts.target.name
    if problems and judgements[0].declared_only:
        return Outcome.warned(
            f"{name} is not immutable: {'; '.join(problems)}. Not required for this target.", evidence
        )
    if problems:
        return Outcome(Status.FAIL, f"{name} is not immutable: {'; '.join(problems)}.", evidence)
    if warnings:
        return Outcome.warned(f"{name} is only governance-locked: {'; '.join(warnings)}.", evidence)
    return Outcome.passed(f"{name} is immutable: {'; '.join(proofs)}.", evidence)


def _unique(items: Iterator[str]) -> list[str]:
    return list(dict.fromkeys(items))
