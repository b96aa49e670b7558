"""Human durations as the config spells them: ``"26h"``, ``"30d"``, ``"1h30m"``, ``"90s"``, ``"2w"``."""

from __future__ import annotations

import re
from datetime import timedelta

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+)([smhdw])")
_WHOLE = re.compile(r"(?:\d+[smhdw])+")


def parse_duration(text: str) -> timedelta:
    """Parse ``"26h"`` and friends; raise ValueError with a reason a user can act on."""
    cleaned = text.strip().lower().replace(" ", "")
    if not _WHOLE.fullmatch(cleaned):
        raise ValueError(
            f"{text!r} is not a duration; write a number and a unit (s, m, h, d, w), such as '26h' or '30d'"
        )
    seconds = sum(int(number) * _UNIT_SECONDS[unit] for number, unit in _PART.findall(cleaned))
    if seconds == 0:
        raise ValueError(f"{text!r} is zero; a duration must be longer than that")
    return timedelta(seconds=seconds)


def format_duration(duration: timedelta) -> str:
    """The shortest faithful spelling, to two units: ``1d 2h``, ``45m``, ``12s``."""
    total = int(duration.total_seconds())
    sign = "-" if total < 0 else ""
    total = abs(total)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size or (unit == "s" and not parts):
            amount, total = divmod(total, size)
            parts.append(f"{amount}{unit}")
        if len(parts) == 2:
            break
    return sign + " ".join(parts)
