"""How pages spell sizes, durations, counts and times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from drill.reports.formatting import (
    as_datetime,
    human_bytes,
    human_count,
    human_seconds,
    human_time,
    short_count,
)


def test_sizes_use_binary_units() -> None:
    assert [human_bytes(size) for size in (None, 0, 1023, 1024, 3 * 1024**3)] == [
        "-",
        "0 B",
        "1023 B",
        "1.0 KiB",
        "3.0 GiB",
    ]


def test_short_times_keep_a_decimal_and_long_ones_use_units() -> None:
    assert [human_seconds(value) for value in (None, 0.04, 59.9, 60, 5400)] == [
        "-",
        "0.0s",
        "59.9s",
        "1m",
        "1h 30m",
    ]


def test_counts_and_axis_labels() -> None:
    assert [human_count(value) for value in (None, 3500, 2.5)] == ["-", "3,500", "2.50"]
    assert [short_count(value) for value in (0, 950, 3500, 1_200_000)] == ["0", "950", "3.5k", "1.2M"]


def test_times_are_shown_in_utc_and_a_naive_time_is_taken_as_utc() -> None:
    tokyo = datetime(2026, 12, 1, 9, 0, tzinfo=timezone(timedelta(hours=9)))
    assert human_time(tokyo) == "2026-12-01 00:00 UTC"
    assert as_datetime("2026-12-01T00:00:00") == datetime(2026, 12, 1, tzinfo=UTC)
    assert as_datetime("not a time") is None and as_datetime(42) is None
    assert human_time(None) == "-"
