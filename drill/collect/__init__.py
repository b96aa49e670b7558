"""The one collection step: fill the facts by asking the storage and trust backends, before any check runs.

``storage`` reads each target's posture and snapshot listings, ``history`` each database's last
clean restore drill on record, ``trust`` asks what every agent's credentials and drill's own could
do to each cloud target, ``agents`` scans each agent's files for the backup credentials. Backends answer and never call back; every failed read is an
``Unavailable`` with its reason, so a check reports ``error`` instead of a verdict.

After SIGTERM or Ctrl-C (``drill.stopping``) no cloud call is sent any more: storage stops waiting at
once, and the trust questions and credential scans get a few seconds to end before the run goes on
without them (their checks then find no subject: the run is recorded as interrupted).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from drill.collect.agents import collect_agents
from drill.collect.history import with_last_passing_drills
from drill.collect.pool import settled
from drill.collect.storage import collect_storage
from drill.collect.trust import collect_trust
from drill.config import Config, Database
from drill.facts import AgentFacts, CollectedFacts
from drill.model import Unavailable
from drill.stopping import SWITCH


def collect(
    config: Config,
    now: datetime,
    *,
    environ: Mapping[str, str],
    concurrency: int = 8,
    databases: tuple[Database, ...] | None = None,
) -> CollectedFacts:
    """Everything the posture checks judge: storage and run history of the ``databases`` (all when
    None), and the trust evidence of every agent and of drill itself against the targets that hold them."""
    storage = collect_storage(config, now, environ=environ, concurrency=concurrency, databases=databases)
    agent_targets, verifier_targets = settled(
        lambda: collect_trust(config, storage.targets, now, environ=environ, concurrency=concurrency),
        lambda: ((), ()),
    )
    return CollectedFacts(
        targets=storage.targets,
        databases=with_last_passing_drills(storage.databases, Path(config.report.dir)),
        database_targets=storage.database_targets,
        agents=settled(lambda: collect_agents(config, now, environ), lambda: _not_scanned(config, now)),
        agent_targets=agent_targets,
        verifier_targets=verifier_targets,
        repositories=storage.repositories,
    )


def _not_scanned(config: Config, now: datetime) -> tuple[AgentFacts, ...]:
    stopped = SWITCH.stopped
    reason = stopped.reason if stopped else "the run stopped first"
    return tuple(
        AgentFacts(agent, now, Unavailable(f"The credential scan was not finished: {reason}."))
        for agent in config.agents
    )
