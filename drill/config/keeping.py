"""What ``[report]`` keeps when it prunes: the periods whose runs an evidence pack still needs.

A kept period is either fixed days (``since``, and ``until`` or open-ended) or rolling quarters
(``quarters = 2``: the current calendar quarter and the one before it, in UTC), so that a review
that asks for "this quarter and the last" never needs the config edited at each quarter's turn.
A calendar quarter or year may be written as text, as reviews name them: ``"2026-Q3"`` is
2026-07-01 to 2026-09-30, ``"2026"`` the whole year.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

_NAMED = re.compile(r"\A([0-9]{4})(?:-Q([1-4]))?\Z")


class KeepPeriod(BaseModel):
    """One period whose runs pruning never removes: ``{since, until}`` or ``{quarters}``."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    # TOML dates (2026-01-01, unquoted) arrive as dates; a quoted "2026-01-01" is accepted as well.
    since: Annotated[date, Field(strict=False)] | None = None
    until: Annotated[date, Field(strict=False)] | None = None  # inclusive; none: up to today and on
    quarters: int | None = Field(None, ge=1, le=40)

    @model_validator(mode="before")
    @classmethod
    def _named(cls, value: Any) -> Any:
        """ "2026-Q3" and "2026" as the days they cover; a table is taken as it is."""
        if not isinstance(value, str):
            return value
        named = _NAMED.match(value.strip())
        if named is None:
            raise ValueError(
                f"{value!r} is not a quarter (2026-Q3) or a year (2026); a table takes since/until"
            )
        year = int(named.group(1))
        if named.group(2) is None:
            return {"since": date(year, 1, 1), "until": date(year, 12, 31)}
        first = 3 * (int(named.group(2)) - 1) + 1
        after = date(year + 1, 1, 1) if first == 10 else date(year, first + 3, 1)
        return {"since": date(year, first, 1), "until": after - timedelta(days=1)}

    @model_validator(mode="after")
    def _one_shape(self) -> KeepPeriod:
        if self.quarters is not None and (self.since is not None or self.until is not None):
            raise ValueError("a kept period is either since/until or quarters, not both")
        if self.quarters is None and self.since is None:
            raise ValueError("a kept period needs since (a first day, and optionally until) or quarters")
        if self.since is not None and self.until is not None and self.until < self.since:
            raise ValueError(f"until {self.until} is before since {self.since}")
        return self

    def start(self, now: datetime) -> datetime:
        """The first moment the period holds."""
        if self.since is not None:
            return datetime.combine(self.since, time(), UTC)
        today = now.astimezone(UTC).date()
        quarter = (today.month - 1) // 3 - ((self.quarters or 1) - 1)
        year = today.year + quarter // 4  # floor division: a quarter before January is last year's
        return datetime(year, 3 * (quarter % 4) + 1, 1, tzinfo=UTC)

    def end(self) -> datetime | None:
        """The first moment after the period (None: it has no end)."""
        if self.until is None:
            return None
        return datetime.combine(self.until + timedelta(days=1), time(), UTC)

    def holds(self, started: datetime, now: datetime) -> bool:
        """Whether a run that started then lies inside (by its start, as an evidence pack picks runs)."""
        end = self.end()
        return self.start(now) <= started and (end is None or started < end)
