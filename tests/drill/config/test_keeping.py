"""[report] keep_period: quarters and years by name, tables of days, rolling quarters, and what is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from drill.config import load_config
from tests.drill.config.snippets import assert_names, database, fs_target, the_problem, write


def loaded_periods(tmp_path: Path, keep: str) -> list[tuple[date | None, date | None, int | None]]:
    path = write(tmp_path, f"[report]\nkeep_runs = 10\n{keep}\n", fs_target(), database())
    loaded = load_config(path, environ={})
    return [(period.since, period.until, period.quarters) for period in loaded.config.report.keep_period]


def test_a_quarter_and_a_year_by_name_are_their_days(tmp_path: Path) -> None:
    assert loaded_periods(tmp_path, 'keep_period = ["2026-Q3", "2025", "2026-Q4"]') == [
        (date(2026, 7, 1), date(2026, 9, 30), None),
        (date(2025, 1, 1), date(2025, 12, 31), None),
        (date(2026, 10, 1), date(2026, 12, 31), None),
    ]


def test_one_period_needs_no_list_and_tables_mix_with_names(tmp_path: Path) -> None:
    assert loaded_periods(tmp_path, 'keep_period = "2026-Q1"') == [
        (date(2026, 1, 1), date(2026, 3, 31), None)
    ]
    mixed = 'keep_period = ["2026-Q1", { since = 2026-05-01 }, { quarters = 2 }]'
    assert loaded_periods(tmp_path, mixed) == [
        (date(2026, 1, 1), date(2026, 3, 31), None),
        (date(2026, 5, 1), None, None),
        (None, None, 2),
    ]


def test_rolling_quarters_reach_back_across_a_year() -> None:
    from drill.config import KeepPeriod  # noqa: PLC0415

    now = datetime(2026, 2, 10, tzinfo=UTC)
    two = KeepPeriod(quarters=2)
    assert two.start(now) == datetime(2025, 10, 1, tzinfo=UTC)
    assert two.holds(datetime(2025, 10, 1, tzinfo=UTC), now) and not two.holds(
        datetime(2025, 9, 30, tzinfo=UTC), now
    )


@pytest.mark.parametrize(
    ("keep", "reason"),
    [
        ('keep_period = "2026-Q5"', "is not a quarter (2026-Q3) or a year (2026)"),
        ('keep_period = ["Q3"]', "is not a quarter"),
        ("keep_period = [{ since = 2026-09-30, until = 2026-07-01 }]", "is before since"),
        ("keep_period = [{ quarters = 2, since = 2026-01-01 }]", "either since/until or quarters"),
    ],
)
def test_a_bad_period_names_its_key(tmp_path: Path, keep: str, reason: str) -> None:
    path = write(tmp_path, f"[report]\nkeep_runs = 10\n{keep}\n", fs_target(), database())
    assert_names(the_problem(path), path, "report.keep_period[0]", reason)
