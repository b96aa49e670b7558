"""Recognising dumps by content, on real pg_dump output, and reading their archive headers."""

from __future__ import annotations

import gzip
import hashlib
import subprocess
from pathlib import Path

import pytest
import zstandard

from drill.restore.archive_header import NotADumpError, TruncatedDumpError, parse_header
from drill.restore.compatibility import newest_archive_readable, restorable_by
from drill.restore.formats import Compression, DumpFormat, DumpInfo, detect, sniff_compression
from tests.pg_dumps import Dumps, dumps_for, tar_bytes


@pytest.fixture(scope="session")
def dumps(tmp_path_factory: pytest.TempPathFactory) -> Dumps:
    return dumps_for(tmp_path_factory)


def write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


# An archive header written the way pg_dump's WriteHead writes it, to craft versions this
# machine's pg_dump 15 cannot make: an int is a sign byte then four bytes, least significant first.
def encode_int(value: int) -> bytes:
    return bytes([1 if value < 0 else 0]) + abs(value).to_bytes(4, "little")


def encode_str(value: str | None) -> bytes:
    if value is None:
        return encode_int(-1)
    raw = value.encode()
    return encode_int(len(raw)) + raw


def craft_header(
    version: tuple[int, int, int],
    dump_version: str | None,
    *,
    database: str | None = "shop",
    server_version: str | None = "15.18 (Debian 15.18-0+deb12u1)",
    format_code: int = 1,
) -> bytes:
    head = b"PGDMP" + bytes([*version, 4, 8, format_code])
    # From 1.15 the compression field is one byte naming the algorithm (1: gzip); before, an int level.
    head += bytes([1]) if version >= (1, 15, 0) else encode_int(-1)
    head += b"".join(encode_int(part) for part in (5, 4, 3, 2, 1, 125, 0))  # the creation time
    return head + encode_str(database) + encode_str(server_version) + encode_str(dump_version)


def real_header_length(data: bytes) -> int:
    """Walk a pg_dump 15 (archive 1.14) header independently of the parser under test."""
    at = 5 + 3 + 3 + 5 + 7 * 5  # magic, version, sizes and format, compression int, 7 time ints
    for _ in range(3):  # database, server version, pg_dump version
        at += 5 + int.from_bytes(data[at + 1 : at + 5], "little")
    return at


@pytest.mark.parametrize(
    ("name", "dump_format"),
    [
        ("custom", DumpFormat.CUSTOM),
        ("directory", DumpFormat.DIRECTORY),
        ("tar", DumpFormat.TAR),
    ],
)
def test_real_archives_are_recognised_with_their_header(
    dumps: Dumps, name: str, dump_format: DumpFormat
) -> None:
    info = detect(getattr(dumps, name))

    assert info.format is dump_format
    assert info.archive_version == (1, 14, 0)
    assert info.dump_version is not None and info.dump_version.startswith("15.")
    assert info.server_version is not None and info.server_version.startswith("15.")
    assert info.database == "shop"
    assert not info.tarred_directory


def test_custom_header_fields_match_what_pg_dump_wrote(dumps: Dumps) -> None:
    data = dumps.custom.read_bytes()
    header = parse_header(data)

    assert header.format_code == 1
    assert (header.int_size, header.offset_size) == (4, 8)
    assert header.data_compression == "gzip"  # pg_dump -Fc compresses table data by default
    assert header.length == real_header_length(data)
    # The TOC follows the header: its first int is the entry count, a sign byte then four bytes.
    assert data[header.length] == 0


def test_tar_dump_has_no_compression_and_directory_toc_says_tar(dumps: Dumps) -> None:
    # pg_backup_directory.c writes the tar format code into toc.dat on purpose.
    assert parse_header((dumps.directory / "toc.dat").read_bytes()).format_code == 3
    assert detect(dumps.tar).data_compression == "none"


def test_plain_dump_versions_come_from_its_comment_header(dumps: Dumps) -> None:
    info = detect(dumps.plain)

    assert info.format is DumpFormat.PLAIN
    assert info.archive_version is None
    assert info.dump_version is not None and info.dump_version.startswith("15.")
    assert info.server_version is not None and info.server_version.startswith("15.")
    assert info.database is None


def test_tar_of_a_directory_dump_is_a_directory_to_unpack(dumps: Dumps) -> None:
    info = detect(dumps.directory_tar)

    assert info.format is DumpFormat.DIRECTORY
    assert info.tarred_directory
    assert info.database == "shop"


