"""FilesystemStore never follows a symbolic link below the target's directory: not a snapshot that
is a link, not a directory on the way to the snapshots, the prefix directory included. Each such
entry is named in the listing instead, and the kernel (inotify) shows that nothing behind a link
leaving the target was opened."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from drill.clouds.errors import StorageError, StorageErrorKind
from drill.config import TargetType
from drill.model import EntryKind, Snapshot, UnfollowedEntry
from drill.storage.filesystem import FilesystemStore
from tests.exposure import as_unprivileged
from tests.helpers import make_target
from tests.opened import opened_below

SECRET = b"PGDMP secret of another system, never to be read"


def store_for(path: Path) -> FilesystemStore:
    return FilesystemStore(make_target(TargetType.FILESYSTEM, path=str(path), bucket=None, region=None))


def write(path: Path, body: bytes = b"PGDMP") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return path


def listed(store: FilesystemStore, prefix: str) -> tuple[list[Snapshot], list[UnfollowedEntry]]:
    items = list(store.iter_objects(prefix))
    return (
        sorted((item for item in items if isinstance(item, Snapshot)), key=lambda item: item.key),
        sorted((item for item in items if isinstance(item, UnfollowedEntry)), key=lambda item: item.key),
    )


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory beside the target, holding what looks like a good dump."""
    write(tmp_path / "elsewhere" / "orders" / "orders-2026-12-01.dump", SECRET)
    return tmp_path / "elsewhere"


def test_a_snapshot_that_links_inside_the_target_is_named_and_not_counted_twice(tmp_path: Path) -> None:
    root = tmp_path / "nas"
    write(root / "pg" / "orders" / "orders-1.dump")
    (root / "pg" / "orders" / "latest.dump").symlink_to("orders-1.dump")

    snapshots, links = listed(store_for(root), "pg/orders/")

    assert [snapshot.key for snapshot in snapshots] == ["pg/orders/orders-1.dump"]
    assert links == [UnfollowedEntry("pg/orders/latest.dump", EntryKind.FILE_LINK, "orders-1.dump", False)]


def test_a_snapshot_that_links_out_of_the_target_is_named_and_never_opened(
    tmp_path: Path, outside: Path
) -> None:
    root = tmp_path / "nas"
    (root / "pg" / "orders").mkdir(parents=True)
    elsewhere = outside / "orders" / "orders-2026-12-01.dump"
    (root / "pg" / "orders" / "orders-2026-12-01.dump").symlink_to(elsewhere)
    store = store_for(root)

    with opened_below(outside) as opened:
        snapshots, links = listed(store, "pg/orders/")
        with pytest.raises(StorageError) as raised:
            store.open("pg/orders/orders-2026-12-01.dump")

    assert snapshots == []
    assert links == [
        UnfollowedEntry("pg/orders/orders-2026-12-01.dump", EntryKind.FILE_LINK, str(elsewhere), True)
    ]
    assert raised.value.kind is StorageErrorKind.INVALID
    assert "symbolic link" in str(raised.value)
    assert opened == []


def test_a_prefix_directory_that_links_out_of_the_target_is_named_and_never_walked(
    tmp_path: Path, outside: Path
) -> None:
    root = tmp_path / "nas"
    root.mkdir()
    (root / "pg").symlink_to(outside)
    store = store_for(root)

    with opened_below(outside) as opened:
        snapshots, links = listed(store, "pg/orders/")
        key = "pg/orders/orders-2026-12-01.dump"
        reads = []
        for read in (lambda: store.read_small(key, 64), lambda: store.stat(key), lambda: store.open(key)):
            with pytest.raises(StorageError) as raised:
                read()
            reads.append(raised.value)

    assert snapshots == []
    assert links == [UnfollowedEntry("pg", EntryKind.DIRECTORY_LINK, str(outside), True)]
    assert all(error.kind is StorageErrorKind.INVALID and "pg on target" in str(error) for error in reads)
    assert opened == []


def test_a_directory_below_the_prefix_that_links_out_is_named_and_never_walked(
    tmp_path: Path, outside: Path
) -> None:
    root = tmp_path / "nas"
    write(root / "pg" / "orders" / "orders-1.dump")
    (root / "pg" / "orders" / "2026").symlink_to(outside / "orders")

    with opened_below(outside) as opened:
        snapshots, links = listed(store_for(root), "pg/orders/")

    assert [snapshot.key for snapshot in snapshots] == ["pg/orders/orders-1.dump"]
    assert [(link.key, link.kind, link.leaves_target) for link in links] == [
        ("pg/orders/2026", EntryKind.DIRECTORY_LINK, True)
    ]
    assert opened == []


