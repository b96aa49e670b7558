"""Durations as the config spells them, and back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from drill.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("26h", timedelta(hours=26)),
        ("30d", timedelta(days=30)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2w", timedelta(weeks=2)),
        (" 90s ", timedelta(seconds=90)),
        ("26H", timedelta(hours=26)),
        ("1d 2h", timedelta(days=1, hours=2)),
        ("1w1d1h1m1s", timedelta(weeks=1, days=1, hours=1, minutes=1, seconds=1)),
        ("0h5m", timedelta(minutes=5)),
    ],
)
def test_a_number_and_a_unit_parse_to_a_timedelta(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "   ", "6x", "h", "26", "26 hours", "1.5h", "-5h", "h26", "26h!", "P1D"],
)
def test_text_that_is_not_a_duration_says_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration") as caught:
        parse_duration(text)
    message = str(caught.value)
    assert repr(text) in message
    assert "'26h'" in message and "s, m, h, d, w" in message


@pytest.mark.parametrize("text", ["0h", "0s", "0d0h", "00m"])
def test_a_zero_duration_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is zero") as caught:
        parse_duration(text)
    assert repr(text) in str(caught.value)


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(hours=26), "1d 2h"),
        (timedelta(days=30), "30d"),
        (timedelta(hours=1, minutes=30), "1h 30m"),
        (timedelta(minutes=45), "45m"),
        (timedelta(seconds=12), "12s"),
        (timedelta(0), "0s"),
        (timedelta(hours=-1), "-1h"),
        (timedelta(days=1, seconds=5), "1d 5s"),
    ],
)
def test_format_duration_spells_the_shortest_form(duration: timedelta, text: str) -> None:
    assert format_duration(duration) == text


def test_format_duration_keeps_only_the_two_largest_units() -> None:
    assert format_duration(timedelta(days=1, hours=2, minutes=3, seconds=4)) == "1d 2h"


def test_format_duration_drops_fractions_of_a_second() -> None:
    assert format_duration(timedelta(seconds=90, milliseconds=900)) == "1m 30s"


@pytest.mark.parametrize("text", ["26h", "30d", "1h30m", "2w", " 90s ", "6h", "1d12h", "59m59s"])
def test_parsed_durations_round_trip_through_their_formatted_form(text: str) -> None:
    duration = parse_duration(text)
    formatted = format_duration(duration)
    assert parse_duration(formatted) == duration
    assert format_duration(parse_duration(formatted)) == formatted
