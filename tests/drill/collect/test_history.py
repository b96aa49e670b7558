"""Each database's last clean restore drill, read from the run history by the collection step."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from drill import history
from drill.collect.history import with_last_passing_drills
from drill.model import Unavailable
from tests import factories


def _record(report_dir: Path, run_id: str, age: timedelta, **passed: bool) -> None:
    line = {
        "run_id": run_id,
        "finished_at": (factories.NOW - age).isoformat(),
        "drills": {name: {"passed": ok, "table_rows": {}} for name, ok in passed.items()},
    }
    with (report_dir / history.HISTORY_FILE).open("a") as handle:
        handle.write(json.dumps(line) + "\n")


def test_each_database_gets_its_last_passing_drill_or_none(tmp_path: Path) -> None:
    _record(tmp_path, "r1", timedelta(days=3), orders=True, billing=False)
    _record(tmp_path, "r2", timedelta(days=1), orders=False)
    orders = factories.database_facts(factories.database_target_facts(factories.listing()))
    billing = factories.database_facts(
        factories.database_target_facts(factories.listing(), database_model=factories.database("billing"))
    )

    filled = with_last_passing_drills((orders, billing), tmp_path)

    assert [facts.last_passing_drill for facts in filled] == [factories.NOW - timedelta(days=3), None]


def test_an_unreadable_history_makes_the_fact_unavailable_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / history.HISTORY_FILE).mkdir()  # opening it fails: IsADirectoryError
    orders = factories.database_facts(factories.database_target_facts(factories.listing()))

    [filled] = with_last_passing_drills((orders,), tmp_path)

    assert isinstance(filled.last_passing_drill, Unavailable)
    assert filled.last_passing_drill.reason.startswith("Cannot read the run history: ")
