"""Bounds on what a snapshot makes drill write (drill.restore.bounds): gzip and zstd bombs built here,
small on disk, stopped at the bound with nothing left; the free-space floor; the cluster's growth."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from drill.restore.bounds import BoundExceeded, DiskBudget, GrowthWatch, tree_size
from tests.drill.restore import hostile
from tests.drill.restore.conftest import fetch_local

MiB = 1 << 20


@pytest.fixture
def parent() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="drill-test-"))
    yield path
    for leftover in sorted(path.rglob("*"), reverse=True):
        leftover.unlink() if not leftover.is_dir() else leftover.rmdir()
    path.rmdir()


@pytest.mark.parametrize(("kind", "bomb"), [("gzip", hostile.gzip_bomb), ("zstd", hostile.zstd_bomb)])
def test_a_bomb_is_stopped_at_max_expanded_size_and_leaves_nothing(
    parent: Path, kind: str, bomb: object
) -> None:
    snapshots = parent / "bucket"
    snapshots.mkdir()
    stored = snapshots / f"bomb.sql.{'gz' if kind == 'gzip' else 'zst'}"
    stored.write_bytes(bomb(256 * MiB))  # type: ignore[operator]
    assert stored.stat().st_size < MiB  # 256 MiB expanded, small on disk

    with pytest.raises(BoundExceeded) as exceeded:
        fetch_local(stored, parent, budget=DiskBudget(parent, limit=32 * MiB))

    assert str(exceeded.value) == (
        "The snapshot expands past [restore] max_expanded_size = 32.0 MiB: it was stopped at 32.0 MiB, "
        "and nothing of it is kept."
    )
    downloads = [path for path in parent.iterdir() if path != snapshots]
    assert [list(download.iterdir()) for download in downloads] == [[]]


def free_fraction(where: Path) -> float:
    stats = os.statvfs(where)
    return stats.f_bavail / stats.f_blocks


def test_the_free_space_floor_stops_a_write_before_the_filesystem_fills(parent: Path) -> None:
    # A floor just under today's free space stands in for a disk about to fill: writing 64 MiB more
    # crosses it. (The default floor is 5%; the test machine's disk is far from it.)
    stats = os.statvfs(parent)
    total = stats.f_blocks * stats.f_frsize
    budget = DiskBudget(parent, floor=free_fraction(parent) - (32 * MiB) / total)

    budget.check(0, "The snapshot", coming=MiB)  # 1 MiB more is fine
    with pytest.raises(BoundExceeded) as exceeded:
        budget.check(10 * MiB, "The snapshot", coming=64 * MiB)

    message = str(exceeded.value)
    assert message.startswith(
        "The snapshot reached 10.0 MiB with 64.0 MiB more to write, which left the scratch"
    )
    assert "under drill's floor of" in message and "[restore] max_expanded_size" in message


def test_the_growth_watch_reports_growth_past_the_limit_and_nothing_before(parent: Path) -> None:
    (parent / "base").write_bytes(bytes(2 * MiB))
    watch = GrowthWatch(parent, DiskBudget(parent, limit=4 * MiB))
    assert watch.baseline == tree_size(parent) == 2 * MiB

    (parent / "grown").write_bytes(bytes(3 * MiB))
    assert watch() is None
    (parent / "more").write_bytes(bytes(2 * MiB))
    reason = watch()

    assert reason == (
        "The restored database expands past [restore] max_expanded_size = 4.0 MiB: it was stopped at "
        "5.0 MiB, and nothing of it is kept."
    )
