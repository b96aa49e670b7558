"""Gather the trust evidence: every agent against every backup target, and drill's own credentials
against each target, run concurrently with a bound (each pair is a handful of API calls)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from drill.collect.attempt import attempt
from drill.config import Agent, Config, Target, TargetType
from drill.facts import AgentTargetFacts, TargetFacts, VerifierTargetFacts
from drill.model import Unavailable
from drill.trust import PROVIDERS, trust_backend


def snapshot_keys(storage: TargetFacts) -> tuple[str, ...]:
    """The real backup keys the trust evidence is about: for each database on the target its newest
    snapshots and its oldest, the two ends of what retention keeps. A grant or a Deny scoped to
    some keys (``pg/chinook-*``) is judged on these, never on a stand-in key."""
    keys: list[str] = []
    for copy in storage.latest:
        if not isinstance(copy.listing, Unavailable):
            keys.extend(snapshot.key for snapshot in copy.listing.newest)
            if copy.listing.oldest is not None:
                keys.append(copy.listing.oldest.key)
    return tuple(sorted(set(keys)))


def judged(agent: Agent, target: Target) -> bool:
    """Whether the agent's credentials can act on the target's cloud. An empty credentials table is
    the SDK's default chain, which any cloud's SDK resolves: judged, never taken for "none"."""
    provider = agent.credentials.provider
    return provider is None or provider in (PROVIDERS[target.type], "anonymous")


def reaches(agent: Agent, path: str) -> bool:
    """Whether ``path`` lies inside (or is) one of the agent's paths."""
    resolved = Path(path).resolve()
    return any(resolved.is_relative_to(Path(root).resolve()) for root in agent.paths)


def _peers(target: Target, storage: Mapping[str, TargetFacts]) -> tuple[TargetFacts, ...]:
    """The other targets holding a database this one holds: read from the collected copies, so that
    each repository of a pgBackRest stanza is a peer by the name its findings carry."""
    held = {copy.database.name for copy in storage[target.name].latest}
    return tuple(
        facts
        for name, facts in sorted(storage.items())
        if name != target.name and any(copy.database.name in held for copy in facts.latest)
    )


def collect_trust(
    config: Config,
    targets: tuple[TargetFacts, ...],
    now: datetime,
    *,
    environ: Mapping[str, str],
    concurrency: int = 8,
) -> tuple[tuple[AgentTargetFacts, ...], tuple[VerifierTargetFacts, ...]]:
    storage = {facts.target.name: facts for facts in targets}
    cloud = [facts.target for facts in targets if facts.target.type in PROVIDERS]
    backends = {kind: trust_backend(kind, environ) for kind in {target.type for target in cloud}}
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="drill-trust") as pool:
        verifier_ids = {
            target.name: pool.submit(attempt, lambda t=target: backends[t.type].identity(t, t.credentials))
            for target in cloud
        }
        identities = {name: future.result() for name, future in verifier_ids.items()}

        verifier_access = {
            target.name: pool.submit(
                attempt,
                lambda t=target: backends[t.type].access(
                    t, t.credentials, snapshot_keys=snapshot_keys(storage[t.name])
                ),
            )
            for target in cloud
        }
        agent_access = {
            (agent.name, target.name): pool.submit(
                attempt,
                lambda a=agent, t=target: backends[t.type].access(
                    t, a.credentials, snapshot_keys=snapshot_keys(storage[t.name])
                ),
            )
            for agent in config.agents
            for target in cloud
            if judged(agent, target)
        }
        verifiers = tuple(
            VerifierTargetFacts(
                target=facts.target,
                now=now,
                access=verifier_access[facts.target.name].result()
                if facts.target.name in verifier_access
                else None,
                storage=facts,
                writable_path=_writable(facts.target),
            )
            for facts in targets
        )
        agents = tuple(
            AgentTargetFacts(
                agent=agent,
                target=facts.target,
                now=now,
                access=agent_access[(agent.name, facts.target.name)].result()
                if (agent.name, facts.target.name) in agent_access
                else None,
                verifier=identities.get(
                    facts.target.name, Unavailable("a filesystem target has no cloud identity")
                ),
                storage=facts,
                peers=_peers(facts.target, storage),
                agent_paths_reach_target=bool(facts.target.path) and reaches(agent, facts.target.path or ""),
            )
            for agent in config.agents
            for facts in targets
        )
    return agents, verifiers


def _writable(target: Target) -> bool | None:
    if target.type is not TargetType.FILESYSTEM or not target.path:
        return None
    path = Path(target.path)
    if not path.exists():
        return None
    # os.access honours read-only mounts (EROFS) as well as modes; as root, modes never deny.
    return os.access(path, os.W_OK)
