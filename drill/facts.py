"""Facts collected from storage before any check runs. Checks read these and do no I/O themselves.

A fact that could not be collected is an ``Unavailable`` with the reason; a check that needs it
calls ``known()``, which raises ``FactUnavailable``, and the engine turns that into an ``error``
finding that carries the reason. A denied read therefore never looks like a negative verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar, overload

from drill.config import Database, Policy, Target
from drill.model import FactUnavailable, Snapshot, Unavailable
from drill.posture import BucketPosture, ObjectProtection, Sidecar

__all__ = ["FactUnavailable", "Unavailable", "known"]  # re-exported: checks import them from here

T = TypeVar("T")


@overload
def known(value: BucketPosture | Unavailable) -> BucketPosture: ...
@overload
def known(value: T | Unavailable) -> T: ...
def known(value: object) -> object:
    """The fact itself, or FactUnavailable with the reason it could not be collected.

    The first overload keeps the posture union intact: inference over a union of several classes
    and Unavailable would otherwise widen to ``object``.
    """
    if isinstance(value, Unavailable):
        raise FactUnavailable(value.reason)
    return value


@dataclass(frozen=True)
class Subject:
    """Whom a finding is about; every facts class names its subject."""

    target: str | None = None
    database: str | None = None
    agent: str | None = None


@dataclass(frozen=True)
class SnapshotListing:
    """What a target holds for one snapshot pattern: how many, and only the newest few.

    Only the newest are kept so that memory stays flat however many snapshots a target holds.
    """

    pattern: str
    count: int
    newest: tuple[Snapshot, ...]  # newest first
    sidecar_keys: frozenset[str] = frozenset()  # checksum files seen beside the newest snapshots

    @property
    def latest(self) -> Snapshot | None:
        return self.newest[0] if self.newest else None

    @property
    def previous(self) -> Snapshot | None:
        return self.newest[1] if len(self.newest) > 1 else None


NOT_COLLECTED = Unavailable("This fact was not collected.")


@dataclass(frozen=True)
class DatabaseTargetFacts:
    """One database's snapshots on one target, and how the latest of them is protected."""

    database: Database
    target: Target
    policy: Policy
    now: datetime
    listing: SnapshotListing | Unavailable
    posture: BucketPosture | Unavailable = NOT_COLLECTED
    protection: ObjectProtection | Unavailable | None = NOT_COLLECTED  # None: there is no latest snapshot
    sidecar: Sidecar | Unavailable | None = NOT_COLLECTED  # None: the latest snapshot has no sidecar

    @property
    def subject(self) -> Subject:
        return Subject(target=self.target.name, database=self.database.name)


@dataclass(frozen=True)
class TargetFacts:
    """One target as a whole, judged against the strictest policy of the databases it holds."""

    target: Target
    policy: Policy
    now: datetime
    posture: BucketPosture | Unavailable = NOT_COLLECTED
    latest: tuple[DatabaseTargetFacts, ...] = ()  # each database's snapshots on this target

    @property
    def subject(self) -> Subject:
        return Subject(target=self.target.name)


@dataclass(frozen=True)
class DatabaseFacts:
    """One database across all of its targets."""

    database: Database
    policy: Policy
    now: datetime
    copies: tuple[DatabaseTargetFacts, ...]

    @property
    def subject(self) -> Subject:
        return Subject(database=self.database.name)
