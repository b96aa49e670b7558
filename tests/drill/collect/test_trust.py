"""The trust collector's own small decisions: which snapshot keys to judge, which paths an agent reaches."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from drill.collect.trust import newest_keys, reaches
from drill.config import Agent
from drill.model import Unavailable
from tests import factories, trust


def test_newest_keys_are_each_databases_latest_snapshot_and_skip_unreadable_listings() -> None:
    storage = trust.locked_s3()
    unreadable = replace(storage.latest[0], listing=Unavailable("AccessDenied"))
    other = factories.database_target_facts(
        factories.listing(
            factories.snapshot("billing/b-2.dump"),
            factories.snapshot("billing/b-1.dump", age=timedelta(days=1)),
        )
    )
    assert newest_keys(replace(storage, latest=(*storage.latest, unreadable, other))) == (
        "billing/b-2.dump",
        "orders/orders-1.dump",
    )


def test_a_path_inside_the_agents_paths_is_reached_and_a_sibling_is_not(tmp_path: Path) -> None:
    agent = Agent(name="coder", paths=(str(tmp_path / "workspace"),))
    assert reaches(agent, str(tmp_path / "workspace" / "backups"))
    assert reaches(agent, str(tmp_path / "workspace"))
    assert not reaches(agent, str(tmp_path / "workspace-backups"))
