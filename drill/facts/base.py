"""What every fact shares: how a fact that could not be collected reads, and whom a fact is about.

A fact that could not be collected is an ``Unavailable`` with the reason; a check that needs it
calls ``known()``, which raises ``FactUnavailable``, and the engine turns that into an ``error``
finding that carries the reason. A denied read therefore never looks like a negative verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar, overload

from drill.facts.posture import BucketPosture
from drill.model import FactUnavailable, Unavailable

T = TypeVar("T")

NOT_COLLECTED = Unavailable("This fact was not collected.")


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