def test_directory_files_tarred_at_top_level_are_not_mistaken_for_a_tar_dump(
    dumps: Dumps, tmp_path: Path
) -> None:
    # toc.dat first and no folder, like -Ft, but the table files are compressed as only -Fd does.
    members = {path.name: path.read_bytes() for path in sorted(dumps.directory.iterdir(), reverse=True)}
    assert next(iter(members)) == "toc.dat"
    info = detect(write(tmp_path / "flat.tar", tar_bytes(members)))

    assert info.format is DumpFormat.DIRECTORY
    assert info.tarred_directory


def test_the_file_name_does_not_matter(dumps: Dumps, tmp_path: Path) -> None:
    misnamed = write(tmp_path / "nightly.sql", dumps.custom.read_bytes())

    assert detect(misnamed).format is DumpFormat.CUSTOM


@pytest.mark.parametrize(
    ("head", "compression"),
    [
        (gzip.compress(b"SELECT 1;", mtime=0), Compression.GZIP),
        (zstandard.ZstdCompressor().compress(b"SELECT 1;"), Compression.ZSTD),
        (b"PGDMP\x01\x0e\x00", Compression.NONE),
        (b"\x1f", Compression.NONE),
        (b"", Compression.NONE),
    ],
    # Named ids: gzip's header holds the time, and xdist refuses workers that collect different ids.
    ids=["gzip", "zstd", "custom-dump", "gzip-magic-cut", "empty"],
)
def test_sniff_compression(head: bytes, compression: Compression) -> None:
    assert sniff_compression(head) is compression


def test_empty_file_is_not_a_dump(tmp_path: Path) -> None:
    with pytest.raises(NotADumpError, match="the file is empty"):
        detect(write(tmp_path / "empty.dump", b""))


def test_elf_binary_is_named_by_its_first_bytes(tmp_path: Path) -> None:
    elf = b"\x7fELF\x02\x01\x01\x00" + bytes(248)
    with pytest.raises(NotADumpError, match="not a PostgreSQL dump: starts with bytes 7f 45 4c 46"):
        detect(write(tmp_path / "backup.dump", elf))


def test_random_bytes_are_not_a_dump(tmp_path: Path) -> None:
    noise = b"".join(hashlib.sha256(bytes([seed])).digest() for seed in range(128))
    shown = noise[:4].hex(" ")
    with pytest.raises(NotADumpError, match=f"not a PostgreSQL dump: starts with bytes {shown}"):
        detect(write(tmp_path / "noise.bin", noise))


def test_compressed_file_is_named_as_such(dumps: Dumps) -> None:
    with pytest.raises(NotADumpError, match="gzip-compressed"):
        detect(dumps.plain_gz)


def test_text_that_is_not_sql_is_not_a_dump(tmp_path: Path) -> None:
    with pytest.raises(NotADumpError, match="does not read as SQL"):
        detect(write(tmp_path / "notes.sql", b"Dear diary,\ntoday the backup ran.\n"))


@pytest.mark.parametrize(
    "text",
    [
        b"BEGIN;\nCREATE TABLE t (id int);\nCOMMIT;\n",
        b"/* hand-written */\n-- a comment\n  insert into t values (1);\n",
        b"\\connect shop\nSET client_encoding = 'UTF8';\n",
        "-- café: a multibyte character\nSELECT 'é';\n".encode(),
    ],
)
def test_other_sql_text_is_plain_without_versions(tmp_path: Path, text: bytes) -> None:
    info = detect(write(tmp_path / "script", text))

    assert info == DumpInfo(DumpFormat.PLAIN, None, None)


def test_utf8_character_cut_by_the_probe_still_reads_as_text(tmp_path: Path) -> None:
    text = b"--" + b"x" * 1021 + "é".encode() + b"\nSELECT 1;\n"  # é straddles byte 1024
    assert detect(write(tmp_path / "script.sql", text)).format is DumpFormat.PLAIN


def test_truncated_header_is_reported_as_such(dumps: Dumps, tmp_path: Path) -> None:
    data = dumps.custom.read_bytes()
    with pytest.raises(TruncatedDumpError, match="the dump ends inside its header"):
        detect(write(tmp_path / "cut.dump", data[:40]))


def test_every_cut_inside_the_header_is_truncation(dumps: Dumps) -> None:
    data = dumps.custom.read_bytes()
    length = parse_header(data).length
    for cut in range(5, length):
        with pytest.raises(TruncatedDumpError):
            parse_header(data[:cut])


def test_lone_toc_file_is_not_a_dump(dumps: Dumps, tmp_path: Path) -> None:
    toc = write(tmp_path / "toc.dat", (dumps.directory / "toc.dat").read_bytes())
    with pytest.raises(NotADumpError, match=r"lone toc\.dat"):
        detect(toc)


