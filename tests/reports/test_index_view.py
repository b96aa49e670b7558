"""The index page's view: newest runs first, bounded however long the history, malformed lines skipped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from drill import history
from drill.model import ConfigIdentity, DrillRun, Finding, Severity, Status
from drill.reports.charts import LineChart
from drill.reports.index_view import (
    MAX_DRILLS_CHARTED,
    MAX_RUNS_IN_STRIP,
    MAX_RUNS_LISTED,
    RUN_ID,
    DatabaseTrend,
    IndexView,
    index_view,
)
from tests.reports.runs import recorded

DAY_1 = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
GENERATED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
MB = 1024 * 1024


def run_id(number: int) -> str:
    """A drill run id for the ``number``-th run, which starts ``number`` hours after DAY_1."""
    return f"{DAY_1 + timedelta(hours=number):%Y%m%dT%H%M%SZ}-{number:08x}"


def drill(
    passed: bool = True,
    total_seconds: float | None = 16.0,
    rto_seconds: float | None = 3600.0,
    snapshot_size: float | None = 4096,
    total_rows: float | None = 500,
) -> dict[str, Any]:
    return {
        "passed": passed,
        "total_seconds": total_seconds,
        "rto_seconds": rto_seconds,
        "snapshot_size": snapshot_size,
        "total_rows": total_rows,
    }


def line(number: int, status: str = "pass", **overrides: Any) -> dict[str, Any]:
    """A history line as drill.history writes it, for the ``number``-th run."""
    started = DAY_1 + timedelta(hours=number)
    entry: dict[str, Any] = {
        "schema": "drill.history/v1",
        "run_id": run_id(number),
        "command": "run",
        "status": status,
        "started_at": started.isoformat(),
        "finished_at": (started + timedelta(minutes=5)).isoformat(),
        "duration_seconds": 301.235,
        "config_sha256": "ab" * 32,
        "counts": {"pass": 3, "warn": 0, "fail": 0, "error": 0, "skipped": 0},
        "failing": [],
        "drills": {},
    }
    entry.update(overrides)
    return entry


def failing(check: str, database: str | None = "orders", target: str | None = "vault") -> dict[str, Any]:
    return {"check": check, "status": "fail", "database": database, "target": target, "agent": None}


def view_of(*entries: Any, reports: set[str] | None = None) -> IndexView:
    kept = {entry.get("run_id") for entry in entries} if reports is None else reports
    return index_view(entries, generated_at=GENERATED, has_report=lambda name: name in kept)


def trend(view: IndexView, name: str) -> DatabaseTrend:
    (found,) = [each for each in view.trends if each.name == name]
    return found


def chart(of: DatabaseTrend, title: str) -> LineChart:
    (found,) = [each for each in of.charts if each.title == title]
    return found


# The table of runs.


def test_runs_are_listed_newest_first_with_their_verdict_and_timing() -> None:
    view = view_of(line(1), line(2, "fail", command="check"), line(3, "warn"))

    assert [row.run_id for row in view.runs] == [run_id(3), run_id(2), run_id(1)]
    assert [row.status for row in view.runs] == [Status.WARN, Status.FAIL, Status.PASS]
    newest = view.runs[0]
    assert newest.started == "2026-11-01 06:00 UTC"
    assert newest.duration == "5m 1s"
    assert view.runs[1].command == "check"
    assert view.total_runs == 3 and view.omitted_runs == 0
    assert view.generated == "2026-12-01 12:00 UTC"


def test_a_run_without_a_duration_or_command_shows_a_dash() -> None:
    (row,) = view_of(line(1, command=None, duration_seconds="long")).runs

    assert (row.command, row.duration) == ("-", "-")


def test_counts_show_only_the_statuses_that_occurred() -> None:
    counts = {"pass": 7, "warn": 0, "fail": 2, "error": 1, "skipped": 0}

    (row,) = view_of(line(1, "fail", counts=counts)).runs

    assert row.counts == (("pass", 7), ("fail", 2), ("error", 1))


def test_counts_that_are_not_numbers_are_left_out() -> None:
    (row,) = view_of(line(1, counts={"pass": "many", "fail": 2, "warn": None})).runs
    (no_counts,) = view_of(line(1, counts=["pass", 3])).runs

    assert row.counts == (("fail", 2),)
    assert no_counts.counts == ()


def test_failing_findings_are_summarised_by_check_and_subject() -> None:
    items = [
        failing("freshness"),
        failing("copies_3_2_1", target=None),
        {"check": "trust_separation", "status": "fail", "database": None, "target": "vault", "agent": "ci"},
        failing("immutability", database=None, target=None),
    ]

    (row,) = view_of(line(1, "fail", failing=items)).runs

    assert row.failing == (
        "freshness: orders / vault",
        "copies_3_2_1: orders",
        "trust_separation: ci / vault",
        "immutability: -",
    )
    assert row.failing_omitted == 0


def test_more_than_five_failing_findings_show_the_first_five_and_how_many_more() -> None:
    items = [failing(f"check_{number}") for number in range(8)]

    (row,) = view_of(line(1, "fail", failing=items)).runs

    assert row.failing == tuple(f"check_{number}: orders / vault" for number in range(5))
    assert row.failing_omitted == 3


def test_exactly_five_failing_findings_are_all_shown() -> None:
    (row,) = view_of(line(1, "fail", failing=[failing(f"check_{n}") for n in range(5)])).runs

    assert len(row.failing) == 5 and row.failing_omitted == 0


@pytest.mark.parametrize("shape", [5, True, "freshness", None, {"check": "freshness"}])
def test_a_failing_field_of_the_wrong_shape_lists_no_failures_and_keeps_the_run(shape: Any) -> None:
    view = view_of(line(1, "fail", failing=shape), line(2))

    assert [row.run_id for row in view.runs] == [run_id(2), run_id(1)]
    assert view.runs[1].failing == ()


def test_failing_items_that_are_not_objects_are_skipped() -> None:
    (row,) = view_of(line(1, "fail", failing=["freshness", 3, None, failing("freshness")])).runs

    assert row.failing == ("freshness: orders / vault",)


def test_every_run_is_counted_but_only_the_newest_are_listed() -> None:
    entries = [line(number) for number in range(MAX_RUNS_LISTED + 7)]

    view = view_of(*entries)

    assert view.total_runs == MAX_RUNS_LISTED + 7
    assert len(view.runs) == MAX_RUNS_LISTED
    assert view.omitted_runs == 7
    assert view.runs[0].run_id == run_id(MAX_RUNS_LISTED + 6)  # the newest
    assert view.runs[-1].run_id == run_id(7)  # the seven oldest are not listed


def test_a_history_that_fits_lists_every_run() -> None:
    view = view_of(*(line(number) for number in range(MAX_RUNS_LISTED)))

    assert len(view.runs) == view.total_runs == MAX_RUNS_LISTED
    assert view.omitted_runs == 0


def test_entries_are_read_once_as_they_stream_by() -> None:
    consumed: list[int] = []

    def stream() -> Iterator[dict[str, Any]]:
        for number in range(MAX_RUNS_LISTED + 50):
            consumed.append(number)
            yield line(number)

    view = index_view(stream(), generated_at=GENERATED, has_report=lambda _: False)

    assert consumed == list(range(MAX_RUNS_LISTED + 50))
    assert view.total_runs == MAX_RUNS_LISTED + 50


def test_no_history_gives_an_empty_view() -> None:
    view = view_of()

    assert (view.total_runs, view.runs, view.trends, view.strip.cells) == (0, (), (), ())
    assert view.omitted_runs == 0


# The pass/fail strip.


def test_the_strip_shows_the_newest_runs_oldest_on_the_left() -> None:
    statuses = ["pass", "fail", "error", "warn", "skipped"]
    entries = [line(number, statuses[number % 5]) for number in range(MAX_RUNS_IN_STRIP + 3)]

    strip = view_of(*entries).strip

    assert len(strip.cells) == MAX_RUNS_IN_STRIP
    assert [cell.status for cell in strip.cells] == [statuses[n % 5] for n in range(3, MAX_RUNS_IN_STRIP + 3)]
    assert strip.cells[0].tooltip == "2026-11-01 06:00 UTC run: warn"  # run 3, the oldest shown
    assert [cell.x for cell in strip.cells] == sorted(cell.x for cell in strip.cells)


# Lines that are not run summaries.


@pytest.mark.parametrize(
    ("broken", "why"),
    [
        ({"run_id": None}, "no run id"),
        ({"run_id": 42}, "a run id that is not text"),
        ({"status": "passed"}, "a status drill does not have"),
        ({"status": None}, "no status"),
        ({"started_at": "yesterday"}, "a start time that is not a time"),
        ({"started_at": 1767225600}, "a start time that is a number"),
        ({"started_at": None}, "no start time"),
    ],
)
def test_a_line_that_is_not_a_run_summary_is_skipped(broken: dict[str, Any], why: str) -> None:
    view = view_of(line(1), line(2, **broken), line(3))

    assert [row.run_id for row in view.runs] == [run_id(3), run_id(1)], why
    assert view.total_runs == 2, why
    assert len(view.strip.cells) == 2, why


def test_a_line_missing_its_run_id_is_skipped() -> None:
    broken = line(2)
    del broken["run_id"]

    view = view_of(line(1), broken)

    assert [row.run_id for row in view.runs] == [run_id(1)]
    assert view.total_runs == 1


def test_non_object_lines_in_the_history_file_are_skipped(tmp_path: Path) -> None:
    history.append(tmp_path, line(1))
    with (tmp_path / history.HISTORY_FILE).open("a", encoding="utf-8") as handle:
        handle.write('[1, 2]\n"a string"\n42\nnull\n{"half": \n')
    history.append(tmp_path, line(2))

    view = index_view(history.entries(tmp_path), generated_at=GENERATED, has_report=lambda _: True)

    assert [row.run_id for row in view.runs] == [run_id(2), run_id(1)]
    assert view.total_runs == 2


def test_a_start_time_without_a_zone_is_read_as_utc() -> None:
    (row,) = view_of(line(1, started_at="2026-11-01T04:00:00")).runs

    assert row.started == "2026-11-01 04:00 UTC"


# Links to run pages.


def test_a_run_links_to_its_page_only_when_the_page_exists() -> None:
    view = view_of(line(1), line(2), reports={run_id(2)})

    assert {row.run_id: row.href for row in view.runs} == {
        run_id(2): f"runs/{run_id(2)}/report.html",
        run_id(1): None,
    }


@pytest.mark.parametrize(
    "hostile",
    [
        "../../etc",
        "<script>alert(1)</script>",
        "20261101T030000Z-0000000a/../../x",
        "20261101T030000Z-XYZ",
        "20261101T030000Z-0000000A",  # drill writes lower-case hex
        "20261101T030000Z-0000000a\n",  # a line break is not part of a run id
        "",
    ],
)
def test_a_run_id_drill_would_not_write_gets_no_link_even_if_a_page_is_claimed(hostile: str) -> None:
    view = view_of(line(1, run_id=hostile), reports={hostile})

    (row,) = view.runs
    assert row.run_id == hostile  # still listed: it is part of the record
    assert row.href is None


def test_the_page_check_is_only_asked_about_run_ids_drill_writes() -> None:
    asked: list[str] = []

    def has_report(name: str) -> bool:
        asked.append(name)
        return True

    index_view([line(1), line(2, run_id="../../etc")], generated_at=GENERATED, has_report=has_report)

    assert asked == [run_id(1)]


def test_drills_run_ids_match_the_run_id_pattern() -> None:
    assert RUN_ID.match(run_id(1))
    assert RUN_ID.match("20261201T000000Z-0123abcd")
    assert not RUN_ID.match("20261201T000000Z-0123abcd\n")
    assert not RUN_ID.match("x20261201T000000Z-0123abcd")


# Trends per database.


def test_each_drilled_database_has_a_trend_with_its_counts_and_last_pass() -> None:
    view = view_of(
        line(1, drills={"orders": drill(), "billing": drill(passed=False)}),
        line(2, "fail", drills={"orders": drill(passed=False)}),
        line(3, drills={"billing": drill(passed=False)}),
        line(4, command="check"),  # posture only: nobody drilled
    )

    assert [each.name for each in view.trends] == ["billing", "orders"]  # by name
    orders = trend(view, "orders")
    assert (orders.drills, orders.passed) == (2, 1)
    assert orders.last_passed == "2026-11-01 04:05 UTC"  # when run 1 finished
    billing = trend(view, "billing")
    assert (billing.drills, billing.passed) == (2, 0)
    assert billing.last_passed == "never"


def test_the_last_pass_is_the_latest_by_time_not_by_line() -> None:
    # Shards of CronJobs may finish out of order: the later drill can be written first.
    view = view_of(line(9, drills={"orders": drill()}), line(2, drills={"orders": drill()}))

    assert trend(view, "orders").last_passed == "2026-11-01 12:05 UTC"


def test_a_trend_has_recovery_time_against_the_rto_snapshot_size_and_rows_restored() -> None:
    view = view_of(
        line(1, drills={"orders": drill(total_seconds=20, snapshot_size=10 * MB, total_rows=1000)}),
        line(2, drills={"orders": drill(total_seconds=25, snapshot_size=11 * MB, total_rows=1100)}),
    )

    orders = trend(view, "orders")
    assert [each.title for each in orders.charts] == ["Recovery time", "Snapshot size", "Rows restored"]
    recovery = chart(orders, "Recovery time")
    assert recovery.reference is not None and recovery.reference.label == "RTO 1h"
    assert recovery.latest == "25.0s"
    assert chart(orders, "Snapshot size").reference is None
    assert chart(orders, "Snapshot size").latest == "11.0 MiB"
    assert chart(orders, "Rows restored").latest == "1.1k"
    assert all(len(each.points) == 2 for each in orders.charts)
    assert recovery.points[1].tooltip.endswith(f"({run_id(2)})")


def test_the_rto_line_follows_the_newest_drill_that_had_one() -> None:
    view = view_of(
        line(1, drills={"orders": drill(rto_seconds=7200)}),
        line(2, drills={"orders": drill(rto_seconds=1800)}),
        line(3, drills={"orders": drill(rto_seconds=None)}),
    )

    reference = chart(trend(view, "orders"), "Recovery time").reference
    assert reference is not None and reference.label == "RTO 30m"


def test_without_an_rto_there_is_no_reference_line() -> None:
    view = view_of(line(1, drills={"orders": drill(rto_seconds=None)}))

    assert chart(trend(view, "orders"), "Recovery time").reference is None


def test_a_snapshot_that_collapsed_from_100_mb_to_1_kb_is_marked_as_a_drop() -> None:
    view = view_of(
        line(1, drills={"orders": drill(snapshot_size=100 * MB)}),
        line(2, "fail", drills={"orders": drill(passed=False, snapshot_size=1024)}),
    )

    size = chart(trend(view, "orders"), "Snapshot size")
    assert [point.dropped for point in size.points] == [False, True]
    assert [drop.percent for drop in size.drops] == ["100%"]
    assert size.points[1].passed is False


def test_rows_restored_that_fell_by_half_are_marked_as_a_drop() -> None:
    view = view_of(
        line(1, drills={"orders": drill(total_rows=1000)}),
        line(2, drills={"orders": drill(total_rows=500)}),
    )

    assert [drop.percent for drop in chart(trend(view, "orders"), "Rows restored").drops] == ["50%"]


def test_a_slower_restore_is_not_marked_as_a_drop_and_neither_is_a_faster_one() -> None:
    view = view_of(
        line(1, drills={"orders": drill(total_seconds=100)}),
        line(2, drills={"orders": drill(total_seconds=10)}),
        line(3, drills={"orders": drill(total_seconds=100)}),
    )

    assert chart(trend(view, "orders"), "Recovery time").drops == ()


def test_steady_sizes_and_rows_are_not_marked() -> None:
    view = view_of(
        line(1, drills={"orders": drill(snapshot_size=100 * MB, total_rows=1000)}),
        line(2, drills={"orders": drill(snapshot_size=95 * MB, total_rows=990)}),
    )

    orders = trend(view, "orders")
    assert chart(orders, "Snapshot size").drops == ()
    assert chart(orders, "Rows restored").drops == ()


def test_a_drill_that_measured_nothing_is_counted_but_not_charted() -> None:
    nothing = drill(passed=False, total_seconds=None, rto_seconds=None, snapshot_size=None, total_rows=None)

    view = view_of(line(1, drills={"orders": nothing}))

    orders = trend(view, "orders")
    assert (orders.drills, orders.passed) == (1, 0)
    assert all(each.empty for each in orders.charts)


@pytest.mark.parametrize("odd", ["4096", True, [1], {"bytes": 1}])
def test_a_measurement_that_is_not_a_number_is_not_charted(odd: Any) -> None:
    view = view_of(
        line(1, drills={"orders": drill(snapshot_size=odd)}),
        line(2, drills={"orders": drill(snapshot_size=2048)}),
    )

    assert [
        point.tooltip.split(": ")[1] for point in chart(trend(view, "orders"), "Snapshot size").points
    ] == ["2.0 KiB (" + run_id(2) + ")"]


@pytest.mark.parametrize("odd", [float("nan"), float("inf"), float("-inf"), 10**400])
def test_a_measurement_that_is_not_finite_is_not_charted_and_does_not_break_the_page(odd: float) -> None:
    # json.loads reads NaN, Infinity and integers beyond any float, and json.dumps writes them.
    view = view_of(
        line(
            1,
            duration_seconds=odd,
            drills={"orders": drill(total_seconds=odd, rto_seconds=odd, snapshot_size=odd, total_rows=odd)},
        ),
        line(
            2, drills={"orders": drill(total_seconds=30, rto_seconds=60, snapshot_size=2048, total_rows=10)}
        ),
    )

    orders = trend(view, "orders")
    assert all(len(each.points) == 1 for each in orders.charts)
    assert chart(orders, "Recovery time").reference is not None
    assert view.runs[1].duration == "-"


def test_drills_of_the_wrong_shape_are_skipped() -> None:
    view = view_of(
        line(1, drills=["orders"]),
        line(2, drills={"orders": "passed", "billing": drill()}),
        line(3, drills=None),
    )

    assert [each.name for each in view.trends] == ["billing"]
    assert view.total_runs == 3  # the runs themselves are still part of the record


def test_drills_written_out_of_order_are_charted_in_time_order_inside_the_plot() -> None:
    # A shard that finished first may write its line last. In line order 100 MB then 50 MB would
    # look like a fall; in time order the snapshot only grew.
    day_1, day_5, day_9 = 0, 24 * 4, 24 * 8
    view = view_of(
        line(day_5, drills={"orders": drill(snapshot_size=100 * MB)}),
        line(day_1, drills={"orders": drill(snapshot_size=50 * MB)}),
        line(day_9, drills={"orders": drill(snapshot_size=100 * MB)}),
    )

    for each in trend(view, "orders").charts:
        xs = [point.x for point in each.points]
        assert xs == sorted(xs), each.title
        assert all(each.plot_left <= x <= each.plot_right for x in xs), each.title
        assert [point.tooltip.split("(")[-1] for point in each.points] == [
            f"{run_id(number)})" for number in (day_1, day_5, day_9)
        ], each.title
        assert (each.first_label, each.last_label) == ("2026-11-01", "2026-11-09"), each.title
        assert each.drops == (), each.title


def test_a_trend_charts_only_the_newest_drills_but_counts_them_all() -> None:
    entries = [line(number, drills={"orders": drill()}) for number in range(MAX_DRILLS_CHARTED + 30)]

    orders = trend(view_of(*entries), "orders")

    assert orders.drills == orders.passed == MAX_DRILLS_CHARTED + 30
    for each in orders.charts:
        assert len(each.points) == MAX_DRILLS_CHARTED, each.title
        assert each.points[0].tooltip.endswith(f"({run_id(30)})")
        assert each.points[-1].tooltip.endswith(f"({run_id(MAX_DRILLS_CHARTED + 29)})")


# What drill.history writes is what the index reads.

SUMMARY_DAY = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)


def finding(check: str, status: Status, database: str | None = "orders", **evidence: Any) -> Finding:
    return Finding(
        check=check,
        status=status,
        severity=Severity.HIGH,
        message=f"{check} on {database}: {status.value}.",
        database=database,
        evidence=recorded(check, evidence),
    )


def drill_run(number: int, *findings: Finding) -> DrillRun:
    started = SUMMARY_DAY + timedelta(days=number)
    return DrillRun(
        run_id=f"{started:%Y%m%dT%H%M%SZ}-{number:08x}",
        command="run",
        started_at=started,
        finished_at=started + timedelta(minutes=2),
        config=ConfigIdentity(path="/etc/drill/drill.toml", sha256="ab" * 32),
        drill_version="0.1.0",
        findings=findings,
    )


def test_the_index_reads_the_lines_drill_history_writes(tmp_path: Path) -> None:
    def drilled(number: int, size: int, rows: int, status: Status = Status.PASS) -> DrillRun:
        return drill_run(
            number,
            finding("restore", status, snapshot_size=size, total_seconds=40.0, rto_seconds=600.0),
            finding("integrity", status, table_rows={"public.orders": rows}, total_rows=rows),
            finding("freshness", Status.FAIL, target="vault"),
        )

    for each in (drilled(1, 100 * MB, 1000), drilled(2, 1024, 3, Status.FAIL)):
        history.append(tmp_path, history.summary(each))

    view = index_view(history.entries(tmp_path), generated_at=GENERATED, has_report=lambda _: True)

    assert [row.status for row in view.runs] == [Status.FAIL, Status.FAIL]
    assert view.runs[0].failing == ("restore: orders", "integrity: orders", "freshness: orders")
    orders = trend(view, "orders")
    assert (orders.drills, orders.passed, orders.last_passed) == (2, 1, "2026-11-02 03:02 UTC")
    recovery = chart(orders, "Recovery time")
    assert recovery.reference is not None and recovery.reference.label == "RTO 10m"
    assert [drop.percent for drop in chart(orders, "Snapshot size").drops] == ["100%"]
    assert [drop.percent for drop in chart(orders, "Rows restored").drops] == ["100%"]
