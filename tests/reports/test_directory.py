"""The report directory: publishing a run (its files, modes and history line), the index, and where each run's files go."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from drill import history
from drill.history_summary import SUMMARY_FILE
from drill.model import ConfigIdentity, DrillRun, Status
from drill.reports.directory import (
    INDEX,
    RUN_HTML,
    RUN_JSON,
    RUNS,
    publish,
    run_directory,
    write_index,
)
from drill.reports.json_report import parse_json
from tests.reports.directory_runs import (
    DAY_1,
    ESCAPED,
    HOSTILE,
    NOW,
    finding,
    hidden_files,
    history_lines,
    integrity,
    links,
    restore,
    run,
)


@pytest.fixture
def strict_umask() -> Iterator[None]:
    """A umask that would make every newly created file private."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


# Publishing a run.


def test_publish_writes_the_run_its_report_its_history_line_and_the_index(tmp_path: Path) -> None:
    the_run = run(1, restore(), integrity(1000), finding("freshness", Status.FAIL))

    published = publish(the_run, tmp_path, now=NOW)

    directory = tmp_path / RUNS / the_run.run_id
    assert published.record == directory / RUN_JSON
    assert published.report == directory / RUN_HTML
    assert published.index == tmp_path / INDEX

    kept = parse_json(published.record.read_bytes())
    assert (kept.run_id, kept.status, len(kept.findings)) == (the_run.run_id, Status.FAIL, 3)
    assert kept.findings[2].check == "freshness"

    assert 'id="verdict">FAIL<' in published.report.read_text(encoding="utf-8")

    (line,) = history.entries(tmp_path)
    assert (line["run_id"], line["status"]) == (the_run.run_id, "fail")

    index = published.index.read_text(encoding="utf-8")
    assert links(index) == [f"runs/{the_run.run_id}/report.html"]
    assert "1 run recorded" in index
    assert "Page written 2026-12-01 12:00 UTC" in index
    assert "Database orders" in index


def test_a_passing_run_report_says_pass(tmp_path: Path) -> None:
    published = publish(run(1), tmp_path, now=NOW)

    assert 'id="verdict">PASS<' in published.report.read_text(encoding="utf-8")
    assert 'id="verdict">PASS<' in published.index.read_text(encoding="utf-8")


def test_every_publish_adds_one_history_line_and_the_index_lists_every_run_newest_first(
    tmp_path: Path,
) -> None:
    runs = [run(1), run(2, restore(Status.FAIL), integrity(0, Status.SKIPPED)), run(3, command="check")]

    for count, each in enumerate(runs, start=1):
        publish(each, tmp_path, now=NOW)
        assert len([line for line in history_lines(tmp_path) if line]) == count

    assert [entry["run_id"] for entry in history.entries(tmp_path)] == [each.run_id for each in runs]
    index = (tmp_path / INDEX).read_text(encoding="utf-8")
    assert links(index) == [f"runs/{each.run_id}/report.html" for each in reversed(runs)]
    assert "3 runs recorded" in index
    assert 'id="verdict">PASS<' in index  # the banner shows the newest run


def test_published_files_are_readable_by_others_whatever_the_umask(
    tmp_path: Path, strict_umask: None
) -> None:
    published = publish(run(1), tmp_path, now=NOW)

    for path in (published.record, published.report, published.index):
        assert path.stat().st_mode & 0o777 == 0o644, path.name


