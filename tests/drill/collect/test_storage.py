from datetime import timedelta
from pathlib import Path

from drill.collect import collect
from drill.config import Config, TargetType
from drill.facts import Unavailable
from tests import factories


def test_a_missing_directory_is_unavailable_with_its_path(tmp_path: Path) -> None:
    target = factories.target("fs", type=TargetType.FILESYSTEM, path=str(tmp_path / "gone"))
    config = Config(targets=(target,), databases=(factories.database(targets=("fs",)),))
    facts = collect(config, factories.NOW, environ={})
    [copy] = facts.database_targets
    assert isinstance(copy.listing, Unavailable)
    assert str(tmp_path / "gone") in copy.listing.reason


def test_a_target_shared_by_two_databases_is_judged_by_the_longest_retention(tmp_path: Path) -> None:

    target = factories.target("fs", type=TargetType.FILESYSTEM, path=str(tmp_path))
    short = factories.database("a", targets=("fs",), min_retention=timedelta(days=7))
    long = factories.database("b", targets=("fs",), min_retention=timedelta(days=90))
    facts = collect(Config(targets=(target,), databases=(short, long)), factories.NOW, environ={})
    [target_facts] = facts.targets
    assert target_facts.policy.min_retention == timedelta(days=90)
    assert len(facts.database_targets) == 2
