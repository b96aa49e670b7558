"""Verifying an evidence pack: every edit, removal, addition and malformed manifest is caught."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest

from drill.reports.directory import RUN_HTML, RUN_JSON, RUNS
from drill.reports.pack import (
    HISTORY,
    MANIFEST,
    MAX_NAMED_MISSING,
    PackError,
    verify_pack,
)
from tests.reports.packs import (
    FOLDER,
    Quarter,
    build,
    contents,
    rewrite,
)

# Verifying a pack


def test_a_fresh_pack_verifies(quarter: Quarter) -> None:
    pack = build(quarter)
    verification = verify_pack(pack.path)
    assert verification.ok
    assert verification.checked == pack.files
    assert (verification.mismatched, verification.missing, verification.unlisted) == ((), (), ())


def test_a_file_whose_bytes_changed_is_mismatched(quarter: Quarter, tmp_path: Path) -> None:
    pack = build(quarter)
    name = f"{RUNS}/{quarter.inside[1].run_id}/{RUN_JSON}"
    original = contents(pack.path)[f"{FOLDER}/{name}"]
    edited = original.replace(b'"status": "fail"', b'"status": "pass"')
    assert edited != original
    verification = verify_pack(rewrite(pack.path, tmp_path / "edited.zip", {f"{FOLDER}/{name}": edited}))
    assert not verification.ok
    assert verification.mismatched == (name,)
    assert (verification.missing, verification.unlisted) == ((), ())


def corrupt_in_place(source: Path, destination: Path, entry: str, *, where: str) -> Path:
    """A byte-for-byte copy of the archive with bytes flipped inside it: no zip library rewrote it."""
    data = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as archive:
        info = archive.getinfo(entry)
    if where == "data":
        header = info.header_offset
        name_length, extra_length = struct.unpack("<HH", data[header + 26 : header + 30])
        start = header + 30 + name_length + extra_length
        for offset in range(start + 8, start + 40):
            data[offset] ^= 0xFF
    else:  # the CRC-32 the central directory records for the entry
        record = data.find(b"PK\x01\x02")
        while data[record + 46 : record + 46 + len(entry)] != entry.encode():
            record = data.find(b"PK\x01\x02", record + 4)
            assert record != -1, entry
        data[record + 16] ^= 0xFF
    destination.write_bytes(bytes(data))
    return destination


@pytest.mark.parametrize("where", ["data", "crc"])
def test_a_file_corrupted_in_place_is_mismatched(quarter: Quarter, tmp_path: Path, where: str) -> None:
    pack = build(quarter)
    name = f"{RUNS}/{quarter.inside[0].run_id}/{RUN_HTML}"
    corrupted = corrupt_in_place(pack.path, tmp_path / "corrupted.zip", f"{FOLDER}/{name}", where=where)
    verification = verify_pack(corrupted)
    assert not verification.ok
    assert verification.mismatched == (name,)
    assert verification.checked == pack.files


def test_a_manifest_corrupted_in_place_is_refused(quarter: Quarter, tmp_path: Path) -> None:
    pack = build(quarter)
    corrupted = corrupt_in_place(pack.path, tmp_path / "corrupted.zip", f"{FOLDER}/{MANIFEST}", where="crc")
    with pytest.raises(PackError, match=r"MANIFEST\.sha256 cannot be read"):
        verify_pack(corrupted)


def test_a_removed_file_is_missing(quarter: Quarter, tmp_path: Path) -> None:
    pack = build(quarter)
    name = f"{RUNS}/{quarter.inside[2].run_id}/{RUN_HTML}"
    verification = verify_pack(rewrite(pack.path, tmp_path / "removed.zip", {f"{FOLDER}/{name}": None}))
    assert not verification.ok
    assert verification.missing == (name,)
    assert verification.checked == pack.files - 1
    assert (verification.mismatched, verification.unlisted) == ((), ())


@pytest.mark.parametrize(
    ("added", "reported"),
    [
        (f"{FOLDER}/runs/20260801T000000Z-deadbeef/run.json", "runs/20260801T000000Z-deadbeef/run.json"),
        (f"{FOLDER}/notes.txt", "notes.txt"),
        ("README.txt", "README.txt"),
        ("elsewhere/summary.html", "elsewhere/summary.html"),
    ],
)
def test_a_file_the_manifest_does_not_list_is_unlisted(
    quarter: Quarter, tmp_path: Path, added: str, reported: str
) -> None:
    pack = build(quarter)
    verification = verify_pack(rewrite(pack.path, tmp_path / "added.zip", {added: b"trust me\n"}))
    assert not verification.ok
    assert verification.unlisted == (reported,)
    assert verification.checked == pack.files
    assert (verification.mismatched, verification.missing) == ((), ())


def test_a_file_that_is_not_a_zip_is_not_a_pack(tmp_path: Path) -> None:
    text = tmp_path / "q3.zip"
    text.write_text("not an archive\n")
    with pytest.raises(PackError, match="not a zip archive"):
        verify_pack(text)
    with pytest.raises(PackError, match="not a zip archive"):
        verify_pack(tmp_path / "absent.zip")


def test_a_zip_without_a_manifest_is_not_a_pack(quarter: Quarter, tmp_path: Path) -> None:
    pack = build(quarter)
    stripped = rewrite(pack.path, tmp_path / "stripped.zip", {f"{FOLDER}/{MANIFEST}": None})
    with pytest.raises(PackError, match=r"expected one MANIFEST\.sha256, found 0"):
        verify_pack(stripped)


def test_a_zip_with_two_manifests_is_not_a_pack(quarter: Quarter, tmp_path: Path) -> None:
    pack = build(quarter)
    manifest = contents(pack.path)[f"{FOLDER}/{MANIFEST}"]
    doubled = rewrite(pack.path, tmp_path / "doubled.zip", {f"other/{MANIFEST}": manifest})
    with pytest.raises(PackError, match="found 2"):
        verify_pack(doubled)


@pytest.mark.parametrize(
    "line",
    [
        "abc123  summary.html",
        f"{'a' * 64} summary.html",
        f"{'A' * 64}  summary.html",
        f"{'a' * 64}  ",
        "",
        "summary.html  " + "a" * 64,
    ],
    ids=["short digest", "one space", "upper case", "no name", "blank line", "reversed"],
)
def test_a_malformed_manifest_line_is_refused(quarter: Quarter, tmp_path: Path, line: str) -> None:
    pack = build(quarter)
    manifest = contents(pack.path)[f"{FOLDER}/{MANIFEST}"].decode().splitlines()
    manifest.insert(1, line)
    broken = rewrite(
        pack.path, tmp_path / "broken.zip", {f"{FOLDER}/{MANIFEST}": ("\n".join(manifest) + "\n").encode()}
    )
    with pytest.raises(PackError, match=r"MANIFEST\.sha256 line 2 is not"):
        verify_pack(broken)


def with_second_copy(source: Path, destination: Path, entry: str, data: bytes, *, first: bool) -> Path:
    """A copy of the archive that stores ``entry`` twice: ``data`` before or after the original."""
    with (
        pytest.warns(UserWarning, match="Duplicate name"),
        zipfile.ZipFile(source) as reader,
        zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED) as writer,
    ):
        if first:
            writer.writestr(entry, data)
        for info in reader.infolist():
            writer.writestr(info, reader.read(info))
        if not first:
            writer.writestr(entry, data)
    return destination


@pytest.mark.parametrize("first", [True, False], ids=["forged copy first", "forged copy last"])
def test_a_second_copy_of_a_listed_file_under_the_same_name_is_mismatched(
    quarter: Quarter, tmp_path: Path, first: bool
) -> None:
    pack = build(quarter)
    forged = with_second_copy(
        pack.path, tmp_path / "forged.zip", f"{FOLDER}/{HISTORY}", b'{"status":"pass"}\n', first=first
    )
    verification = verify_pack(forged)
    assert not verification.ok
    assert verification.mismatched == (HISTORY,)


def test_a_second_identical_copy_of_a_file_changes_nothing(quarter: Quarter, tmp_path: Path) -> None:
    pack = build(quarter)
    original = contents(pack.path)[f"{FOLDER}/{HISTORY}"]
    copied = with_second_copy(
        pack.path, tmp_path / "copied.zip", f"{FOLDER}/{HISTORY}", original, first=False
    )
    assert verify_pack(copied).ok


def test_a_manifest_listing_a_file_twice_is_refused(quarter: Quarter, tmp_path: Path) -> None:
    # sha256sum -c checks every line, so a second line for a file could fail there and pass here.
    pack = build(quarter)
    manifest = contents(pack.path)[f"{FOLDER}/{MANIFEST}"]
    doubled = manifest + f"{'0' * 64}  {HISTORY}\n".encode()
    listed_twice = rewrite(pack.path, tmp_path / "twice.zip", {f"{FOLDER}/{MANIFEST}": doubled})
    line = len(manifest.splitlines()) + 1
    with pytest.raises(PackError, match=rf"line {line} lists {HISTORY} a second time"):
        verify_pack(listed_twice)


def test_a_manifest_of_many_missing_files_names_the_first_and_counts_them_all(
    quarter: Quarter, tmp_path: Path
) -> None:
    """A forged manifest may list millions of files; they are counted as the manifest streams by,
    and only the first are kept to be named (bench/pack_verify.py measures memory on a large one)."""
    pack = build(quarter)
    manifest = contents(pack.path)[f"{FOLDER}/{MANIFEST}"]
    invented = "".join(f"{'0' * 64}  invented/{index:06}.json\n" for index in range(MAX_NAMED_MISSING + 500))
    forged = rewrite(
        pack.path, tmp_path / "forged.zip", {f"{FOLDER}/{MANIFEST}": manifest + invented.encode()}
    )

    verification = verify_pack(forged)

    assert not verification.ok
    assert verification.missing_total == MAX_NAMED_MISSING + 500
    assert (
        len(verification.missing) == MAX_NAMED_MISSING and verification.missing[0] == "invented/000000.json"
    )
    assert verification.checked == pack.files


def test_a_manifest_line_longer_than_any_zip_name_is_refused(quarter: Quarter, tmp_path: Path) -> None:
    pack = build(quarter)
    manifest = contents(pack.path)[f"{FOLDER}/{MANIFEST}"]
    endless = manifest + ("0" * 64 + "  " + "x" * 200_000).encode()  # no newline: read in bounded pieces
    forged = rewrite(pack.path, tmp_path / "endless.zip", {f"{FOLDER}/{MANIFEST}": endless})
    line = len(manifest.splitlines()) + 1

    with pytest.raises(PackError, match=rf"line {line} is longer than any name a zip can hold"):
        verify_pack(forged)
