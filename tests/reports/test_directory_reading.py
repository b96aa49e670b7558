"""The report directory read back: a history torn by a run killed mid-write, and the kept runs in run id order."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from drill import history
from drill.model import Status
from drill.reports import history_line
from drill.reports.directory import (
    RUN_HTML,
    RUN_JSON,
    RUNS,
    kept_runs,
    publish,
    run_directory,
    started_from_id,
)
from tests.reports.directory_runs import (
    NOW,
    PROJECT,
    history_lines,
    links,
    restore,
    run,
)

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
    torn = json.dumps(history_line.summary(run(2)))
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
