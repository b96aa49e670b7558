"""The index page's trends per database: drills counted, recovery time, snapshot size and rows charted, drops marked; read from the lines drill.history writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from drill import history
from drill.model import ConfigIdentity, DrillRun, Finding, Severity, Status
from drill.reports import history_line
from drill.reports.index_view import (
    MAX_DRILLS_CHARTED,
    index_of,
)
from tests.reports.index_lines import (
    GENERATED,
    MB,
    chart,
    drill,
    line,
    run_id,
    trend,
    view_of,
)
from tests.reports.runs import recorded

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
        history.append(tmp_path, history_line.summary(each))

    view = index_of(history.entries(tmp_path), generated_at=GENERATED, has_report=lambda _: True)

    assert [row.status for row in view.runs] == [Status.FAIL, Status.FAIL]
    assert view.runs[0].failing == ("restore: orders", "integrity: orders", "freshness: orders")
    orders = trend(view, "orders")
    assert (orders.drills, orders.passed, orders.last_passed) == (2, 1, "2026-11-02 03:02 UTC")
    recovery = chart(orders, "Recovery time")
    assert recovery.reference is not None and recovery.reference.label == "RTO 10m"
    assert [drop.percent for drop in chart(orders, "Snapshot size").drops] == ["100%"]
    assert [drop.percent for drop in chart(orders, "Rows restored").drops] == ["100%"]
