"""Pruning the report directory: keep_runs and keep_days remove the oldest runs, never one inside a
kept period or one the checks still read, and the summary the index is built from follows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from drill import history
from drill.config import ReportSettings
from drill.history_summary import SUMMARY_FILE, HistorySummary
from drill.model import ConfigIdentity, DrillRun, Status
from drill.reports.directory import INDEX, RUNS, publish
from tests.reports.directory_runs import NOW, integrity, links, restore, run


def run_at(started: datetime, serial: int, *, passed: bool = True) -> DrillRun:
    findings = (
        (restore(), integrity(1000)) if passed else (restore(Status.FAIL), integrity(0, Status.SKIPPED))
    )
    return DrillRun(
        run_id=f"{started:%Y%m%dT%H%M%SZ}-{serial:08x}",
        command="run",
        started_at=started,
        finished_at=started + timedelta(minutes=5),
        config=ConfigIdentity(path="/etc/drill/drill.toml", sha256="ab" * 32),
        drill_version="0.1.0",
        findings=findings,
    )


def publish_all(report_dir: Path, runs: list[DrillRun], keep: ReportSettings, now: datetime = NOW) -> None:
    for each in runs:
        publish(each, report_dir, now=now, keep=keep)


def kept_ids(report_dir: Path) -> list[str]:
    return [
        str(entry["run_id"])
        for entry in history.entries(report_dir)
        if "status" in entry and "command" in entry
    ]


def run_directories(report_dir: Path) -> list[str]:
    return sorted(path.name for path in (report_dir / RUNS).iterdir())


def test_without_keep_runs_or_keep_days_nothing_is_pruned(tmp_path: Path) -> None:
    runs = [run(day) for day in range(1, 6)]
    publish_all(tmp_path, runs, ReportSettings(keep_period=("2026-Q4",)))  # type: ignore[arg-type]
    assert kept_ids(tmp_path) == [each.run_id for each in runs]
    assert run_directories(tmp_path) == [each.run_id for each in runs]


def test_keep_runs_prunes_the_oldest_runs_their_directories_and_their_index_rows(tmp_path: Path) -> None:
    runs = [run(day) for day in range(1, 7)]

    publish_all(tmp_path, runs, ReportSettings(keep_runs=3))

    newest = [each.run_id for each in runs[3:]]
    assert kept_ids(tmp_path) == newest
    assert run_directories(tmp_path) == newest
    index = (tmp_path / INDEX).read_text(encoding="utf-8")
    assert links(index) == [f"runs/{run_id}/report.html" for run_id in reversed(newest)]
    assert "3 runs recorded" in index and "keeps the newest 3 runs" in index
    assert not any(each.run_id in index for each in runs[:3])


def test_keep_days_prunes_the_runs_started_before_the_limit(tmp_path: Path) -> None:
    runs = [run(day) for day in range(1, 11)]  # 1 to 10 November, 03:00

    publish_all(tmp_path, runs, ReportSettings(keep_days=25), now=NOW)  # NOW: 1 December, 12:00

    assert kept_ids(tmp_path) == [each.run_id for each in runs[6:]]  # from 7 November on
    assert run_directories(tmp_path) == [each.run_id for each in runs[6:]]


def test_keep_runs_and_keep_days_together_keep_what_either_keeps(tmp_path: Path) -> None:
    runs = [run(day) for day in range(1, 11)]
    publish_all(tmp_path, runs, ReportSettings(keep_runs=2, keep_days=27), now=NOW)
    assert kept_ids(tmp_path) == [each.run_id for each in runs[4:]]  # the days keep more than the count


def test_no_run_inside_a_kept_quarter_is_pruned(tmp_path: Path) -> None:
    runs = [
        run_at(datetime(2026, 6, 1, 3, tzinfo=UTC) + timedelta(days=9 * serial), serial)
        for serial in range(20)
    ]
    in_q3 = [each.run_id for each in runs if date(2026, 7, 1) <= each.started_at.date() <= date(2026, 9, 30)]
    assert len(in_q3) == 10 and runs[0].started_at.month == 6 and runs[-1].started_at.month == 11

    keep = ReportSettings.model_validate({"keep_runs": 2, "keep_period": "2026-Q3"})
    publish_all(tmp_path, runs, keep, now=datetime(2026, 12, 1, tzinfo=UTC))

    expected = [*in_q3, runs[-2].run_id, runs[-1].run_id]
    assert kept_ids(tmp_path) == expected
    assert run_directories(tmp_path) == expected
    assert "every run in 2026-07-01 to 2026-09-30" in (tmp_path / INDEX).read_text(encoding="utf-8")


def test_every_run_of_a_kept_period_survives_every_prune_on_the_way(tmp_path: Path) -> None:
    # Published one by one, each with its own "now": a run inside the period is never removed on the
    # way, not only at the end.
    keep = ReportSettings.model_validate(
        {"keep_runs": 1, "keep_period": ({"since": "2026-11-05", "until": "2026-11-07"},)}
    )
    for day in range(1, 12):
        each = run(day)
        publish(each, tmp_path, now=each.finished_at, keep=keep)
        assert {run(kept).run_id for kept in range(5, min(day, 7) + 1)} <= set(kept_ids(tmp_path))
    assert kept_ids(tmp_path) == [run(day).run_id for day in (5, 6, 7, 11)]


def test_the_last_passing_drill_is_kept_for_the_checks_beyond_keep_runs(tmp_path: Path) -> None:
    runs = [run_at(datetime(2026, 11, day, 3, tzinfo=UTC), day, passed=day == 1) for day in range(1, 7)]

    publish_all(tmp_path, runs, ReportSettings(keep_runs=2))

    assert kept_ids(tmp_path) == [runs[0].run_id, runs[4].run_id, runs[5].run_id]
    assert history.last_passing_drill(tmp_path, "orders") == runs[0].finished_at


def test_the_summary_after_pruning_is_the_summary_of_the_runs_kept(tmp_path: Path) -> None:
    runs = [run_at(datetime(2026, 11, day, 3, tzinfo=UTC), day, passed=day % 3 != 0) for day in range(1, 21)]

    publish_all(tmp_path, runs, ReportSettings(keep_runs=5))

    stored = HistorySummary.from_json((tmp_path / SUMMARY_FILE).read_bytes())
    fresh = history.fresh_summary(tmp_path)  # the stored one names the history as it is
    assert stored is not None and fresh is not None and fresh.to_json() == stored.to_json()
    rebuilt = HistorySummary.of(history.entries(tmp_path))
    rebuilt.stamp = history.stamp(tmp_path)
    assert stored.to_json() == rebuilt.to_json()
    assert [brief["run_id"] for brief in stored.tail] == kept_ids(tmp_path)
    assert stored.runs == 5 and stored.tallies["orders"].drills == 5


def test_a_corrupt_summary_is_rebuilt_from_the_history(tmp_path: Path) -> None:
    publish_all(tmp_path, [run(1), run(2)], ReportSettings())
    for garbage in (b"{not json", b'{"schema": "drill.history-summary/v1", "runs": "many"}', b"[]", b""):
        (tmp_path / SUMMARY_FILE).write_bytes(garbage)
        assert history.last_passing_drills(tmp_path) == {"orders": run(2).finished_at}  # readers fall back
    publish(run(3), tmp_path, now=NOW)

    assert "3 runs recorded" in (tmp_path / INDEX).read_text(encoding="utf-8")
    stored = history.fresh_summary(tmp_path)
    assert stored is not None and [brief["run_id"] for brief in stored.tail] == kept_ids(tmp_path)


def test_a_missing_or_stale_summary_is_rebuilt(tmp_path: Path) -> None:
    publish_all(tmp_path, [run(1)], ReportSettings())
    (tmp_path / SUMMARY_FILE).unlink()
    publish(run(2), tmp_path, now=NOW)
    # An older drill appends without the summary: the summary no longer names the history.
    history.append(
        tmp_path,
        {
            "run_id": run(3).run_id,
            "command": "run",
            "status": "pass",
            "started_at": "2026-11-03T03:00:00+00:00",
        },
    )
    assert history.fresh_summary(tmp_path) is None
    publish(run(4), tmp_path, now=NOW)

    assert "4 runs recorded" in (tmp_path / INDEX).read_text(encoding="utf-8")
    assert history.fresh_summary(tmp_path) is not None


def test_a_prune_killed_after_setting_directories_aside_is_finished_by_the_next(tmp_path: Path) -> None:
    publish_all(tmp_path, [run(1), run(2)], ReportSettings())
    leftover = tmp_path / RUNS / f".pruned-{run(1).run_id}"
    (tmp_path / RUNS / run(1).run_id).rename(leftover)

    publish_all(tmp_path, [run(3), run(4)], ReportSettings(keep_runs=2))

    assert not leftover.exists()
    assert run_directories(tmp_path) == [run(3).run_id, run(4).run_id]


def test_the_previous_run_of_each_command_is_kept_for_its_recovery_verdict(tmp_path: Path) -> None:
    runs = [run(1, command="check"), run(2), run(3), run(4)]
    publish_all(tmp_path, runs, ReportSettings(keep_runs=1))
    assert kept_ids(tmp_path) == [runs[0].run_id, runs[3].run_id]
    previous = history.previous_run(tmp_path, "check", ())  # these runs cover no database
    assert previous is not None and previous["run_id"] == runs[0].run_id


def test_lines_that_are_not_drill_runs_are_never_pruned(tmp_path: Path) -> None:
    publish(run(1), tmp_path, now=NOW)
    foreign = [
        b'{"note": "written by hand"}\n',
        b'{"run_id": "../../etc", "status": "pass"}\n',
        b'{"schema":"drill.hi',
    ]
    with (tmp_path / history.HISTORY_FILE).open("ab") as handle:
        handle.write(b"".join(foreign))  # the last one torn, as a killed writer leaves it
    publish_all(tmp_path, [run(day) for day in range(2, 5)], ReportSettings(keep_runs=1))

    content = (tmp_path / history.HISTORY_FILE).read_bytes()
    assert all(line in content for line in foreign)
    assert kept_ids(tmp_path)[-1] == run(4).run_id and run(1).run_id not in kept_ids(tmp_path)
