"""Fetching real dumps through the real S3 store on moto: every format and wrapper recognised and
unwrapped, digests checked against the stored bytes, memory bounded whatever the size."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import pytest
import zstandard

from drill.config import TargetType
from drill.facts import Sidecar
from drill.restore.fetch import FetchError, fetch
from drill.restore.formats import Compression, DumpFormat
from drill.storage.filesystem import FilesystemStore
from drill.storage.s3 import S3Store
from tests.drill.restore.fetch.conftest import MiB, Upload, leftovers, pg_restore_lists, tree
from tests.helpers import make_target
from tests.pg_dumps import Dumps, tar_bytes


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