def test_published_files_have_mode_0644(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        publish(run(1), tmp_path, now=NOW)
    finally:
        os.umask(previous)

    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    written = (RUN_JSON, RUN_HTML, INDEX, history.HISTORY_FILE, SUMMARY_FILE, history.LOCK_FILE)
    assert {path.name for path in files} == set(written)
    assert {path.name: path.stat().st_mode & 0o777 for path in files} == dict.fromkeys(written, 0o644)


def test_publishing_leaves_no_temp_files_behind(tmp_path: Path) -> None:
    for day in (1, 2, 3):
        publish(run(day), tmp_path, now=NOW)

    assert hidden_files(tmp_path) == []
    assert sorted(path.name for path in (tmp_path / RUNS).iterdir()) == [run(day).run_id for day in (1, 2, 3)]


def test_republishing_a_run_replaces_its_files(tmp_path: Path) -> None:
    publish(run(1), tmp_path, now=NOW)
    corrected = run(1, restore(Status.FAIL), integrity(0, Status.SKIPPED))

    published = publish(corrected, tmp_path, now=NOW)

    assert parse_json(published.record.read_bytes()).status == Status.FAIL
    assert 'id="verdict">FAIL<' in published.report.read_text(encoding="utf-8")
    assert hidden_files(tmp_path) == []


def test_a_run_with_an_id_drill_would_not_write_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    sneaky = DrillRun(
        run_id="../../outside",
        command="run",
        started_at=DAY_1,
        finished_at=DAY_1,
        config=ConfigIdentity(path="drill.toml", sha256="ab" * 32),
        drill_version="0.1.0",
        findings=(restore(),),
    )

    with pytest.raises(ValueError, match="is not a drill run id"):
        publish(sneaky, tmp_path / "reports", now=NOW)

    assert list(tmp_path.rglob("*")) == []


# The index.


def test_a_run_whose_page_was_removed_is_listed_without_a_link(tmp_path: Path) -> None:
    first, second = run(1), run(2)
    publish(first, tmp_path, now=NOW)
    publish(second, tmp_path, now=NOW)
    (tmp_path / RUNS / first.run_id / RUN_HTML).unlink()

    index = write_index(tmp_path, now=NOW).read_text(encoding="utf-8")

    assert links(index) == [f"runs/{second.run_id}/report.html"]
    assert f"{first.run_id} (no page kept)" in index


def test_an_index_of_an_empty_directory_says_there_are_no_runs(tmp_path: Path) -> None:
    index = write_index(tmp_path, now=NOW).read_text(encoding="utf-8")

    assert "0 runs recorded" in index
    assert "NO RUNS" in index
    assert links(index) == []


def test_hostile_text_in_the_history_reaches_the_index_only_escaped(tmp_path: Path) -> None:
    history.append(
        tmp_path,
        {
            "run_id": HOSTILE,
            "command": HOSTILE,
            "status": "fail",
            "started_at": DAY_1.isoformat(),
            "finished_at": DAY_1.isoformat(),
            "counts": {HOSTILE: 1},
            "failing": [{"check": HOSTILE, "database": HOSTILE, "target": None, "agent": None}],
            "drills": {HOSTILE: {"passed": False, "snapshot_size": 10}},
        },
    )

    published = publish(run(2), tmp_path, now=NOW)

    index = published.index.read_text(encoding="utf-8")
    assert "<script" not in index
    assert ESCAPED in index
    assert index.count("alert(1)") == index.count(ESCAPED)  # every occurrence is the escaped one
    assert links(index) == [f"runs/{run(2).run_id}/report.html"]  # the hostile id gets no link


def test_foreign_lines_in_the_history_do_not_stop_the_index(tmp_path: Path) -> None:
    publish(run(1), tmp_path, now=NOW)
    with (tmp_path / history.HISTORY_FILE).open("a", encoding="utf-8") as handle:
        handle.write('[1, 2]\n"text"\n42\n{"run_id": "x", "status": "bogus"}\n{"failing": 5}\n')

    published = publish(run(2), tmp_path, now=NOW)

    index = published.index.read_text(encoding="utf-8")
    assert links(index) == [f"runs/{run(day).run_id}/report.html" for day in (2, 1)]
    assert "2 runs recorded" in index


# Run directories.


@pytest.mark.parametrize(
    "run_id",
    [
        "../x",
        "",
        "20261201T000000Z-XYZ",
        "20261201T000000Z-0123ABCD",
        "20261201T000000Z-0123abcd/../../x",
        "20261201T000000Z-0123abcd\n",
        "/etc/passwd",
    ],
)
def test_run_directory_refuses_what_is_not_a_drill_run_id(tmp_path: Path, run_id: str) -> None:
    with pytest.raises(ValueError, match="is not a drill run id"):
        run_directory(tmp_path, run_id)


def test_run_directory_of_a_drill_run_id_is_below_runs(tmp_path: Path) -> None:
    assert (
        run_directory(tmp_path, "20261201T000000Z-0123abcd") == tmp_path / RUNS / "20261201T000000Z-0123abcd"
    )
