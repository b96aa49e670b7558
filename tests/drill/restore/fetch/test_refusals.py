"""What fetch refuses, leaving nothing behind: objects cut short, longer than listed, corrupt or empty,
content that is not a dump, tar members that escape or link, objects that are gone."""

from __future__ import annotations

import hashlib
import io
import tarfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drill.clouds.errors import StorageError, StorageErrorKind
from drill.model import Snapshot
from drill.restore.archive_header import NotADumpError
from drill.restore.fetch import FetchError, fetch
from drill.storage.s3 import S3Store
from tests.drill.restore.fetch.conftest import Upload, leftovers
from tests.pg_dumps import Dumps, tar_bytes


def test_fewer_bytes_than_listed_is_truncation(
    dumps: Dumps, store: S3Store, upload: Upload, tmp_path: Path
) -> None:
    body = dumps.custom.read_bytes()
    snapshot = upload("db/shop.dump", body)
    listed = replace(snapshot, size=len(body) + 4096)

    with pytest.raises(FetchError, match=f"truncated: got {len(body)} of {len(body) + 4096} bytes"):
        fetch(store, listed, tmp_path / "dl")

    assert leftovers(tmp_path / "dl") == []


def test_more_bytes_than_listed_is_an_error(
    dumps: Dumps, store: S3Store, upload: Upload, tmp_path: Path
) -> None:
    snapshot = upload("db/shop.dump", dumps.custom.read_bytes())

    with pytest.raises(FetchError, match="changed while it was read"):
        fetch(store, replace(snapshot, size=snapshot.size - 1), tmp_path)


def test_corrupt_gzip_is_an_error_with_the_reason(
    dumps: Dumps, store: S3Store, upload: Upload, tmp_path: Path
) -> None:
    body = bytearray(dumps.plain_gz.read_bytes())
    for at in range(len(body) // 2, len(body) // 2 + 64):
        body[at] ^= 0x5A
    snapshot = upload("db/shop.sql.gz", bytes(body))

    with pytest.raises(FetchError, match=r"the gzip stream is corrupt .*: Error -3 while decompressing"):
        fetch(store, snapshot, tmp_path / "dl")

    assert leftovers(tmp_path / "dl") == []


@pytest.mark.parametrize("name", ["gzip", "zstd"])
def test_compressed_object_cut_short_is_an_error(
    dumps: Dumps, store: S3Store, upload: Upload, tmp_path: Path, name: str
) -> None:
    # The stored object itself is short (a broken upload): its size matches the listing.
    body = (dumps.plain_gz if name == "gzip" else dumps.plain_zst).read_bytes()
    snapshot = upload(f"db/cut.sql.{name}", body[: len(body) // 2])

    with pytest.raises(FetchError, match=f"the {name} stream ends"):
        fetch(store, snapshot, tmp_path / "dl")

    assert leftovers(tmp_path / "dl") == []


def test_empty_object_is_not_a_dump(store: S3Store, upload: Upload, tmp_path: Path) -> None:
    snapshot = upload("db/empty.dump", b"")

    with pytest.raises(NotADumpError, match="the file is empty"):
        fetch(store, snapshot, tmp_path / "dl")

    assert leftovers(tmp_path / "dl") == []


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        (b"\x7fELF\x02\x01\x01\x00" + bytes(4088), "7f 45 4c 46"),
        (b"".join(hashlib.sha512(bytes([seed])).digest() for seed in range(64)), None),
    ],
    ids=["elf", "random"],
)
def test_binary_that_is_not_a_dump_is_named_by_its_first_bytes(
    store: S3Store, upload: Upload, tmp_path: Path, body: bytes, shown: str | None
) -> None:
    snapshot = upload("db/nightly.dump", body)

    with pytest.raises(
        NotADumpError, match=f"not a PostgreSQL dump: starts with bytes {shown or body[:4].hex(' ')}"
    ):
        fetch(store, snapshot, tmp_path / "dl")

    assert leftovers(tmp_path / "dl") == []


def _tar_with_link(toc: bytes, name: str, target: str, kind: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("shop.dir/toc.dat")
        info.size = len(toc)
        archive.addfile(info, io.BytesIO(toc))
        link = tarfile.TarInfo(name)
        link.type, link.linkname = kind, target
        archive.addfile(link)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "escape",
    [
        ("../evil", "points outside its directory"),
        ("shop.dir/../../evil", "points outside its directory"),
        ("/tmp/evil", "absolute path"),
    ],
    ids=["dotdot", "nested-dotdot", "absolute"],
)
def test_tar_member_escaping_its_directory_is_refused(
    dumps: Dumps, store: S3Store, upload: Upload, tmp_path: Path, escape: tuple[str, str]
) -> None:
    name, refusal = escape
    toc = (dumps.directory / "toc.dat").read_bytes()
    body = tar_bytes({"shop.dir/toc.dat": toc, name: b"owned"})
    snapshot = upload("db/evil.tar", body)
    destination = tmp_path / "a" / "b" / "dl"

    with pytest.raises(FetchError, match=refusal):
        fetch(store, snapshot, destination)

    assert leftovers(destination) == []
    assert not (tmp_path / "a" / "evil").exists() and not (tmp_path / "a" / "b" / "evil").exists()


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE])
def test_links_and_devices_in_a_tar_are_refused(
    dumps: Dumps, store: S3Store, upload: Upload, tmp_path: Path, kind: bytes
) -> None:
    body = _tar_with_link(
        (dumps.directory / "toc.dat").read_bytes(), "shop.dir/3355.dat.gz", "/etc/passwd", kind
    )
    snapshot = upload("db/links.tar", body)

    with pytest.raises(FetchError, match="a directory dump holds only files"):
        fetch(store, snapshot, tmp_path / "dl")

    assert leftovers(tmp_path / "dl") == []


def test_missing_object_is_a_storage_error(store: S3Store, tmp_path: Path) -> None:
    ghost = Snapshot("db/ghost.dump", 10, created_at=datetime(2024, 1, 1, tzinfo=UTC))

    with pytest.raises(StorageError) as raised:
        fetch(store, ghost, tmp_path / "dl")

    assert raised.value.kind is StorageErrorKind.NOT_FOUND
    assert leftovers(tmp_path / "dl") == []