def test_directory_without_toc_is_not_a_dump(tmp_path: Path) -> None:
    write(tmp_path / "3355.dat.gz", gzip.compress(b"1\tx\n"))
    with pytest.raises(NotADumpError, match=r"holds no toc\.dat"):
        detect(tmp_path)


def test_tar_without_toc_is_not_a_dump(tmp_path: Path) -> None:
    archive = write(tmp_path / "photos.tar", tar_bytes({"a.jpg": b"\xff\xd8\xff", "b.jpg": b"\xff\xd8"}))
    with pytest.raises(NotADumpError, match=r"without a toc\.dat"):
        detect(archive)


@pytest.mark.parametrize("version", [(1, 12, 0), (1, 13, 0), (1, 14, 0), (1, 15, 0), (1, 16, 0)])
def test_headers_of_each_archive_version_parse(version: tuple[int, int, int]) -> None:
    header = parse_header(craft_header(version, "17.2 (Debian 17.2-1)"))

    assert header.version == version
    assert header.data_compression == "gzip"
    assert (header.database, header.server_version, header.dump_version) == ("shop", "15.18", "17.2")


def test_header_without_names_reads_them_as_missing() -> None:
    header = parse_header(craft_header((1, 14, 0), None, database=None, server_version=None))

    assert (header.database, header.server_version, header.dump_version) == (None, None, None)


@pytest.mark.parametrize(
    ("version", "dump_version", "needed"),
    [((1, 16, 0), "17.2", "PostgreSQL 17"), ((1, 15, 0), "16.4", "PostgreSQL 16")],
)
def test_dump_from_a_newer_pg_dump_is_refused_as_real_pg_restore_refuses_it(
    dumps: Dumps, tmp_path: Path, version: tuple[int, int, int], dump_version: str, needed: str
) -> None:
    # pg_dump 15 cannot write a newer archive, so a real -Fc dump gets a crafted newer header.
    data = dumps.custom.read_bytes()
    newer = write(
        tmp_path / "newer.dump", craft_header(version, dump_version) + data[real_header_length(data) :]
    )

    info = detect(newer)
    reason = restorable_by(info, 15)

    assert info.format is DumpFormat.CUSTOM
    assert (info.archive_version, info.dump_version, info.database) == (version, dump_version, "shop")
    assert reason is not None
    assert f"pg_dump {dump_version}" in reason and "pg_restore 15" in reason and needed in reason
    assert restorable_by(info, int(dump_version.partition(".")[0])) is None
    # The real pg_restore 15 agrees: it stops at the header.
    listing = subprocess.run(
        (dumps.tool("pg_restore"), "--list", str(newer)), check=False, capture_output=True, text=True
    )
    assert listing.returncode != 0
    assert f"unsupported version ({version[0]}.{version[1]}) in file header" in listing.stderr


def test_real_dump_is_restorable_here_but_not_by_an_older_pg_restore(dumps: Dumps) -> None:
    info = detect(dumps.custom)

    assert restorable_by(info, 15) is None
    assert restorable_by(info, 17) is None
    reason = restorable_by(info, 14)
    assert reason is not None and "newer than pg_restore 14" in reason


def test_archive_version_alone_decides_when_the_dump_names_no_version() -> None:
    info = DumpInfo(DumpFormat.CUSTOM, archive_version=(1, 15, 0), dump_version=None)

    reason = restorable_by(info, 15)
    assert reason is not None
    assert "archive version 1.15" in reason and "up to 1.14" in reason and "PostgreSQL 16" in reason
    assert restorable_by(info, 16) is None


def test_plain_dump_from_a_newer_pg_dump_is_refused() -> None:
    info = DumpInfo(DumpFormat.PLAIN, None, dump_version="17.2")

    reason = restorable_by(info, 15)
    assert reason is not None and "pg_dump 17.2" in reason and "PostgreSQL 17" in reason
    assert restorable_by(info, 17) is None
    assert restorable_by(DumpInfo(DumpFormat.PLAIN, None, None), 15) is None


@pytest.mark.parametrize(
    ("major", "readable"),
    [(9, (1, 12)), (11, (1, 13)), (12, (1, 14)), (15, (1, 14)), (16, (1, 15)), (17, (1, 16)), (18, (1, 16))],
)
def test_newest_archive_each_pg_restore_reads(major: int, readable: tuple[int, int]) -> None:
    assert newest_archive_readable(major) == readable


def test_unknown_future_pg_restore_is_trusted_with_every_known_archive() -> None:
    assert newest_archive_readable(30) is None
    assert restorable_by(DumpInfo(DumpFormat.CUSTOM, (1, 16, 0), "17.2"), 30) is None
