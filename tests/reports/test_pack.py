"""The evidence pack: the period's files in one folder of a zip, a manifest sha256sum accepts, the summary page, and what the report directory held."""

from __future__ import annotations

import json
import re
import shutil
import stat
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drill.model import Status
from drill.reports.directory import RUN_HTML, RUN_JSON, RUNS
from drill.reports.pack import (
    HISTORY,
    MANIFEST,
    SUMMARY,
    build_pack,
    folder_name,
    verify_pack,
)
from tests.reports.packs import (
    BUILT,
    FOLDER,
    Q3,
    Quarter,
    build,
    contents,
    run_files,
    sha256,
)

# What the pack holds


def test_the_pack_is_one_folder_with_the_summary_history_manifest_and_each_period_runs_files(
    quarter: Quarter,
) -> None:
    pack = build(quarter)
    assert folder_name(Q3) == FOLDER
    names = set(contents(pack.path))
    expected = {f"{FOLDER}/{SUMMARY}", f"{FOLDER}/{HISTORY}", f"{FOLDER}/{MANIFEST}"} | run_files(
        *quarter.inside
    )
    assert names == expected
    assert pack.files == len(expected) - 1 == 3 + 2 * len(quarter.inside) - 1


def test_runs_outside_the_period_are_left_out_of_the_pack_and_its_summary(quarter: Quarter) -> None:
    pack = build(quarter)
    names = set(contents(pack.path))
    assert not names & run_files(*quarter.outside)
    assert [line.run_id for line in pack.summary.runs] == [run.run_id for run in quarter.inside]
    for run in quarter.outside:
        assert run.run_id.encode() not in b"".join(contents(pack.path).values())


def test_each_runs_files_are_the_bytes_the_report_directory_holds(quarter: Quarter) -> None:
    files = contents(build(quarter).path)
    for run in quarter.inside:
        for name in (RUN_JSON, RUN_HTML):
            kept = (quarter.report_dir / RUNS / run.run_id / name).read_bytes()
            assert files[f"{FOLDER}/{RUNS}/{run.run_id}/{name}"] == kept


def test_the_packs_history_is_exactly_the_periods_lines_of_the_report_directorys_history(
    quarter: Quarter,
) -> None:
    written = (quarter.report_dir / HISTORY).read_bytes().splitlines(keepends=True)
    assert len(written) == len(quarter.inside) + len(quarter.outside)
    inside = {run.run_id for run in quarter.inside}
    period_lines = [line for line in written if json.loads(line)["run_id"] in inside]
    assert contents(build(quarter).path)[f"{FOLDER}/{HISTORY}"] == b"".join(period_lines)


def test_every_entry_is_a_relative_path_inside_the_folder(quarter: Quarter) -> None:
    for name in contents(build(quarter).path):
        assert name.startswith(f"{FOLDER}/")
        assert ".." not in name.split("/")
        assert "\\" not in name


def test_the_pack_of_a_period_without_runs_holds_the_summary_an_empty_history_and_the_manifest(
    tmp_path: Path,
) -> None:
    pack = build_pack(tmp_path / "never-written", Q3, tmp_path / "q3.zip", now=BUILT)
    files = contents(pack.path)
    assert set(files) == {f"{FOLDER}/{SUMMARY}", f"{FOLDER}/{HISTORY}", f"{FOLDER}/{MANIFEST}"}
    assert files[f"{FOLDER}/{HISTORY}"] == b""
    assert pack.summary.status is Status.ERROR
    assert verify_pack(pack.path).ok


# The manifest


def test_the_manifest_lists_every_other_file_once_with_its_sha256(quarter: Quarter) -> None:
    pack = build(quarter)
    files = contents(pack.path)
    manifest = files.pop(f"{FOLDER}/{MANIFEST}")
    lines = manifest.decode().splitlines()
    listed = [line.split("  ", 1)[1] for line in lines]
    assert sorted(listed) == sorted(name.removeprefix(f"{FOLDER}/") for name in files)
    assert len(listed) == len(set(listed)) == pack.files
    assert listed == sorted(listed)
    for line in lines:
        digest, name = line.split("  ", 1)
        assert digest == sha256(files[f"{FOLDER}/{name}"]), name
    assert manifest.endswith(b"\n")


