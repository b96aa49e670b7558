"""Fetching real dumps through the real S3 store on moto: digests, unwrapping, unpacking, refusals."""

from __future__ import annotations

import gzip
import hashlib
import io
import shutil
import subprocess
import tarfile
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import zstandard

from drill.clouds.errors import StorageError, StorageErrorKind
from drill.config import TargetType
from drill.facts import Sidecar
from drill.model import Snapshot
from drill.restore.fetch import Fetched, FetchError, fetch
from drill.restore.formats import Compression, DumpFormat, NotADumpError
from drill.storage.filesystem import FilesystemStore
from drill.storage.s3 import S3Store
from tests.helpers import AWS_ENVIRON, make_target
from tests.pg_dumps import Dumps, dumps_for, tar_bytes

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MiB = 1 << 20


@pytest.fixture(scope="session")
def dumps(tmp_path_factory: pytest.TempPathFactory) -> Dumps:
    return dumps_for(tmp_path_factory)


@pytest.fixture
def store(s3_endpoint: str, s3_admin: S3Client) -> S3Store:
    s3_admin.create_bucket(Bucket="backups")
    return S3Store(make_target(endpoint_url=s3_endpoint), AWS_ENVIRON)


Upload = Callable[[str, bytes], Snapshot]


@pytest.fixture
def upload(store: S3Store, s3_admin: S3Client) -> Upload:
    """Put an object on moto and return the snapshot the store lists for it."""

    def put(key: str, body: bytes) -> Snapshot:
        s3_admin.put_object(Bucket="backups", Key=key, Body=body)
        snapshot = store.stat(key)
        assert snapshot is not None
        return snapshot

    return put


def leftovers(destination: Path) -> list[str]:
    return sorted(path.name for path in destination.iterdir()) if destination.exists() else []


def pg_restore_lists(dumps: Dumps, fetched: Fetched) -> str:
    listing = subprocess.run(
        (dumps.tool("pg_restore"), "--list", str(fetched.path)), check=True, capture_output=True, text=True
    )
    return listing.stdout


def tree(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in directory.iterdir()}


@dataclass(frozen=True)
class Case:
    source: str  # the Dumps field to upload
    key: str
    dump_format: DumpFormat
    compression: Compression


CASES = [
    Case("custom", "db/shop.dump", DumpFormat.CUSTOM, Compression.NONE),
    Case("tar", "db/shop.tar", DumpFormat.TAR, Compression.NONE),
    Case("plain", "db/shop.sql", DumpFormat.PLAIN, Compression.NONE),
    Case("directory_tar", "db/shop-dir.tar", DumpFormat.DIRECTORY, Compression.NONE),
    Case("plain_gz", "db/shop.sql.gz", DumpFormat.PLAIN, Compression.GZIP),
    Case("plain_zst", "db/shop.sql.zst", DumpFormat.PLAIN, Compression.ZSTD),
    Case("custom_zst", "db/shop.dump.zst", DumpFormat.CUSTOM, Compression.ZSTD),
    Case("directory_tar_gz", "db/shop-dir.tar.gz", DumpFormat.DIRECTORY, Compression.GZIP),
]


@pytest.mark.parametrize("case", CASES, ids=[case.source for case in CASES])
def test_real_dumps_are_fetched_unwrapped_and_recognised(
    dumps: Dumps, store: S3Store, upload: Upload, tmp_path: Path, case: Case
) -> None:
    source, key, dump_format, compression = case.source, case.key, case.dump_format, case.compression
    body = getattr(dumps, source).read_bytes()
    snapshot = upload(key, body)
    seen: list[int] = []

    fetched = fetch(store, snapshot, tmp_path / "dl", progress=seen.append, chunk_size=8192)

    assert fetched.info.format is dump_format
    assert fetched.compression is compression
    assert fetched.info.dump_version is not None and fetched.info.dump_version.startswith("15.")
    assert (fetched.raw_bytes, sum(seen)) == (len(body), len(body))
    assert fetched.sha256 == hashlib.sha256(body).hexdigest()
    assert fetched.md5 == hashlib.md5(body).hexdigest()
    assert fetched.path.is_relative_to(tmp_path / "dl")
    assert not fetched.info.tarred_directory
    if dump_format is DumpFormat.PLAIN:
        assert fetched.path.read_bytes() == dumps.plain.read_bytes()
    elif dump_format is DumpFormat.DIRECTORY:
        assert tree(fetched.path) == tree(dumps.directory)
        assert leftovers(tmp_path / "dl") == [fetched.path.parent.name]  # the tar itself is gone
    else:
        assert fetched.path.read_bytes() == getattr(dumps, dump_format.value).read_bytes()
    if dump_format is not DumpFormat.PLAIN:
        assert fetched.info.database == "shop"
        assert "TABLE DATA public orders" in pg_restore_lists(dumps, fetched)
    assert fetched.restored_bytes > 0
    assert not any(name.endswith(".part") for name in leftovers(tmp_path / "dl"))


def test_directory_files_tarred_without_a_folder_unpack_to_a_restorable_directory(
    dumps: Dumps, store: S3Store, upload: Upload, tmp_path: Path
) -> None:
    members = {path.name: path.read_bytes() for path in sorted(dumps.directory.iterdir(), reverse=True)}
    snapshot = upload("db/flat.tar.zst", zstandard.ZstdCompressor().compress(tar_bytes(members)))

    fetched = fetch(store, snapshot, tmp_path)

    assert fetched.info.format is DumpFormat.DIRECTORY
    assert fetched.path == tmp_path / "flat.tar.d"
    assert tree(fetched.path) == tree(dumps.directory)
    assert "TABLE DATA public customers" in pg_restore_lists(dumps, fetched)