def test_a_link_through_a_link_inside_the_target_that_ends_outside_leaves_it(
    tmp_path: Path, outside: Path
) -> None:
    root = tmp_path / "nas"
    (root / "pg" / "orders").mkdir(parents=True)
    (root / "pg" / "hop").symlink_to(outside / "orders")
    (root / "pg" / "orders" / "orders-1.dump").symlink_to("../hop/orders-2026-12-01.dump")

    _, links = listed(store_for(root), "pg/orders/")

    assert [(link.kind, link.leaves_target) for link in links] == [(EntryKind.FILE_LINK, True)]


def test_the_configured_directory_may_itself_be_a_link(tmp_path: Path) -> None:
    """The target's own path is the user's choice (a mount under another name); links below it are not."""
    write(tmp_path / "disk" / "pg" / "orders" / "orders-1.dump")
    (tmp_path / "nas").symlink_to(tmp_path / "disk")

    snapshots, links = listed(store_for(tmp_path / "nas"), "pg/orders/")

    assert [snapshot.key for snapshot in snapshots] == ["pg/orders/orders-1.dump"]
    assert links == []


def test_a_link_swapped_in_after_the_listing_is_refused_when_read(tmp_path: Path, outside: Path) -> None:
    root = tmp_path / "nas"
    write(root / "pg" / "orders" / "orders-1.dump")
    store = store_for(root)
    [snapshot], _ = listed(store, "pg/orders/")
    (root / "pg" / "orders").rename(root / "pg" / "moved")
    (root / "pg" / "orders").symlink_to(outside / "orders")
    (outside / "orders" / "orders-1.dump").write_bytes(SECRET)

    with opened_below(outside) as opened, pytest.raises(StorageError) as raised:
        store.protection(snapshot)

    assert raised.value.kind is StorageErrorKind.INVALID
    assert opened == []


def test_a_fifo_where_a_snapshot_should_be_is_named_and_never_blocks_a_read(tmp_path: Path) -> None:
    root = tmp_path / "nas"
    (root / "pg" / "orders").mkdir(parents=True)
    os.mkfifo(root / "pg" / "orders" / "orders-1.dump")
    store = store_for(root)

    snapshots, links = listed(store, "pg/orders/")
    with pytest.raises(StorageError) as raised:
        store.read_small("pg/orders/orders-1.dump", 64)  # a blocking open would wait for a writer forever

    assert snapshots == []
    assert links == [UnfollowedEntry("pg/orders/orders-1.dump", EntryKind.SPECIAL_FILE)]
    assert "not a regular file" in str(raised.value)


def test_a_dangling_link_is_named(tmp_path: Path) -> None:
    root = tmp_path / "nas"
    (root / "pg" / "orders").mkdir(parents=True)
    (root / "pg" / "orders" / "orders-1.dump").symlink_to("/nonexistent/orders-1.dump")

    _, links = listed(store_for(root), "pg/orders/")

    assert [(link.kind, link.leaves_target) for link in links] == [(EntryKind.DANGLING_LINK, True)]


def test_a_tree_deeper_than_the_recursion_limit_is_listed(tmp_path: Path) -> None:
    """The walk keeps its own stack: a hostile tree thousands of levels deep is no RecursionError."""
    root = tmp_path / "nas"
    deep = root / "pg"
    deep.mkdir(parents=True)
    descriptor = os.open(deep, os.O_RDONLY)
    try:
        for _ in range(1500):  # one level at a time: the full path would pass PATH_MAX
            os.mkdir("d", dir_fd=descriptor)
            inner = os.open("d", os.O_RDONLY, dir_fd=descriptor)
            os.close(descriptor)
            descriptor = inner
        os.close(os.open("x.dump", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=descriptor))
    finally:
        os.close(descriptor)

    try:
        snapshots, _ = listed(store_for(root), "pg/")
    finally:  # pytest's own clean-up recurses, and would fail on this tree; rm does not
        subprocess.run(["rm", "-rf", str(root)], check=True)

    assert len(snapshots) == 1 and snapshots[0].key.endswith("/d/x.dump")


def test_as_an_unprivileged_user_links_are_named_the_same_and_never_opened() -> None:
    """As root, modes never deny; the container runs drill as an ordinary user, whose reads of the
    outside file the kernel could refuse: the result must not depend on it (a forked child drops to
    nobody, and the outside file is readable by everyone, so nothing but drill keeps it unread)."""
    workspace = Path(tempfile.mkdtemp(prefix="drill-links-"))
    try:
        workspace.chmod(0o755)
        outside = workspace / "elsewhere"
        write(outside / "orders" / "orders-1.dump", SECRET).chmod(0o644)
        root = workspace / "nas"
        root.mkdir()
        (root / "pg").symlink_to(outside)
        (root / "orders").symlink_to(outside / "orders")
        for folder in (outside, outside / "orders", root):
            folder.chmod(0o755)

        with opened_below(outside) as opened:
            seen = as_unprivileged(
                lambda: [(item.key, item.leaves_target) for item in store_for(root).iter_objects("")]
            )

        assert sorted(seen) == [("orders", True), ("pg", True)]
        assert opened == []
    finally:
        shutil.rmtree(workspace)