def test_the_manifests_digest_and_the_archives_digest_are_reported(quarter: Quarter) -> None:
    pack = build(quarter)
    assert pack.manifest_sha256 == sha256(contents(pack.path)[f"{FOLDER}/{MANIFEST}"])
    assert pack.archive_sha256 == sha256(pack.path.read_bytes())
    assert verify_pack(pack.path).manifest_sha256 == pack.manifest_sha256


def unpack(path: Path, into: Path) -> Path:
    with zipfile.ZipFile(path) as archive:
        archive.extractall(into)
    return into / FOLDER


def sha256sum_check(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ("sha256sum", "--strict", "-c", MANIFEST), cwd=folder, capture_output=True, text=True, check=False
    )


def test_sha256sum_verifies_the_unpacked_pack(quarter: Quarter, tmp_path: Path) -> None:
    folder = unpack(build(quarter).path, tmp_path / "unpacked")
    result = sha256sum_check(folder)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": OK") == 3 + 2 * len(quarter.inside) - 1


def test_sha256sum_refuses_an_unpacked_pack_with_an_edited_file(quarter: Quarter, tmp_path: Path) -> None:
    folder = unpack(build(quarter).path, tmp_path / "unpacked")
    history = folder / HISTORY
    history.write_bytes(history.read_bytes().replace(b'"status":"fail"', b'"status":"pass"'))
    result = sha256sum_check(folder)
    assert result.returncode != 0
    assert f"{HISTORY}: FAILED" in result.stdout


# What the report directory held


def test_a_run_whose_page_was_lost_gets_it_rendered_again(quarter: Quarter) -> None:
    run = quarter.inside[1]
    page = quarter.report_dir / RUNS / run.run_id / RUN_HTML
    original = page.read_bytes()
    page.unlink()
    pack = build(quarter)
    rendered = contents(pack.path)[f"{FOLDER}/{RUNS}/{run.run_id}/{RUN_HTML}"]
    assert rendered == original
    assert pack.files == 3 + 2 * len(quarter.inside) - 1
    assert verify_pack(pack.path).ok


def test_a_corrupt_run_record_in_the_period_is_listed_as_unreadable_and_the_period_is_an_error(
    quarter: Quarter,
) -> None:
    run = quarter.inside[2]
    record = quarter.report_dir / RUNS / run.run_id / RUN_JSON
    record.write_bytes(b'{"schema": "drill.run/v1", "run_id": ')
    pack = build(quarter)
    assert pack.summary.status is Status.ERROR
    assert [item.run_id for item in pack.summary.unreadable] == [run.run_id]
    assert pack.summary.unreadable[0].problem.startswith("not JSON")
    assert run.run_id not in [line.run_id for line in pack.summary.runs]
    files = contents(pack.path)
    # The record and its page are kept as found: the reviewer sees what could not be read.
    assert files[f"{FOLDER}/{RUNS}/{run.run_id}/{RUN_JSON}"] == record.read_bytes()
    page = quarter.report_dir / RUNS / run.run_id / RUN_HTML
    assert files[f"{FOLDER}/{RUNS}/{run.run_id}/{RUN_HTML}"] == page.read_bytes()
    summary = files[f"{FOLDER}/{SUMMARY}"].decode()
    assert "Unreadable records" in summary
    assert pack.summary.verdict in summary
    assert verify_pack(pack.path).ok
    assert pack.summary.summary_only == 0


def test_a_record_naming_another_run_is_unreadable(quarter: Quarter) -> None:
    first, second = quarter.inside[0], quarter.inside[3]
    shutil.copyfile(
        quarter.report_dir / RUNS / first.run_id / RUN_JSON,
        quarter.report_dir / RUNS / second.run_id / RUN_JSON,
    )
    pack = build(quarter)
    assert pack.summary.status is Status.ERROR
    (unreadable,) = pack.summary.unreadable
    assert (unreadable.run_id, unreadable.problem) == (second.run_id, f"run.json names run {first.run_id}")
    assert [line.run_id for line in pack.summary.runs].count(first.run_id) == 1


def test_a_corrupt_record_outside_the_period_is_neither_packed_nor_an_error(quarter: Quarter) -> None:
    record = quarter.report_dir / RUNS / quarter.outside[1].run_id / RUN_JSON
    record.write_bytes(b"garbage")
    pack = build(quarter)
    assert pack.summary.unreadable == ()
    assert pack.summary.status is Status.WARN
    assert not set(contents(pack.path)) & run_files(quarter.outside[1])


