"""Cron expressions as `[schedule]` spells them, read by APScheduler's CronTrigger.

Five fields are crontab(5)'s: minute, hour, day of month, month, day of week. Six fields put the
seconds first ("*/10 * * * * *"), which a short test interval or a demo needs and crontab cannot
say. Days of the week follow crontab (0 or 7 is Sunday), not APScheduler (Monday is 0).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{name!r} is not a time zone; use an IANA name such as 'UTC' or 'Europe/Berlin'"
        ) from None


def _weekday(token: str) -> int:
    """crontab's weekday, 0-7 with 0 and 7 both Sunday, or a name; ranges may run to 7."""
    if token.isdigit() and int(token) <= 7:
        return int(token)
    if token.lower()[:3] in _WEEKDAYS:
        return _WEEKDAYS.index(token.lower()[:3])
    raise ValueError(f"{token!r} is not a day of the week (0-7 or sun-sat)")


def _day_of_week(field: str) -> str:
    """crontab's weekday field as the explicit list of names APScheduler reads as meant.

    APScheduler counts Monday as 0 and ignores a step after a range of names ("mon-fri/2"), so
    the days are worked out here and handed over by name.
    """
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        base, _, step = part.partition("/")
        if step and not (step.isdigit() and int(step) > 0):
            raise ValueError(f"{part!r} has a step that is not a positive whole number")
        if base == "*":
            first, last = 0, 6
        elif "-" in base:
            low, high = base.split("-", 1)
            first, last = _weekday(low), _weekday(high)
            if last < first:
                raise ValueError(f"{part!r} runs backwards")
        else:
            first = _weekday(base)
            last = 7 if step else first  # "1/2" steps from Monday to the end of the week
        days.update(day % 7 for day in range(first, last + 1, int(step or 1)))
    return ",".join(_WEEKDAYS[day] for day in sorted(days))


def trigger(expression: str, timezone: str = "UTC") -> CronTrigger:
    """A CronTrigger for ``expression``, or ValueError saying what is wrong with it."""
    from apscheduler.triggers.cron import CronTrigger  # noqa: PLC0415 - the scheduler's import, paid on use

    fields = expression.split()
    if len(fields) not in (5, 6):
        raise ValueError(
            f"{expression!r} is not a cron expression: write 5 fields (minute hour day month weekday), "
            "or 6 with seconds first"
        )
    second = fields.pop(0) if len(fields) == 6 else "0"
    minute, hour, day, month, weekday = fields
    try:
        return CronTrigger(
            second=second,
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_day_of_week(weekday),
            timezone=zone(timezone),
        )
    except ValueError as error:
        raise ValueError(f"{expression!r} is not a valid cron expression: {error}") from None