def test_compression_suffix_is_dropped_from_the_local_name(
    dumps: Dumps, store: S3Store, upload: Upload, tmp_path: Path
) -> None:
    snapshot = upload("nightly/2024-05-01 full.dump.zst", dumps.custom_zst.read_bytes())

    fetched = fetch(store, snapshot, tmp_path)

    assert fetched.path == tmp_path / "2024-05-01_full.dump"
    assert fetched.restored_bytes == dumps.custom.stat().st_size


@pytest.mark.parametrize("algorithm", ["sha256", "md5"])
def test_matching_sidecar_passes(
    dumps: Dumps, store: S3Store, upload: Upload, tmp_path: Path, algorithm: str
) -> None:
    body = dumps.custom.read_bytes()
    snapshot = upload("db/shop.dump", body)
    digest = hashlib.new(algorithm, body).hexdigest()

    fetched = fetch(
        store, snapshot, tmp_path, expected=Sidecar(f"db/shop.dump.{algorithm}", algorithm, digest)
    )

    assert getattr(fetched, algorithm) == digest


def test_sidecar_is_checked_against_the_stored_not_the_unwrapped_bytes(
    dumps: Dumps, store: S3Store, upload: Upload, tmp_path: Path
) -> None:
    body = dumps.plain_gz.read_bytes()
    snapshot = upload("db/shop.sql.gz", body)
    sidecar = Sidecar("db/shop.sql.gz.sha256", "sha256", hashlib.sha256(body).hexdigest().upper())

    assert fetch(store, snapshot, tmp_path, expected=sidecar).info.format is DumpFormat.PLAIN


def test_mismatching_sidecar_names_both_digests_and_leaves_nothing(
    dumps: Dumps, store: S3Store, upload: Upload, tmp_path: Path
) -> None:
    body = dumps.custom.read_bytes()
    snapshot = upload("db/shop.dump", body)
    wrong = hashlib.sha256(b"another dump").hexdigest()

    with pytest.raises(FetchError, match="checksum mismatch") as raised:
        fetch(store, snapshot, tmp_path / "dl", expected=Sidecar("db/shop.dump.sha256", "sha256", wrong))

    assert wrong in str(raised.value) and hashlib.sha256(body).hexdigest() in str(raised.value)
    assert leftovers(tmp_path / "dl") == []


def test_sidecar_with_an_unknown_algorithm_is_an_error(
    dumps: Dumps, store: S3Store, upload: Upload, tmp_path: Path
) -> None:
    snapshot = upload("db/shop.dump", dumps.custom.read_bytes())

    with pytest.raises(FetchError, match="uses crc32c"):
        fetch(store, snapshot, tmp_path, expected=Sidecar("db/shop.dump.crc", "crc32c", "00"))


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


def test_concatenated_gzip_members_and_zstd_frames_are_all_read(
    store: S3Store, upload: Upload, tmp_path: Path
) -> None:
    first, second = b"-- part one\nSELECT 1;\n", b"SELECT 2;\n" * 1000
    gzipped = gzip.compress(first) + gzip.compress(second) + bytes(16)  # pigz-style, zero padded
    skippable = (0x184D2A5A).to_bytes(4, "little") + (5).to_bytes(4, "little") + b"notes"
    zstded = (
        zstandard.ZstdCompressor(write_content_size=False).compress(first)
        + skippable
        + zstandard.ZstdCompressor(write_checksum=True).compress(second)
    )

    for key, body in (("multi.sql.gz", gzipped), ("multi.sql.zst", zstded)):
        fetched = fetch(store, upload(key, body), tmp_path / key, chunk_size=7)
        assert fetched.path.read_bytes() == first + second


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


def _big_plain_dump(path: Path, size: int) -> bytes:
    """A plain SQL dump of ``size`` bytes, written block by block; returns its sha256."""
    digest = hashlib.sha256()
    block = (b"-- PostgreSQL database dump\n" + b"INSERT INTO t VALUES (1, 'row');\n" * 32000)[:MiB]
    with path.open("wb") as out:
        for _ in range(size // MiB):
            out.write(block)
            digest.update(block)
    return digest.digest()


@pytest.mark.parametrize("wrap", [None, "gzip", "zstd"])
def test_peak_memory_stays_small_for_a_100_mb_object(tmp_path: Path, wrap: str | None) -> None:
    # The filesystem store, because moto serves from the same process and would hold the object
    # in memory itself, which tracemalloc would count against fetch.
    root = tmp_path / "bucket"
    root.mkdir()
    plain = root / "big.sql"
    _big_plain_dump(plain, 100 * MiB)
    stored = plain
    if wrap == "gzip":
        stored = root / "big.sql.gz"
        with plain.open("rb") as source, gzip.open(stored, "wb", compresslevel=1) as target:
            shutil.copyfileobj(source, target, MiB)
    elif wrap == "zstd":
        # A repeated block compresses about a thousandfold: the case that needs bounded output.
        stored = root / "big.sql.zst"
        with plain.open("rb") as source, stored.open("wb") as target:
            zstandard.ZstdCompressor(level=1).copy_stream(source, target)
    if stored != plain:
        plain.unlink()
    store = FilesystemStore(make_target(TargetType.FILESYSTEM, path=str(root), bucket=None, region=None))
    snapshot = store.stat(stored.name)
    assert snapshot is not None

    tracemalloc.start()
    try:
        fetched = fetch(store, snapshot, tmp_path / "dl")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert fetched.restored_bytes == 100 * MiB
    assert peak < 8 * MiB, f"peak {peak / MiB:.1f} MiB while fetching 100 MiB"
