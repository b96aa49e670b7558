"""How reports spell numbers, sizes, durations and times: one place, so every page agrees."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from drill.durations import format_duration

_BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_bytes(size: float | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in _BINARY_UNITS:
        if abs(value) < 1024 or unit == _BINARY_UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def human_seconds(seconds: float | None) -> str:
    """Sub-minute times keep a decimal (restore timings are often a few seconds); longer ones use units."""
    if seconds is None:
        return "-"
    if abs(seconds) < 60:
        return f"{seconds:.1f}s"
    return format_duration(timedelta(seconds=seconds))


def human_count(count: float | None) -> str:
    if count is None:
        return "-"
    return f"{count:,.0f}" if float(count).is_integer() else f"{count:,.2f}"


def short_count(count: float) -> str:
    """Axis labels: 3.5k, 1.2M."""
    for divisor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(count) >= divisor:
            return f"{count / divisor:.3g}{suffix}"
    return f"{count:.3g}"


def as_number(value: Any) -> float | None:
    """A measurement from evidence or a history line; a bool, text, NaN or infinity is not one."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float
        return None
    # json reads NaN and Infinity; neither can be drawn or spelt, so they count as not measured.
    return number if math.isfinite(number) else None


def as_datetime(value: Any) -> datetime | None:
    """A datetime from a run (a datetime) or from its JSON (an ISO string); anything else is None."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def human_time(value: Any) -> str:
    """UTC to the minute, which is what a reader compares across runs and time zones."""
    moment = as_datetime(value)
    if moment is None:
        return "-" if value is None else str(value)
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def human_date(value: Any) -> str:
    moment = as_datetime(value)
    return "-" if moment is None else f"{moment.astimezone(UTC):%Y-%m-%d}"
