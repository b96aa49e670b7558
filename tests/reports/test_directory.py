"""The report directory on disk: each run's files, the history line, the index, and what survives a kill."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from drill import history
from drill.model import ConfigIdentity, DrillRun, Finding, Severity, Status
from drill.reports.directory import (
    INDEX,
    RUN_HTML,
    RUN_JSON,
    RUNS,
    kept_runs,
    publish,
    run_directory,
    started_from_id,
    write_index,
)
from drill.reports.json_report import parse_json
from tests.reports.runs import recorded

DAY_1 = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
PROJECT = Path(__file__).resolve().parents[2]
HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def finding(check: str, status: Status, database: str | None = "orders", **evidence: Any) -> Finding:
    return Finding(
        check=check,
        status=status,
        severity=Severity.HIGH,
        message=f"{check} on {database}: {status.value}.",
        database=database,
        target="vault",
        evidence=recorded(check, evidence),
    )


def restore(status: Status = Status.PASS, size: int = 100 * 1024 * 1024) -> Finding:
    return finding("restore", status, snapshot_size=size, total_seconds=16.0, rto_seconds=3600.0)


def integrity(rows: int, status: Status = Status.PASS) -> Finding:
    return finding("integrity", status, table_rows={"public.orders": rows}, total_rows=rows)


def run(day: int, *findings: Finding, command: str = "run") -> DrillRun:
    started = DAY_1 + timedelta(days=day - 1)
    return DrillRun(
        run_id=f"{started:%Y%m%dT%H%M%SZ}-{day:08x}",
        command=command,
        started_at=started,
        finished_at=started + timedelta(minutes=5),
        config=ConfigIdentity(path="/etc/drill/drill.toml", sha256="ab" * 32),
        drill_version="0.1.0",
        findings=findings or (restore(), integrity(1000)),
    )


def links(index_html: str) -> list[str]:
    return re.findall(r'href="(runs/[^"]*)"', index_html)


def hidden_files(report_dir: Path) -> list[Path]:
    return [path for path in report_dir.rglob("*") if path.name.startswith(".")]


def history_lines(report_dir: Path) -> list[bytes]:
    return (report_dir / history.HISTORY_FILE).read_bytes().split(b"\n")


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
    assert {path.name for path in files} == {RUN_JSON, RUN_HTML, INDEX, history.HISTORY_FILE}
    assert {path.name: path.stat().st_mode & 0o777 for path in files} == dict.fromkeys(
        (RUN_JSON, RUN_HTML, INDEX, history.HISTORY_FILE), 0o644
    )


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


# A history that survived a run killed mid-write.

WRITER = """
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from drill import history

report_dir = Path(sys.argv[1])
pad = "x" * (3 * 1024 * 1024)
start = datetime(2026, 10, 1, tzinfo=timezone.utc)
number = 0
while True:
    number += 1
    started = start + timedelta(hours=number)
    history.append(report_dir, {
        "run_id": f"{started:%Y%m%dT%H%M%SZ}-{number:08x}",
        "command": "run",
        "status": "pass",
        "started_at": started.isoformat(),
        "finished_at": started.isoformat(),
        "counts": {"pass": 1},
        "failing": [],
        "drills": {"orders": {"passed": True, "snapshot_size": 1000}},
        "pad": pad,
    })
