"""Collecting every agent's exposure: in config order, an unlistable root an Unavailable with its reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drill.collect.agents import collect_agents
from drill.config import Agent, Config
from drill.facts import Exposure
from drill.model import Unavailable
from tests.exposure import (
    ENVIRON,
    SECRET,
    agent,
    as_unprivileged,
    backup_config,
    shared_directory,
    write_secrets,
)
from tests.factories import NOW


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return backup_config(write_secrets(tmp_path))


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    with shared_directory() as directory:
        yield directory


def test_unlistable_root_makes_the_agents_exposure_unavailable(shared_dir: Path, config: Config) -> None:
    locked = shared_dir / "locked"
    locked.mkdir(mode=0o000)
    locked.chmod(0o000)
    config = config.model_copy(update={"agents": (agent(locked),)})
    [facts] = as_unprivileged(lambda: collect_agents(config, NOW, ENVIRON))
    assert isinstance(facts.exposure, Unavailable)
    assert "Permission denied" in facts.exposure.reason and str(locked) in facts.exposure.reason


def test_collect_agents_scans_every_agent_in_config_order(tmp_path: Path, config: Config) -> None:
    agents = []
    for index in range(5):
        home = tmp_path / f"agent-{index}"
        home.mkdir()
        if index == 3:
            (home / ".env").write_text(f"AWS_SECRET_ACCESS_KEY={SECRET}\n")
        agents.append(Agent(name=f"agent-{index}", paths=(str(home),)))
    agents.append(Agent(name="no-paths"))
    facts = collect_agents(config.model_copy(update={"agents": tuple(agents)}), NOW, ENVIRON)
    assert [item.agent.name for item in facts] == [*(f"agent-{index}" for index in range(5)), "no-paths"]
    exposures = [item.exposure for item in facts]
    assert all(isinstance(exposure, Exposure) for exposure in exposures)
    assert [len(exposure.sightings) for exposure in exposures if isinstance(exposure, Exposure)] == [
        0,
        0,
        0,
        1,
        0,
        0,
    ]
    assert all(item.now == NOW for item in facts)