def test_a_history_line_in_the_period_without_its_run_directory_counts_as_summary_only(
    quarter: Quarter,
) -> None:
    lost = quarter.inside[1]
    shutil.rmtree(quarter.report_dir / RUNS / lost.run_id)
    pack = build(quarter)
    assert pack.summary.summary_only == 1
    files = contents(pack.path)
    assert not set(files) & run_files(lost)
    history = [json.loads(line) for line in files[f"{FOLDER}/{HISTORY}"].splitlines()]
    assert lost.run_id in [entry["run_id"] for entry in history]
    assert "Summary only" in files[f"{FOLDER}/{SUMMARY}"].decode()
    assert build(quarter).summary.summary_only == 1
    (quarter.report_dir / RUNS / quarter.inside[0].run_id / RUN_JSON).write_text("{}")
    # An unreadable record was kept, so its history line is not "summary only".
    assert build(quarter).summary.summary_only == 1


def test_a_history_line_outside_the_period_is_not_summary_only(quarter: Quarter) -> None:
    shutil.rmtree(quarter.report_dir / RUNS / quarter.outside[0].run_id)
    assert build(quarter).summary.summary_only == 0


# Writing the archive


def test_a_build_leaves_no_temporary_file_beside_the_pack_and_is_readable_by_others(quarter: Quarter) -> None:
    pack = build(quarter)
    assert [entry.name for entry in pack.path.parent.iterdir()] == ["q3.zip"]
    assert stat.S_IMODE(pack.path.stat().st_mode) == 0o644


def test_a_build_replaces_an_existing_pack(quarter: Quarter) -> None:
    out = quarter.report_dir.parent / "q3.zip"
    out.write_bytes(b"an older pack")
    pack = build(quarter, out)
    assert pack.path == out
    assert verify_pack(out).ok
    assert [entry.name for entry in out.parent.iterdir() if entry.name.startswith(".q3.zip.")] == []


def test_a_failed_build_keeps_the_existing_pack_and_leaves_no_temporary_file(quarter: Quarter) -> None:
    out = quarter.report_dir.parent / "q3.zip"
    out.write_bytes(b"an older pack")
    history = quarter.report_dir / HISTORY
    history.unlink()
    history.mkdir()  # reading the history fails half-way through the build
    with pytest.raises(IsADirectoryError):
        build(quarter, out)
    assert out.read_bytes() == b"an older pack"
    assert sorted(entry.name for entry in out.parent.iterdir()) == ["drill-reports", "q3.zip"]


# The summary page


def test_the_summary_page_states_the_verdict_and_links_every_run_of_the_period(quarter: Quarter) -> None:
    pack = build(quarter)
    assert pack.summary.status is Status.WARN
    files = contents(pack.path)
    summary = files[f"{FOLDER}/{SUMMARY}"].decode()
    assert ">WARN<" in summary
    assert pack.summary.verdict.startswith("Every failure in the period was fixed")
    assert pack.summary.verdict in summary
    for run in quarter.inside:
        assert run.run_id in summary
    for run in quarter.outside:
        assert run.run_id not in summary
    links = set(re.findall(r'href="([^"#]+)"', summary))
    assert links >= {f"{RUNS}/{run.run_id}/{RUN_HTML}" for run in quarter.inside}
    for link in links:
        assert f"{FOLDER}/{link}" in files, link


def test_the_summary_page_shows_hostile_text_escaped(quarter: Quarter) -> None:
    summary = contents(build(quarter).path)[f"{FOLDER}/{SUMMARY}"].decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in summary
    assert "<script" not in summary.lower()


def test_the_same_runs_and_time_give_the_same_archive_bytes(quarter: Quarter, tmp_path: Path) -> None:
    first = build(quarter, tmp_path / "first.zip")
    second = build(quarter, tmp_path / "second.zip")
    assert first.archive_sha256 == second.archive_sha256
    later = build_pack(quarter.report_dir, Q3, tmp_path / "later.zip", now=datetime(2026, 10, 3, tzinfo=UTC))
    assert later.archive_sha256 != first.archive_sha256  # the build time is part of the record


def test_a_period_known_only_from_history_lines_is_an_error_that_says_so(quarter: Quarter) -> None:
    shutil.rmtree(quarter.report_dir / RUNS)
    pack = build(quarter)
    assert pack.summary.status is Status.ERROR
    assert pack.summary.summary_only == len(quarter.inside)
    assert "no full record" in pack.summary.verdict
