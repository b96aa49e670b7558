"""drift: the estate still matches the configuration that was approved (``drill baseline approve``).

The policy's thresholds say what is enough; the baseline says what was reviewed and approved, and
a posture erodes below that long before it crosses a threshold: a lock period shortened on one
bucket, a lifecycle rule added, a new principal granted delete, a target dropped from the config.
Each difference is one finding naming what changed, from what to what: ``fail`` when protection
was lost or drill cannot tell which way it went, ``warn`` when it grew (approve again), ``error``
when today's value could not be read. A baseline file that does not match the digest it records
is an error, never a silent pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from drill.baseline.compare import ABSENT, Change, Difference, compare
from drill.facts import ApprovedBaseline, DriftFacts, MissingBaseline, Record
from drill.model import Control, Evidence, Scope, Severity, Status
from drill.registry import Outcome, check


@dataclass(frozen=True)
class DriftEvidence(Evidence):
    """One difference from the approved baseline, and which baseline it was."""

    kind: ClassVar[str] = "drift"
    item: str
    approved: str
    today: str
    change: Change
    detail: str
    baseline_sha256: str
    approved_at: datetime
    approved_by: str


@dataclass(frozen=True)
class NoDriftEvidence(Evidence):
    """A subject that matches the approved baseline; ``unmonitored`` was unread when approved and now."""

    kind: ClassVar[str] = "drift.none"
    compared: int
    unmonitored: tuple[str, ...]
    baseline_sha256: str
    approved_at: datetime
    approved_by: str


@dataclass(frozen=True)
class NoBaselineEvidence(Evidence):
    kind: ClassVar[str] = "drift.no_baseline"
    path: str
    required: bool


@dataclass(frozen=True)
class UnusableBaselineEvidence(Evidence):
    kind: ClassVar[str] = "drift.unusable_baseline"
    path: str
    problem: str
    sha256: str | None


_VERBS = {Change.WEAKER: "weakened", Change.STRONGER: "strengthened", Change.CHANGED: "changed"}
_STATUS = {
    Change.WEAKER: Status.FAIL,
    Change.CHANGED: Status.FAIL,
    Change.STRONGER: Status.WARN,
    Change.UNVERIFIABLE: Status.ERROR,
}


@check(
    "drift",
    severity=Severity.HIGH,
    scope=Scope.BASELINE,
    controls=(Control.ISO27001_A_8_13, Control.SOC2_A1_2, Control.SOC2_CC6_1),
    remediation=(
        "Undo the change; or, if it was intended, review it and record the new configuration with "
        "drill baseline approve, so that the baseline says what was approved."
    ),
    evidence=(DriftEvidence, NoDriftEvidence, NoBaselineEvidence, UnusableBaselineEvidence),
)
def drift(facts: DriftFacts) -> Iterator[Outcome]:
    """The estate matches the approved baseline."""
    state = facts.state
    if isinstance(state, MissingBaseline):
        missing = NoBaselineEvidence(state.path, state.required)
        if state.required:
            yield Outcome.failed(
                f"No approved baseline at {state.path}, and [baseline] required is set: record one "
                "with drill baseline approve.",
                missing,
            )
        else:
            yield Outcome.skipped(
                f"No approved baseline at {state.path}: drift from an approved configuration is not "
                "monitored. Record one with drill baseline approve.",
                missing,
            )
        return
    if not isinstance(state, ApprovedBaseline):
        yield Outcome.errored(
            f"The approved baseline at {state.path} cannot be used: {state.problem}. Restore the approved "
            "file (its SHA-256 is in earlier run records) or approve again.",
            UnusableBaselineEvidence(state.path, state.problem, state.sha256),
        )
        return
    approval = state.baseline.approval
    label = _label(facts.today or facts.approved)
    comparison = compare(facts.approved, facts.today, facts.configured_agents, facts.configured_targets)
    approved = f"the baseline approved {approval.at:%Y-%m-%d %H:%M} UTC by {approval.by}"
    for difference in comparison.differences:
        yield Outcome(
            _STATUS[difference.change],
            _message(label, difference, approved),
            DriftEvidence(
                item=difference.item,
                approved=difference.approved,
                today=difference.today,
                change=difference.change,
                detail=difference.detail,
                baseline_sha256=state.sha256,
                approved_at=approval.at,
                approved_by=approval.by,
            ),
        )
    if comparison.differences:
        return
    evidence = NoDriftEvidence(
        comparison.compared, comparison.unmonitored, state.sha256, approval.at, approval.by
    )
    if comparison.unmonitored:
        yield Outcome.warned(
            f"{label} matches {approved}, but {', '.join(comparison.unmonitored)} could be read neither "
            "then nor now, so drift there is not monitored: give drill the permission to read it, then "
            "approve again.",
            evidence,
        )
        return
    items = "item" if comparison.compared == 1 else "items"
    yield Outcome.passed(f"{label} matches {approved} ({comparison.compared} {items} compared).", evidence)


def _label(record: Record | None) -> str:
    return "The baseline" if record is None else f"{record.noun} {record.name}"


def _message(label: str, difference: Difference, approved: str) -> str:
    change = difference.change
    if difference.item == "presence":
        if change is Change.WEAKER:
            return f"{label} was dropped from the config since {approved}: it is no longer checked."
        return f"{label} is not in {approved}: review it, then approve again (drill baseline approve)."
    if change is Change.UNVERIFIABLE:
        reason = f" ({difference.detail})" if difference.detail else ""
        return (
            f"{label}: {difference.item} could not be verified{reason}; in {approved} it was "
            f"{difference.approved}."
        )
    if difference.approved == ABSENT:
        moved = f"{label}: {difference.item} was added ({difference.today})"
    elif difference.today == ABSENT:
        moved = f"{label}: {difference.item} was removed (it was {difference.approved})"
    elif difference.detail:
        moved = (
            f"{label}: {difference.item} {_VERBS[change]}: {difference.detail} (approved: "
            f"{difference.approved}; today: {difference.today})"
        )
    else:
        moved = (
            f"{label}: {difference.item} {_VERBS[change]} from {difference.approved} to {difference.today}"
        )
    if change is Change.WEAKER:
        return f"{moved}, since {approved}: protection is weaker than approved."
    if change is Change.STRONGER:
        return f"{moved}: stronger than {approved}; approve again so that the baseline says so."
    return (
        f"{moved} since {approved}; drill cannot tell whether this weakens protection: review it, then "
        "approve again."
    )
