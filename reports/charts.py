"""The geometry of the index page's inline SVG charts: numbers in, coordinates out.

Only numbers are computed here; the template draws them, so no markup is built in Python. A
fall between two drills larger than ``DROP_WORTH_SEEING`` is marked on the chart: an empty or
collapsed backup should be visible at a glance, long before it trips ``max_size_drop``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

# A fall of a fifth between two consecutive drills is marked in red. Normal growth and churn
# move sizes and row counts by a few percent; the checks themselves fail at max_size_drop.
DROP_WORTH_SEEING = 0.2

WIDTH = 340
HEIGHT = 150
_LEFT = 58  # room for the value labels on the y axis
_RIGHT = 12
_TOP = 12
_BOTTOM = 28  # room for the first and last dates


@dataclass(frozen=True)
class Sample:
    """One measurement: when, how much, and whether that drill passed."""

    at: datetime
    value: float
    passed: bool
    label: str  # the run it came from, shown as the point's tooltip


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    passed: bool
    dropped: bool
    tooltip: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Drop:
    at: str
    fraction: float  # 0.63 for a 63 % fall

    @property
    def percent(self) -> str:
        return f"{self.fraction:.0%}"


@dataclass(frozen=True)
class LineChart:
    title: str
    width: int
    height: int
    points: tuple[Point, ...]
    polyline: str  # "x,y x,y ..." for the SVG polyline's points attribute
    ticks: tuple[Tick, ...]
    first_label: str
    last_label: str
    plot_left: int
    plot_right: int
    plot_bottom: int
    reference: Tick | None  # a target line, such as the RTO
    drops: tuple[Drop, ...]
    latest: str

    @property
    def empty(self) -> bool:
        return not self.points


def line_chart(
    title: str,
    samples: Sequence[Sample],
    spell: Callable[[float], str],
    *,
    reference: float | None = None,
    reference_label: str = "",
    mark_drops: bool = False,
    ceiling: Callable[[float], float] | None = None,
) -> LineChart:
    """Samples oldest first; the y axis starts at zero so that a fall looks as large as it is."""
    plot_right = WIDTH - _RIGHT
    plot_bottom = HEIGHT - _BOTTOM
    if not samples:
        return LineChart(
            title, WIDTH, HEIGHT, (), "", (), "", "", _LEFT, plot_right, plot_bottom, None, (), "-"
        )
    top = (ceiling or nice_ceiling)(
        max([sample.value for sample in samples] + ([reference] if reference else []))
    )
    first, last = samples[0].at, samples[-1].at
    span = (last - first).total_seconds()

    def x_of(sample: Sample, position: int) -> float:
        if span > 0:
            fraction = (sample.at - first).total_seconds() / span
        else:  # all at one moment: spread them evenly instead of stacking them
            fraction = position / max(1, len(samples) - 1) if len(samples) > 1 else 0.5
        return round(_LEFT + fraction * (plot_right - _LEFT), 1)

    def y_of(value: float) -> float:
        return round(plot_bottom - value / top * (plot_bottom - _TOP), 1)

    points: list[Point] = []
    drops: list[Drop] = []
    for position, sample in enumerate(samples):
        before = samples[position - 1].value if position else None
        dropped = (
            mark_drops
            and before is not None
            and before > 0
            and sample.value < before * (1 - DROP_WORTH_SEEING)
        )
        if dropped and before is not None:
            drops.append(Drop(f"{sample.at:%Y-%m-%d %H:%M}", 1 - sample.value / before))
        points.append(
            Point(
                x_of(sample, position),
                y_of(sample.value),
                sample.passed,
                dropped,
                f"{sample.at:%Y-%m-%d %H:%M} UTC: {spell(sample.value)} ({sample.label})",
            )
        )
    return LineChart(
        title=title,
        width=WIDTH,
        height=HEIGHT,
        points=tuple(points),
        polyline=" ".join(f"{point.x},{point.y}" for point in points),
        ticks=(Tick(y_of(0), spell(0)), Tick(y_of(top / 2), spell(top / 2)), Tick(y_of(top), spell(top))),
        first_label=_moment(first, span),
        last_label=_moment(last, span),
        plot_left=_LEFT,
        plot_right=plot_right,
        plot_bottom=plot_bottom,
        reference=Tick(y_of(reference), reference_label) if reference else None,
        drops=tuple(drops),
        latest=spell(samples[-1].value),
    )


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above ``value``: axis labels a reader can take in."""
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    raise AssertionError("unreachable")


# Whole minutes, hours and days read better on a time axis than 1, 2, 5 times a power of ten.
_DURATION_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400)


def nice_duration_ceiling(seconds: float) -> float:
    for step in _DURATION_STEPS:
        if seconds <= step:
            return float(step)
    return nice_ceiling(seconds / 86400) * 86400


def _moment(at: datetime, span: float) -> str:
    """Dates on the time axis; with the time of day when the whole chart spans under two days."""
    return f"{at:%m-%d %H:%M}" if span < 2 * 86400 else f"{at:%Y-%m-%d}"


@dataclass(frozen=True)
class StripCell:
    x: float
    width: float
    status: str
    tooltip: str


@dataclass(frozen=True)
class StatusStrip:
    """Pass/fail per run, oldest on the left: one coloured cell per run."""

    width: int
    height: int
    cells: tuple[StripCell, ...]


def status_strip(runs: Sequence[tuple[str, str]]) -> StatusStrip:
    """``runs`` are (status, tooltip) pairs, oldest first."""
    width = WIDTH * 3
    cell = width / max(len(runs), 1)
    return StatusStrip(
        width,
        24,
        tuple(
            StripCell(round(position * cell, 2), round(max(cell - 1, 1), 2), status, tooltip)
            for position, (status, tooltip) in enumerate(runs)
        ),
    )
