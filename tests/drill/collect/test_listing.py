import os
from datetime import UTC, datetime
from pathlib import Path

from drill.collect.listing import KEEP_UNFOLLOWED, list_snapshots
from drill.config import TargetType
from drill.storage.filesystem import FilesystemStore
from tests import factories


def _write(root: Path, key: str, size: int, mtime: int) -> None:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    os.utime(path, (mtime, mtime))


def test_listing_keeps_count_the_newest_three_and_the_oldest(tmp_path: Path) -> None:
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
    # The other end of what retention keeps, for the trust checks: one snapshot, however many there are.
    assert found.oldest is not None and found.oldest.key == "pg/orders/orders-01.dump"


def test_listing_names_links_where_snapshots_could_be_and_keeps_only_the_first_few(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "nas"
    _write(root, "pg/orders/orders-01.dump", 1, 1_700_000_000)
    (outside / "notes.txt").write_text("notes")
    (root / "pg" / "orders" / "README").symlink_to(outside / "notes.txt")  # a file no pattern matches
    (root / "pg" / "orders" / "2025").symlink_to(outside)  # a directory that could hold snapshots
    for index in range(KEEP_UNFOLLOWED + 5):
        (root / "pg" / "orders" / f"link-{index:02}.dump").symlink_to(outside / "x.dump")
    target = factories.target("fs", type=TargetType.FILESYSTEM, path=str(root), prefix="pg/")

    found = list_snapshots(FilesystemStore(target), target, "orders/*.dump")

    assert found.count == 1
    assert found.unfollowed_count == KEEP_UNFOLLOWED + 6
    assert len(found.unfollowed) == KEEP_UNFOLLOWED
    assert "pg/orders/README" not in {entry.key for entry in found.unfollowed}
    assert all(entry.leaves_target for entry in found.unfollowed)
