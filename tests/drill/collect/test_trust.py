"""The trust collector's own small decisions: which snapshot keys to judge, which agents to judge on
which cloud, which paths an agent reaches."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from drill.collect.trust import judged, reaches, snapshot_keys
from drill.config import Agent, Credentials, TargetType
from drill.model import Unavailable
from tests import factories, trust


def test_the_keys_judged_are_each_databases_newest_and_oldest_and_skip_unreadable_listings() -> None:
    storage = trust.locked_s3()
    unreadable = replace(storage.latest[0], listing=Unavailable("AccessDenied"))
    oldest = factories.snapshot("billing/b-0.dump", age=timedelta(days=40))
    billing = replace(
        factories.listing(
            factories.snapshot("billing/b-2.dump"),
            factories.snapshot("billing/b-1.dump", age=timedelta(days=1)),
        ),
        oldest=oldest,
    )
    other = factories.database_target_facts(billing)
    assert snapshot_keys(replace(storage, latest=(*storage.latest, unreadable, other))) == (
        "billing/b-0.dump",
        "billing/b-1.dump",
        "billing/b-2.dump",
        "orders/orders-1.dump",
    )


def test_an_agent_without_credentials_is_judged_on_every_cloud_with_the_default_chain() -> None:
    default = Agent(name="ci", credentials=Credentials())
    aws = Agent(name="ci", credentials=Credentials(profile="ci"))
    gcp = Agent(name="ci", credentials=Credentials(service_account_file="/k.json"))
    s3, gcs = factories.target(), factories.target("gcs-vault", type=TargetType.GCS)
    assert judged(default, s3) and judged(default, gcs)
    assert judged(aws, s3) and not judged(aws, gcs)
    assert judged(gcp, gcs) and not judged(gcp, s3)


def test_a_path_inside_the_agents_paths_is_reached_and_a_sibling_is_not(tmp_path: Path) -> None:
    agent = Agent(name="coder", paths=(str(tmp_path / "workspace"),))
    assert reaches(agent, str(tmp_path / "workspace" / "backups"))
    assert reaches(agent, str(tmp_path / "workspace"))
    assert not reaches(agent, str(tmp_path / "workspace-backups"))
