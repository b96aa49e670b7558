"""The approved baseline as a fact: its file read and checked, and each subject paired with today's record.

A file that is missing is noted (or fails, when ``[baseline] required``); one that cannot be read,
is not a baseline, or no longer matches the digest it records is unusable, and the ``drift``
check reports it as an error rather than comparing with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from drill.baseline import codec
from drill.baseline.model import AgentRecord, DatabaseRecord, TargetRecord
from drill.collect.capture import capture
from drill.config import Config
from drill.facts import (
    ApprovedBaseline,
    BaselineState,
    CollectedFacts,
    DriftFacts,
    MissingBaseline,
    UnusableBaseline,
)

R = TypeVar("R", TargetRecord, DatabaseRecord, AgentRecord)


def load_baseline(config: Config) -> BaselineState:
    path = Path(config.baseline_path)
    try:
        with path.open("rb") as reader:
            data = reader.read(codec.MAX_BYTES + 1)  # one byte more than allowed tells "too large"
    except FileNotFoundError:
        return MissingBaseline(str(path), config.baseline.required)
    except OSError as error:
        return UnusableBaseline(str(path), f"it cannot be read: {error.strerror or error}", None)
    digest = codec.file_sha256(data)
    try:
        baseline = codec.parse(data)
    except codec.BaselineError as error:
        return UnusableBaseline(str(path), str(error), digest)
    return ApprovedBaseline(str(path), digest, baseline)


def drift_subjects(
    config: Config, collected: CollectedFacts, state: BaselineState, now: datetime
) -> tuple[DriftFacts, ...]:
    """One subject per target, database and agent that the baseline or today's run names; with no
    usable baseline, the one subject that says so.

    A subject the baseline names but this run did not collect (``--database`` narrowed it) and that
    is still in the config is left out: it was not looked at, so it neither drifted nor held.
    """
    if not isinstance(state, ApprovedBaseline):
        return (DriftFacts(state, now),)
    targets, databases, agents = capture(config, collected)
    approved = state.baseline
    agent_names = tuple(agent.name for agent in config.agents)
    target_names = tuple(target.name for target in config.targets)
    pairs = [
        *_paired(approved.targets, targets, set(target_names)),
        *_paired(approved.databases, databases, {database.name for database in config.databases}),
        *_paired(approved.agents, agents, set(agent_names)),
    ]
    return tuple(DriftFacts(state, now, before, after, agent_names, target_names) for before, after in pairs)


def _paired(
    approved: Iterable[R], today: Iterable[R], configured: set[str]
) -> Iterator[tuple[R | None, R | None]]:
    before: Mapping[str, R] = {record.name: record for record in approved}
    after: Mapping[str, R] = {record.name: record for record in today}
    for name in sorted(before.keys() | after.keys()):
        if name in after or name not in configured:
            yield before.get(name), after.get(name)
