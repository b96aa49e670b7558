"""Chart geometry: a zero-based y axis with a readable top, time on x, and falls worth a look marked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drill.reports.charts import (
    DROP_WORTH_SEEING,
    HEIGHT,
    WIDTH,
    LineChart,
    Sample,
    line_chart,
    nice_ceiling,
    status_strip,
)

DAY_1 = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)


def spell(value: float) -> str:
    return f"{value:g}"


def samples(*values: float, passed: bool = True, hours: float = 24) -> list[Sample]:
    """One sample per value, ``hours`` apart, oldest first."""
    return [
        Sample(DAY_1 + timedelta(hours=hours * position), value, passed, f"run-{position}")
        for position, value in enumerate(values)
    ]


def chart_of(*values: float, **options: object) -> LineChart:
    return line_chart("Snapshot size", samples(*values), spell, **options)  # type: ignore[arg-type]


def plot_top(chart: LineChart) -> float:
    """The y of the axis' top: the last tick is the top value."""
    return chart.ticks[-1].y


def value_at(chart: LineChart, y: float) -> float:
    """The value a y coordinate stands for, read off the axis ticks."""
    bottom, top = chart.ticks[0].y, chart.ticks[-1].y
    return (bottom - y) / (bottom - top) * float(chart.ticks[-1].label)


# The axis' top.


@pytest.mark.parametrize(
    ("value", "top"),
    [
        (1, 1.0),
        (0.7, 1.0),
        (1.01, 2.0),
        (2, 2.0),
        (2.2, 2.5),
        (2.5, 2.5),
        (2.6, 5.0),
        (5, 5.0),
        (5.1, 10.0),
        (73, 100.0),
        (100, 100.0),
        (101, 200.0),
        (240, 250.0),
        (0.03, 0.05),
        (0.2, 0.2),
        (104_857_600, 200_000_000.0),
        (3600, 5000.0),
    ],
)
def test_the_axis_top_is_the_next_1_2_2_5_or_5_times_a_power_of_ten(value: float, top: float) -> None:
    assert nice_ceiling(value) == pytest.approx(top)
    assert nice_ceiling(value) >= value


@pytest.mark.parametrize("value", [0, 0.0, -1, -250])
def test_an_axis_of_nothing_or_less_tops_out_at_one(value: float) -> None:
    assert nice_ceiling(value) == 1.0


def test_the_y_axis_starts_at_zero_and_tops_at_a_nice_number_above_the_largest_value() -> None:
    chart = chart_of(40, 73, 55)

    assert [tick.label for tick in chart.ticks] == ["0", "50", "100"]
    assert chart.ticks[0].y == chart.plot_bottom  # zero sits on the x axis
    assert chart.ticks[0].y > chart.ticks[1].y > chart.ticks[2].y  # SVG y grows downwards
    assert all(plot_top(chart) <= point.y <= chart.plot_bottom for point in chart.points)


def test_a_points_height_is_proportional_to_its_value() -> None:
    chart = chart_of(25, 50, 100)

    assert [value_at(chart, point.y) for point in chart.points] == pytest.approx([25, 50, 100], abs=0.2)
    height = chart.plot_bottom - plot_top(chart)
    assert chart.plot_bottom - chart.points[1].y == pytest.approx(height / 2, abs=0.1)
    assert chart.points[2].y == plot_top(chart)  # the maximum, 100, is the top itself


def test_a_value_of_zero_lies_on_the_x_axis() -> None:
    chart = chart_of(0, 0)

    assert [point.y for point in chart.points] == [chart.plot_bottom, chart.plot_bottom]
    assert chart.ticks[-1].label == "1"  # nothing measured: the axis still has a height


# Time on the x axis.


def test_x_spans_the_plot_from_the_first_sample_to_the_last_in_proportion_to_time() -> None:
    at = [DAY_1, DAY_1 + timedelta(days=1), DAY_1 + timedelta(days=4)]
    chart = line_chart("t", [Sample(moment, 10, True, "r") for moment in at], spell)

    xs = [point.x for point in chart.points]
    assert xs[0] == chart.plot_left
    assert xs[-1] == chart.plot_right
    assert xs[1] == pytest.approx(chart.plot_left + (chart.plot_right - chart.plot_left) / 4, abs=0.1)
    assert (chart.first_label, chart.last_label) == ("2026-11-01", "2026-11-05")
    assert chart.polyline == " ".join(f"{point.x},{point.y}" for point in chart.points)


def test_samples_taken_at_one_instant_are_spread_across_the_plot_not_stacked() -> None:
    chart = line_chart("t", [Sample(DAY_1, value, True, "r") for value in (1, 2, 3)], spell)

    xs = [point.x for point in chart.points]
    middle = (chart.plot_left + chart.plot_right) / 2
    assert xs == pytest.approx([chart.plot_left, middle, chart.plot_right], abs=0.1)
    assert len(set(xs)) == 3


def test_a_single_sample_sits_in_the_middle() -> None:
    chart = chart_of(42)

    assert len(chart.points) == 1
    assert chart.points[0].x == pytest.approx((chart.plot_left + chart.plot_right) / 2, abs=0.1)
    assert chart.latest == "42"
    assert not chart.empty and not chart.drops


