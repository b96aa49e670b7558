"""The approved baseline as a fact, and each subject's approved and current record beside it.

Collection loads the baseline file (``drill.collect.baseline``) and captures today's records from
the other facts, the same way ``drill baseline approve`` captured the approved ones; the ``drift``
check compares the two, subject by subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from drill.baseline.model import AgentRecord, Baseline, DatabaseRecord, TargetRecord
from drill.facts.base import Subject
from drill.model import BaselineIdentity


@dataclass(frozen=True)
class ApprovedBaseline:
    """A baseline file that was read, matched the digest it records and parsed."""

    path: str
    sha256: str  # of the file's bytes, as sha256sum prints it
    baseline: Baseline

    def identity(self) -> BaselineIdentity:
        """What a run records of the baseline it compared with."""
        approval = self.baseline.approval
        return BaselineIdentity(self.path, self.sha256, approval.by, approval.at)


@dataclass(frozen=True)
class MissingBaseline:
    """No baseline file where the config says one is: nothing was approved yet."""

    path: str
    required: bool  # [baseline] required: then a missing baseline fails

    def identity(self) -> BaselineIdentity:
        return BaselineIdentity(self.path, problem="missing")


@dataclass(frozen=True)
class UnusableBaseline:
    """A baseline file that cannot be trusted: unreadable, not a baseline, or changed since approved."""

    path: str
    problem: str
    sha256: str | None  # of the file's bytes; None when they could not be read

    def identity(self) -> BaselineIdentity:
        return BaselineIdentity(self.path, self.sha256, problem=self.problem)


BaselineState = ApprovedBaseline | MissingBaseline | UnusableBaseline
Record = TargetRecord | DatabaseRecord | AgentRecord


@dataclass(frozen=True)
class DriftFacts:
    """One subject the baseline or today's config names, with both records.

    ``approved`` is None for a subject added since the approval, ``today`` None for one dropped
    from the config since; with no usable baseline there is one subject, the baseline itself,
    with neither. ``configured_agents`` and ``configured_targets`` are today's: a holder whose agent
    was dropped is reported once, on the agent, not again on every target; a target dropped from
    the config once, on the target, not again on every database that kept a copy there.
    """

    state: BaselineState
    now: datetime
    approved: Record | None = None
    today: Record | None = None
    configured_agents: tuple[str, ...] = ()
    configured_targets: tuple[str, ...] = ()

    @property
    def subject(self) -> Subject:
        record = self.today or self.approved
        if isinstance(record, TargetRecord):
            return Subject(target=record.name)
        if isinstance(record, DatabaseRecord):
            return Subject(database=record.name)
        if isinstance(record, AgentRecord):
            return Subject(agent=record.name)
        return Subject()
