"""FilesystemStore on real directories: listing, reads, and protection read off the kernel
(the immutable attribute set with chattr, a read-only bind mount)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drill.clouds.errors import StorageError, StorageErrorKind
from drill.config import TargetType
from drill.facts import FilesystemPosture
from drill.model import Snapshot
from drill.storage.filesystem import FilesystemStore
from tests.helpers import make_target


def store_for(path: Path) -> FilesystemStore:
    return FilesystemStore(make_target(TargetType.FILESYSTEM, path=str(path), bucket=None, region=None))


def listed(key: str) -> Snapshot:
    return Snapshot(key=key, size=0, created_at=datetime.now(UTC))


def write(path: Path, body: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return path


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False)


@pytest.fixture
def immutable_file(tmp_path: Path) -> Iterator[Path]:
    """A file with ``chattr +i``; the attribute comes off again so tmp_path can be removed."""
    path = write(tmp_path / "orders" / "locked.dump")
    result = run("chattr", "+i", str(path))
    if result.returncode != 0:
        pytest.skip(f"chattr +i refused here: {result.stderr.strip()}")
    try:
        yield path
    finally:
        run("chattr", "-i", str(path))


@pytest.fixture
def read_only_mount(tmp_path: Path) -> Iterator[Path]:
    """A directory bind-mounted onto itself and remounted read-only, unmounted afterwards."""
    directory = tmp_path / "vault"
    write(directory / "orders" / "a.dump")
    bound = run("mount", "--bind", str(directory), str(directory))
    if bound.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {bound.stderr.strip() or bound.returncode}")
    try:
        read_only = run("mount", "-o", "remount,bind,ro", str(directory))
        if read_only.returncode != 0:
            pytest.skip(f"cannot remount read-only here: {read_only.stderr.strip() or read_only.returncode}")
        yield directory
    finally:
        run("umount", str(directory))


def test_listing_walks_below_the_prefix(tmp_path: Path) -> None:
    write(tmp_path / "orders" / "2026" / "a.dump", b"abc")
    write(tmp_path / "orders" / "b.dump")
    write(tmp_path / "orders-archive" / "c.dump")
    write(tmp_path / "payments" / "d.dump")

    store = store_for(tmp_path)
    snapshots = {snapshot.key: snapshot for snapshot in store.iter_objects("orders/")}

    assert sorted(snapshots) == ["orders/2026/a.dump", "orders/b.dump"]
    assert snapshots["orders/2026/a.dump"].size == 3
    assert abs(datetime.now(UTC) - snapshots["orders/b.dump"].created_at) < timedelta(minutes=1)
    assert len(list(store.iter_objects(""))) == 4


def test_listing_a_missing_directory_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as raised:
        list(store_for(tmp_path / "gone").iter_objects(""))

    assert raised.value.kind is StorageErrorKind.NOT_FOUND


def test_stat_read_small_and_open(tmp_path: Path) -> None:
    write(tmp_path / "orders" / "a.dump.sha256", b"abcdef  a.dump\n")
    store = store_for(tmp_path)

    snapshot = store.stat("orders/a.dump.sha256")
    assert snapshot is not None
    assert snapshot.size == 15
    assert store.stat("orders/missing") is None
    assert store.read_small("orders/a.dump.sha256", 6) == b"abcdef"
    assert store.read_small("orders/missing", 6) is None
    with store.open("orders/a.dump.sha256") as stream:
        assert stream.read() == b"abcdef  a.dump\n"


def test_plain_file_is_not_immutable(tmp_path: Path) -> None:
    write(tmp_path / "orders" / "a.dump", b"pg_dump output")

    protection = store_for(tmp_path).protection(listed("orders/a.dump"))

    assert protection.key == "orders/a.dump"
    assert protection.size == len(b"pg_dump output")
    assert protection.written_at.tzinfo == UTC
    assert protection.immutable_attribute is False
    assert (protection.lock_mode, protection.retain_until, protection.legal_hold) == (None, None, False)


def test_chattr_immutable_file_is_immutable(tmp_path: Path, immutable_file: Path) -> None:
    protection = store_for(tmp_path).protection(listed("orders/locked.dump"))

    assert protection.immutable_attribute is True
    with pytest.raises(PermissionError):  # the kernel means it, even for root
        immutable_file.write_bytes(b"overwritten")


def test_protection_of_a_vanished_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as raised:
        store_for(tmp_path).protection(listed("orders/gone.dump"))

    assert raised.value.kind is StorageErrorKind.NOT_FOUND
    assert "orders/gone.dump" in str(raised.value)


def test_writable_directory_is_not_a_read_only_mount(tmp_path: Path) -> None:
    posture = store_for(tmp_path).posture()

    assert isinstance(posture, FilesystemPosture)
    assert posture.read_only_mount is False
    assert posture.mount_point is not None
    assert tmp_path.resolve().is_relative_to(posture.mount_point)
    assert os.path.ismount(posture.mount_point)


def test_read_only_bind_mount_is_reported(read_only_mount: Path) -> None:
    store = store_for(read_only_mount)

    posture = store.posture()
    protection = store.protection(listed("orders/a.dump"))

    assert posture.read_only_mount is True
    assert protection.immutable_attribute is False  # read-only comes from the mount, not the file


def test_read_only_bind_mount_names_its_mount_point(read_only_mount: Path) -> None:
    assert store_for(read_only_mount).posture().mount_point == str(read_only_mount.resolve())