def test_a_point_keeps_its_verdict_and_says_when_what_and_which_run() -> None:
    chart = line_chart(
        "t", [Sample(DAY_1, 5, True, "run-a"), Sample(DAY_1 + timedelta(days=1), 6, False, "run-b")], spell
    )

    assert [point.passed for point in chart.points] == [True, False]
    assert chart.points[1].tooltip == "2026-11-02 03:00 UTC: 6 (run-b)"
    assert chart.latest == "6"


def test_the_chart_has_the_size_the_template_draws() -> None:
    chart = chart_of(1, 2)

    assert (chart.width, chart.height) == (WIDTH, HEIGHT)
    assert 0 < chart.plot_left < chart.plot_right < chart.width
    assert 0 < plot_top(chart) < chart.plot_bottom < chart.height


# Falls worth a look.


def test_a_fall_of_more_than_a_fifth_is_marked_with_its_size() -> None:
    chart = chart_of(100, 37, 40, mark_drops=True)

    assert [point.dropped for point in chart.points] == [False, True, False]
    assert len(chart.drops) == 1
    assert chart.drops[0].fraction == pytest.approx(0.63)
    assert chart.drops[0].percent == "63%"
    assert chart.drops[0].at == "2026-11-02 03:00"


def test_a_collapse_to_almost_nothing_is_marked_as_a_fall_of_all_but_everything() -> None:
    chart = chart_of(100 * 1024 * 1024, 1024, mark_drops=True)

    assert chart.points[1].dropped
    assert chart.drops[0].percent == "100%"


def test_each_fall_is_judged_against_the_sample_just_before_it() -> None:
    # 100 to 70 is a fall of 30 %; 70 to 60 only 14 %, though 40 % below the first.
    chart = chart_of(100, 70, 60, 10, mark_drops=True)

    assert [point.dropped for point in chart.points] == [False, True, False, True]
    assert [drop.percent for drop in chart.drops] == ["30%", "83%"]


@pytest.mark.parametrize(
    ("values", "why"),
    [
        ((100, 90), "a 10 % fall is churn"),
        ((100, 100 * (1 - DROP_WORTH_SEEING)), "exactly a fifth is not more than a fifth"),
        ((100, 250), "a rise"),
        ((50, 50), "no change"),
        ((0, 0), "from zero nothing can fall"),
        ((0, 10), "from zero, a rise"),
    ],
)
def test_what_is_not_a_fall_worth_a_look_is_not_marked(values: tuple[float, float], why: str) -> None:
    chart = chart_of(*values, mark_drops=True)

    assert not chart.drops, why
    assert not any(point.dropped for point in chart.points), why


def test_falls_are_only_marked_on_charts_that_ask_for_it() -> None:
    chart = chart_of(100, 10)  # recovery time: a faster restore is good news

    assert not chart.drops
    assert not any(point.dropped for point in chart.points)


# The reference line (the RTO).


def test_a_reference_line_is_drawn_with_its_label_inside_the_plot() -> None:
    chart = chart_of(10, 20, reference=3600, reference_label="RTO 1h")

    assert chart.reference is not None
    assert chart.reference.label == "RTO 1h"
    # The top makes room for the reference, even far above every sample.
    assert float(chart.ticks[-1].label) >= 3600
    assert plot_top(chart) <= chart.reference.y < chart.plot_bottom
    assert value_at(chart, chart.reference.y) == pytest.approx(3600, rel=0.01)


def test_a_reference_below_the_samples_does_not_lower_the_top() -> None:
    chart = chart_of(10, 80, reference=30, reference_label="RTO 30s")

    assert chart.ticks[-1].label == "100"
    assert chart.reference is not None
    assert value_at(chart, chart.reference.y) == pytest.approx(30, abs=0.2)


def test_no_reference_means_no_line() -> None:
    chart = chart_of(10, 20, reference=None)

    assert chart.reference is None
    assert chart.ticks[-1].label == "20"


# Nothing measured.


def test_no_samples_make_an_empty_chart_rather_than_a_crash() -> None:
    chart = line_chart("Rows restored", [], spell, reference=60, reference_label="RTO 1m", mark_drops=True)

    assert chart.empty
    assert chart.title == "Rows restored"
    assert (chart.points, chart.drops, chart.ticks, chart.polyline) == ((), (), (), "")
    assert chart.reference is None
    assert chart.latest == "-"


def test_a_chart_with_a_sample_is_not_empty() -> None:
    assert not chart_of(1).empty


# The pass/fail strip.


def test_the_strip_has_one_cell_per_run_oldest_on_the_left() -> None:
    runs = [("pass", "day 1"), ("fail", "day 2"), ("error", "day 3"), ("warn", "day 4")]

    strip = status_strip(runs)

    assert [(cell.status, cell.tooltip) for cell in strip.cells] == runs
    xs = [cell.x for cell in strip.cells]
    assert xs == sorted(xs) and xs[0] == 0
    assert all(cell.width > 0 for cell in strip.cells)
    # Cells do not overlap and stay inside the strip.
    assert all(
        left.x + left.width <= right.x for left, right in zip(strip.cells, strip.cells[1:], strict=False)
    )
    assert strip.cells[-1].x + strip.cells[-1].width <= strip.width
    assert strip.height > 0


def test_a_strip_of_many_runs_keeps_every_cell_visible() -> None:
    strip = status_strip([("pass", f"run {number}") for number in range(5000)])

    assert len(strip.cells) == 5000
    assert all(cell.width > 0 for cell in strip.cells)


def test_a_strip_of_no_runs_has_no_cells() -> None:
    assert status_strip([]).cells == ()
