"""Everything one collection step observed, grouped by the subject each check judges."""

from __future__ import annotations

from dataclasses import dataclass

from drill.facts.agents import AgentFacts
from drill.facts.pgbackrest import RepositoryFacts
from drill.facts.storage import DatabaseFacts, DatabaseTargetFacts, TargetFacts
from drill.facts.trust import AgentTargetFacts, VerifierTargetFacts


@dataclass(frozen=True)
class CollectedFacts:
    targets: tuple[TargetFacts, ...]
    databases: tuple[DatabaseFacts, ...]
    database_targets: tuple[DatabaseTargetFacts, ...]
    agents: tuple[AgentFacts, ...] = ()
    agent_targets: tuple[AgentTargetFacts, ...] = ()
    verifier_targets: tuple[VerifierTargetFacts, ...] = ()
    repositories: tuple[RepositoryFacts, ...] = ()  # each repository of each pgBackRest stanza
