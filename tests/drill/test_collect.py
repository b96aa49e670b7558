import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from drill.collect import collect
from drill.config import Config, TargetType
from drill.facts import Unavailable
from drill.listing import full_pattern, list_snapshots
from drill.storage.filesystem import FilesystemStore
from tests import factories


def _write(root: Path, key: str, size: int, mtime: int) -> None:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    os.utime(path, (mtime, mtime))


def test_listing_keeps_count_and_only_the_newest_three(tmp_path: Path) -> None:
    for day in range(1, 11):
        _write(tmp_path, f"pg/orders/orders-{day:02}.dump", day, 1_700_000_000 + day * 86400)
    _write(tmp_path, "pg/orders/orders-10.dump.sha256", 64, 1_800_000_000)
    _write(tmp_path, "pg/invoices/invoices-01.dump", 1, 1_800_000_000)
    target = factories.target("fs", type=TargetType.FILESYSTEM, path=str(tmp_path), prefix="pg/")
    found = list_snapshots(FilesystemStore(target), target, "orders/*.dump")
    assert found.pattern == "pg/orders/*.dump"
    assert found.count == 10
    assert [snapshot.key for snapshot in found.newest] == [
        "pg/orders/orders-10.dump",
        "pg/orders/orders-09.dump",
        "pg/orders/orders-08.dump",
    ]
    assert found.latest is not None and found.latest.size == 10
    assert found.latest.created_at == datetime.fromtimestamp(1_700_000_000 + 10 * 86400, UTC)
    assert found.sidecar_keys == {"pg/orders/orders-10.dump.sha256"}


def test_prefix_is_a_folder_with_or_without_its_slash() -> None:
    assert full_pattern(factories.target(prefix="pg"), "orders/*") == "pg/orders/*"
    assert full_pattern(factories.target(prefix="/pg/"), "/orders/*") == "pg/orders/*"
    assert full_pattern(factories.target(prefix=""), "orders/*") == "orders/*"


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