"""


def complete_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def ends_a_line(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def test_a_history_left_by_a_run_killed_mid_write_keeps_every_whole_line(tmp_path: Path) -> None:
    path = tmp_path / history.HISTORY_FILE
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], cwd=PROJECT)
    try:
        deadline = time.monotonic() + 4
        while complete_lines(path) < 3 and writer.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert writer.poll() is None, "the writer died on its own"
        assert complete_lines(path) >= 3, "the writer wrote too slowly"
        # Kill it while a line is landing, if we catch one in time (a write of megabytes usually is).
        while ends_a_line(path) and time.monotonic() < deadline:
            time.sleep(0.0005)
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    assert writer.returncode == -signal.SIGKILL

    *whole, last = history_lines(tmp_path)
    parsed = [json.loads(line) for line in whole]  # every ended line is intact
    assert all(len(entry["pad"]) == 3 * 1024 * 1024 for entry in parsed)
    if last:  # the write in flight: torn, or whole but not yet ended
        assert last.startswith(b'{"run_id":')
        with contextlib.suppress(json.JSONDecodeError):
            parsed.append(json.loads(last))
    entries = list(history.entries(tmp_path))
    assert [entry["run_id"] for entry in entries] == [entry["run_id"] for entry in parsed]
    assert all(len(entry["pad"]) == 3 * 1024 * 1024 for entry in entries)  # whole entries only

    ours = run(60)
    published = publish(ours, tmp_path, now=NOW)

    assert history_lines(tmp_path)[-1] == b""
    assert json.loads(history_lines(tmp_path)[-2])["run_id"] == ours.run_id
    assert [entry["run_id"] for entry in history.entries(tmp_path)] == [
        *(entry["run_id"] for entry in parsed),
        ours.run_id,
    ]
    index = published.index.read_text(encoding="utf-8")
    assert f"{len(parsed) + 1} runs recorded" in index
    assert links(index) == [f"runs/{ours.run_id}/report.html"]  # the killed runs kept no page
    assert all(f"{entry['run_id']} (no page kept)" in index for entry in parsed)


def test_a_torn_last_line_does_not_spoil_the_next_publish(tmp_path: Path) -> None:
    first = run(1)
    publish(first, tmp_path, now=NOW)
    torn = json.dumps(history.summary(run(2)))
    with (tmp_path / history.HISTORY_FILE).open("ab") as handle:
        handle.write(torn[: len(torn) // 2].encode())  # killed half way: no newline

    third = run(3)
    published = publish(third, tmp_path, now=NOW)

    lines = history_lines(tmp_path)
    assert json.loads(lines[-2])["run_id"] == third.run_id and lines[-1] == b""
    assert [entry["run_id"] for entry in history.entries(tmp_path)] == [first.run_id, third.run_id]
    index = published.index.read_text(encoding="utf-8")
    assert "2 runs recorded" in index
    assert links(index) == [f"runs/{each.run_id}/report.html" for each in (third, first)]


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


# Reading kept runs back.


def test_kept_runs_are_read_back_in_run_id_order(tmp_path: Path) -> None:
    runs = [run(3), run(1), run(2, restore(Status.FAIL))]
    for each in runs:
        publish(each, tmp_path, now=NOW)

    kept = list(kept_runs(tmp_path))

    assert [each.run_id for each in kept] == sorted(each.run_id for each in runs)
    assert all(each.problem is None and each.run is not None for each in kept)
    assert [each.run.status for each in kept if each.run] == [Status.PASS, Status.FAIL, Status.PASS]
    assert [each.directory for each in kept] == [tmp_path / RUNS / each.run_id for each in kept]


def test_kept_runs_can_pick_runs_by_the_start_their_id_records_without_reading_the_others(
    tmp_path: Path,
) -> None:
    publish(run(1), tmp_path, now=NOW)
    publish(run(2), tmp_path, now=NOW)
    # Outside the pick a corrupt record is never read, so it is no problem either.
    outside = run_directory(tmp_path, "20261201T030000Z-0000dead")
    outside.mkdir()
    (outside / RUN_JSON).write_text("not json", encoding="utf-8")
    day_2 = datetime(2026, 11, 2, tzinfo=UTC)

    picked = list(kept_runs(tmp_path, started=lambda moment: day_2 <= moment < day_2 + timedelta(days=1)))

    assert [(each.run_id, each.problem) for each in picked] == [(run(2).run_id, None)]
    assert len(list(kept_runs(tmp_path))) == 3


def test_a_run_id_records_its_start_to_the_second() -> None:
    assert started_from_id("20261102T030405Z-0000abcd") == datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC)
    assert started_from_id("20261102T030405Z-XYZ") is None
    assert started_from_id("../20261102T030405Z-0000abcd") is None


def test_a_kept_run_that_cannot_be_read_is_reported_not_skipped(tmp_path: Path) -> None:
    good = run(1)
    publish(good, tmp_path, now=NOW)
    corrupt = run_directory(tmp_path, "20261102T030000Z-00000002")
    corrupt.mkdir()
    (corrupt / RUN_JSON).write_text('{"schema": "drill.run/v1", "run_id": ', encoding="utf-8")
    foreign = run_directory(tmp_path, "20261103T030000Z-00000003")
    foreign.mkdir()
    (foreign / RUN_JSON).write_text('{"schema": "something/v9"}', encoding="utf-8")
    missing = run_directory(tmp_path, "20261104T030000Z-00000004")
    missing.mkdir()
    (missing / RUN_HTML).write_text("<p>page only</p>", encoding="utf-8")

    kept = {each.run_id: each for each in kept_runs(tmp_path)}

    assert list(kept) == [good.run_id, corrupt.name, foreign.name, missing.name]
    assert kept[good.run_id].problem is None
    for name in (corrupt.name, foreign.name, missing.name):
        assert kept[name].run is None, name
        assert kept[name].problem, name
    assert "not JSON" in str(kept[corrupt.name].problem)
    assert "drill.run/v1" in str(kept[foreign.name].problem)


def test_a_run_json_that_names_another_run_is_reported(tmp_path: Path) -> None:
    original = run(1)
    publish(original, tmp_path, now=NOW)
    impostor = run_directory(tmp_path, "20261105T030000Z-00000005")
    impostor.mkdir()
    (impostor / RUN_JSON).write_bytes((run_directory(tmp_path, original.run_id) / RUN_JSON).read_bytes())

    kept = {each.run_id: each for each in kept_runs(tmp_path)}

    assert kept[original.run_id].run is not None
    assert kept[impostor.name].run is None
    assert kept[impostor.name].problem == f"run.json names run {original.run_id}"


def test_entries_below_runs_that_are_not_run_directories_are_ignored(tmp_path: Path) -> None:
    the_run = run(1)
    publish(the_run, tmp_path, now=NOW)
    runs = tmp_path / RUNS
    for name in ("notes", "20261201T000000Z-XYZ", ".20261201T000000Z-0123abcd"):
        (runs / name).mkdir()
        (runs / name / RUN_JSON).write_text("{}", encoding="utf-8")
    (runs / "20261202T000000Z-0123abcd").write_text("a file, not a directory", encoding="utf-8")

    assert [each.run_id for each in kept_runs(tmp_path)] == [the_run.run_id]


def test_a_directory_without_runs_keeps_none(tmp_path: Path) -> None:
    assert list(kept_runs(tmp_path)) == []
    assert list(kept_runs(tmp_path / "missing")) == []
