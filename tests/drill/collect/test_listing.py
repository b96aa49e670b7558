import os
from datetime import UTC, datetime
from pathlib import Path

from drill.collect.listing import list_snapshots
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
