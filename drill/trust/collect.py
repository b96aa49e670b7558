"""Gather the trust evidence: every agent against every backup target, and drill's own credentials
against each target, run concurrently with a bound (each pair is a handful of API calls)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from drill.config import Agent, Config, Credentials, Target, TargetType
from drill.facts import TargetFacts
from drill.model import Unavailable
from drill.storage.aws import SessionCache
from drill.storage.base import StorageError
from drill.trust import aws, gcp
from drill.trust_facts import Access, AgentTargetFacts, Identity, VerifierTargetFacts

T = TypeVar("T")
_PROVIDER = {TargetType.S3: "aws", TargetType.GCS: "gcp"}


def _attempt(function: Callable[[], T]) -> T | Unavailable:
    """Evidence that cannot be obtained is Unavailable with the reason, never an absent answer."""
    try:
        return function()
    except StorageError as error:
        return Unavailable(str(error))
    except Exception as error:  # a provider SDK failing in an unforeseen way must not end the run
        return Unavailable(f"{type(error).__name__}: {error}")


def _identity(
    target: Target, credentials: Credentials, environ: Mapping[str, str], sessions: SessionCache
) -> Identity:
    if target.type is TargetType.S3:
        return aws.caller_identity(credentials, target, environ, sessions)
    return gcp.identity_of(credentials, environ)


def _access(
    target: Target,
    credentials: Credentials,
    environ: Mapping[str, str],
    *,
    trace_probes: bool,
    owner_account: str | None,
    sessions: SessionCache,
    snapshot_keys: tuple[str, ...] = (),
) -> Access:
    if target.type is TargetType.S3:
        return aws.s3_access(
            target,
            credentials,
            environ,
            verifier_credentials=target.credentials,
            trace_probes=trace_probes,
            owner_account=owner_account,
            snapshot_keys=snapshot_keys,
            sessions=sessions,
        )
    return gcp.gcs_access(target, credentials, environ)


def newest_keys(storage: TargetFacts) -> tuple[str, ...]:
    """The newest snapshot of each database on the target: judged by name as well as by prefix, so
    that a grant on a narrower prefix (``pg/orders/*``) is not missed."""
    keys = []
    for copy in storage.latest:
        if not isinstance(copy.listing, Unavailable) and copy.listing.latest is not None:
            keys.append(copy.listing.latest.key)
    return tuple(sorted(set(keys)))


def reaches(agent: Agent, path: str) -> bool:
    """Whether ``path`` lies inside (or is) one of the agent's paths."""
    resolved = Path(path).resolve()
    return any(resolved.is_relative_to(Path(root).resolve()) for root in agent.paths)


def _peers(config: Config, target: Target, storage: Mapping[str, TargetFacts]) -> tuple[TargetFacts, ...]:
    names = {
        name
        for database in config.databases
        if target.name in database.targets
        for name in database.targets
        if name != target.name and name in storage
    }
    return tuple(storage[name] for name in sorted(names))


def collect_trust(
    config: Config,
    targets: tuple[TargetFacts, ...],
    now: datetime,
    *,
    environ: Mapping[str, str],
    concurrency: int = 8,
) -> tuple[tuple[AgentTargetFacts, ...], tuple[VerifierTargetFacts, ...]]:
    storage = {facts.target.name: facts for facts in targets}
    sessions = SessionCache(environ)
    cloud = [facts.target for facts in targets if facts.target.type is not TargetType.FILESYSTEM]
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="drill-trust") as pool:
        verifier_ids = {
            target.name: pool.submit(
                _attempt, lambda t=target: _identity(t, t.credentials, environ, sessions)
            )
            for target in cloud
        }
        identities = {name: future.result() for name, future in verifier_ids.items()}

        def owner(target: Target) -> str | None:
            known = identities.get(target.name)
            return target.account or (known.account if isinstance(known, Identity) else None)

        verifier_access = {
            target.name: pool.submit(
                _attempt,
                lambda t=target: _access(
                    t,
                    t.credentials,
                    environ,
                    trace_probes=False,
                    owner_account=owner(t),
                    sessions=sessions,
                    snapshot_keys=newest_keys(storage[t.name]),
                ),
            )
            for target in cloud
        }
        agent_access = {
            (agent.name, target.name): pool.submit(
                _attempt,
                lambda a=agent, t=target: _access(
                    t,
                    a.credentials,
                    environ,
                    trace_probes=a.trace_probes,
                    owner_account=owner(t),
                    sessions=sessions,
                    snapshot_keys=newest_keys(storage[t.name]),
                ),
            )
            for agent in config.agents
            for target in cloud
            if agent.credentials.provider in (_PROVIDER[target.type], "anonymous")
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
                peers=_peers(config, facts.target, storage),
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
