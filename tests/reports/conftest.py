"""Fixtures shared by the report tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from drill.model import Status
from tests.reports.packs import HOSTILE, Quarter
from tests.reports.runs import at, drill, finding, make_run, publish_all


@pytest.fixture
def quarter(tmp_path: Path) -> Quarter:
    """A report directory with four runs in the third quarter and one on either side of it."""
    before = make_run(datetime(2026, 6, 30, 23, 59, tzinfo=UTC), drill())
    first = make_run(datetime(2026, 7, 1, 0, 0, tzinfo=UTC), drill(), finding("freshness", target="vault"))
    failing = make_run(
        at(45), finding("freshness", Status.FAIL, target="vault", message=HOSTILE), command="check"
    )
    fixed = make_run(at(46), drill(), finding("freshness", target="vault"))
    last = make_run(datetime(2026, 9, 30, 23, 59, tzinfo=UTC), drill())
    after = make_run(datetime(2026, 10, 1, 0, 0, tzinfo=UTC), drill())
    report_dir = tmp_path / "drill-reports"
    publish_all(report_dir, before, first, failing, fixed, last, after)
    return Quarter(report_dir, (first, failing, fixed, last), (before, after))
