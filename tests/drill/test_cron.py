"""Cron expressions as [schedule] spells them: crontab's five fields, or six with seconds first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drill.cron import trigger

MONDAY = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)  # a Monday, after 03:00


def firings(
    expression: str, count: int, *, timezone: str = "UTC", start: datetime = MONDAY
) -> list[datetime]:
    when = trigger(expression, timezone)
    out: list[datetime] = []
    moment: datetime | None = start
    for _ in range(count):
        assert moment is not None
        moment = when.get_next_fire_time(None, moment + timedelta(microseconds=1) if out else moment)
        assert moment is not None
        out.append(moment)
    return out


def test_five_fields_are_crontab_and_fire_on_the_minute() -> None:
    assert firings("30 3 * * *", 2) == [
        datetime(2026, 12, 1, 3, 30, tzinfo=UTC),
        datetime(2026, 12, 2, 3, 30, tzinfo=UTC),
    ]


def test_six_fields_put_seconds_first() -> None:
    start = datetime(2026, 11, 30, 4, 0, 1, tzinfo=UTC)
    assert [moment.second for moment in firings("*/10 * * * * *", 3, start=start)] == [10, 20, 30]


def test_weekdays_count_as_crontab_does_with_sunday_as_0_and_7() -> None:
    assert {moment.strftime("%a") for moment in firings("0 3 * * 0", 3)} == {"Sun"}
    assert {moment.strftime("%a") for moment in firings("0 3 * * 7", 3)} == {"Sun"}
    assert [moment.strftime("%a") for moment in firings("0 3 * * 1-5/2", 3)] == ["Wed", "Fri", "Mon"]
    assert [moment.strftime("%a") for moment in firings("0 3 * * sat,sun", 2)] == ["Sat", "Sun"]


def test_the_time_zone_decides_the_wall_clock_hour_across_daylight_saving() -> None:
    winter, summer = (
        firings("0 3 * * *", 1, timezone="Europe/Berlin", start=datetime(2026, month, 1, tzinfo=UTC))[0]
        for month in (1, 7)
    )
    assert (winter.astimezone(UTC).hour, summer.astimezone(UTC).hour) == (2, 1)


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("0 3 * *", "write 5 fields"),
        ("0 3 * * * * *", "write 5 fields"),
        ("61 3 * * *", "not a valid cron expression"),
        ("0 3 * * 8", "'8' is not a day of the week"),
        ("0 3 * * fri-mon", "runs backwards"),
        ("0 3 * * 1/0", "not a positive whole number"),
    ],
)
def test_a_bad_expression_says_what_is_wrong(expression: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        trigger(expression)


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="is not a time zone"):
        trigger("0 3 * * *", "Mars/Olympus_Mons")
