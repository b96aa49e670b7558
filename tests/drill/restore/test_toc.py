"""Reading an archive's table of contents as pg_restore does, and checking a directory dump's file
names before pg_restore opens them."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from drill.restore.archive_header import TruncatedDumpError
from drill.restore.formats import detect
from drill.restore.toc import TocEntry, UnsafeDumpError, check_data_files, extension_schema, read_toc
from tests.pg_dumps import Dumps, dumps_for

_LISTED = re.compile(r"^(\d+); \d+ \d+ (.+?) ", re.MULTILINE)


@pytest.fixture(scope="module")
def dumps(tmp_path_factory: pytest.TempPathFactory) -> Dumps:
    return dumps_for(tmp_path_factory)


@pytest.mark.parametrize("name", ["custom", "directory", "tar"])
def test_the_entries_are_the_ones_pg_restore_lists(dumps: Dumps, name: str) -> None:
    path = getattr(dumps, name)
    listing = subprocess.run(
        (dumps.tool("pg_restore"), "--list", str(path)), check=True, capture_output=True, text=True
    ).stdout

    entries = read_toc(path, detect(path))

    # pg_restore --list leaves out what it never restores as such (encoding, the database entry).
    listed = {int(dump_id) for dump_id, _ in _LISTED.findall(listing)}
    assert listed <= {entry.dump_id for entry in entries}
    assert {entry.desc for entry in entries} >= {"TABLE", "TABLE DATA", "SEQUENCE SET", "INDEX"}
    data_files = {entry.tag: entry.filename for entry in entries if entry.desc == "TABLE DATA"}
    if name == "custom":
        assert set(data_files.values()) == {None}
    else:
        assert set(data_files) == {"customers", "orders"}
        assert all(re.fullmatch(r"\d+\.dat", str(file)) for file in data_files.values())


def test_a_table_of_contents_cut_short_is_truncated(dumps: Dumps, tmp_path: Path) -> None:
    cut = tmp_path / "cut"
    shutil.copytree(dumps.directory, cut)
    toc = (cut / "toc.dat").read_bytes()
    (cut / "toc.dat").write_bytes(toc[: len(toc) // 2])

    with pytest.raises(TruncatedDumpError):
        read_toc(cut, detect(cut))


def test_a_real_directory_dumps_files_pass(dumps: Dumps) -> None:
    check_data_files(dumps.directory, read_toc(dumps.directory, detect(dumps.directory)))


def entry(filename: str, desc: str = "TABLE DATA") -> TocEntry:
    return TocEntry(4000, desc, "orders", "public", "postgres", filename=filename)


@pytest.mark.parametrize(
    "name",
    ["../../etc/shadow", "/etc/shadow", "sub/3355.dat", "..", ".", "", "3355.dat\0.gz"],
)
def test_a_name_that_is_not_one_file_in_the_directory_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(UnsafeDumpError, match="is not a file inside the dump directory"):
        check_data_files(tmp_path, [entry(name)])


def test_a_missing_file_or_one_that_is_not_plain_is_refused(tmp_path: Path) -> None:
    (tmp_path / "4000.dat.gz").mkdir()
    (tmp_path / "4001.dat").symlink_to("/etc/hostname")

    with pytest.raises(UnsafeDumpError, match="which it does not hold"):
        check_data_files(tmp_path, [entry("3999.dat")])
    with pytest.raises(UnsafeDumpError, match="is not a plain file"):
        check_data_files(tmp_path, [entry("4000.dat")])
    with pytest.raises(UnsafeDumpError, match="is not a plain file"):
        check_data_files(tmp_path, [entry("4001.dat")])


def test_a_compressed_data_file_counts_as_the_one_named(tmp_path: Path) -> None:
    (tmp_path / "4000.dat.gz").write_bytes(b"")

    check_data_files(tmp_path, [entry("4000.dat")])


def test_the_large_object_files_a_blobs_toc_lists_are_checked_too(tmp_path: Path) -> None:
    (tmp_path / "blob_16400.dat").write_bytes(b"")
    (tmp_path / "blobs.toc").write_text("16400 blob_16400.dat\n")
    check_data_files(tmp_path, [entry("blobs.toc", desc="BLOBS")])

    (tmp_path / "blobs.toc").write_text("16400 blob_16400.dat\n16401 ../../../etc/shadow\n")
    with pytest.raises(
        UnsafeDumpError, match=r"'\.\./\.\./\.\./etc/shadow' for a large object listed in blobs\.toc"
    ):
        check_data_files(tmp_path, [entry("blobs.toc", desc="BLOBS")])


@pytest.mark.parametrize(
    ("statement", "schema"),
    [
        ("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;", "public"),
        ('CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA "My Schema";', "My Schema"),
        ("CREATE EXTENSION hstore;", None),
    ],
)
def test_an_extensions_schema_is_read_from_its_statement(statement: str, schema: str | None) -> None:
    assert extension_schema(statement) == schema
