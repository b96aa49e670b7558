"""The index page's view: newest runs first, bounded however long the history, malformed lines skipped, links only to pages drill wrote."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drill import history
from drill.model import Status
from drill.reports.index_view import (
    MAX_RUNS_IN_STRIP,
    MAX_RUNS_LISTED,
    RUN_ID,
    index_of,
)
from tests.reports.index_lines import (
    GENERATED,
    failing,
    line,
    run_id,
    view_of,
)

# The table of runs.


def test_runs_are_listed_newest_first_with_their_verdict_and_timing() -> None:
    view = view_of(line(1), line(2, "fail", command="check"), line(3, "warn"))

    assert [row.run_id for row in view.runs] == [run_id(3), run_id(2), run_id(1)]
    assert [row.status for row in view.runs] == [Status.WARN, Status.FAIL, Status.PASS]
    newest = view.runs[0]
    assert newest.started == "2026-11-01 06:00 UTC"
    assert newest.duration == "5m 1s"
    assert view.runs[1].command == "check"
    assert view.total_runs == 3 and view.omitted_runs == 0
    assert view.generated == "2026-12-01 12:00 UTC"


def test_a_run_without_a_duration_or_command_shows_a_dash() -> None:
    (row,) = view_of(line(1, command=None, duration_seconds="long")).runs

    assert (row.command, row.duration) == ("-", "-")


def test_counts_show_only_the_statuses_that_occurred() -> None:
    counts = {"pass": 7, "warn": 0, "fail": 2, "error": 1, "skipped": 0}

    (row,) = view_of(line(1, "fail", counts=counts)).runs

    assert row.counts == (("pass", 7), ("fail", 2), ("error", 1))


def test_counts_that_are_not_numbers_are_left_out() -> None:
    (row,) = view_of(line(1, counts={"pass": "many", "fail": 2, "warn": None})).runs
    (no_counts,) = view_of(line(1, counts=["pass", 3])).runs

    assert row.counts == (("fail", 2),)
    assert no_counts.counts == ()


def test_failing_findings_are_summarised_by_check_and_subject() -> None:
    items = [
        failing("freshness"),
        failing("copies_3_2_1", target=None),
        {"check": "trust_separation", "status": "fail", "database": None, "target": "vault", "agent": "ci"},
        failing("immutability", database=None, target=None),
    ]

    (row,) = view_of(line(1, "fail", failing=items)).runs

    assert row.failing == (
        "freshness: orders / vault",
        "copies_3_2_1: orders",
        "trust_separation: ci / vault",
        "immutability: -",
    )
    assert row.failing_omitted == 0


def test_more_than_five_failing_findings_show_the_first_five_and_how_many_more() -> None:
    items = [failing(f"check_{number}") for number in range(8)]

    (row,) = view_of(line(1, "fail", failing=items)).runs

    assert row.failing == tuple(f"check_{number}: orders / vault" for number in range(5))
    assert row.failing_omitted == 3


def test_exactly_five_failing_findings_are_all_shown() -> None:
    (row,) = view_of(line(1, "fail", failing=[failing(f"check_{n}") for n in range(5)])).runs

    assert len(row.failing) == 5 and row.failing_omitted == 0


@pytest.mark.parametrize("shape", [5, True, "freshness", None, {"check": "freshness"}])
def test_a_failing_field_of_the_wrong_shape_lists_no_failures_and_keeps_the_run(shape: Any) -> None:
    view = view_of(line(1, "fail", failing=shape), line(2))

    assert [row.run_id for row in view.runs] == [run_id(2), run_id(1)]
    assert view.runs[1].failing == ()


def test_failing_items_that_are_not_objects_are_skipped() -> None:
    (row,) = view_of(line(1, "fail", failing=["freshness", 3, None, failing("freshness")])).runs

    assert row.failing == ("freshness: orders / vault",)


def test_every_run_is_counted_but_only_the_newest_are_listed() -> None:
    entries = [line(number) for number in range(MAX_RUNS_LISTED + 7)]

    view = view_of(*entries)

    assert view.total_runs == MAX_RUNS_LISTED + 7
    assert len(view.runs) == MAX_RUNS_LISTED
    assert view.omitted_runs == 7
    assert view.runs[0].run_id == run_id(MAX_RUNS_LISTED + 6)  # the newest
    assert view.runs[-1].run_id == run_id(7)  # the seven oldest are not listed


def test_a_history_that_fits_lists_every_run() -> None:
    view = view_of(*(line(number) for number in range(MAX_RUNS_LISTED)))

    assert len(view.runs) == view.total_runs == MAX_RUNS_LISTED
    assert view.omitted_runs == 0


def test_entries_are_read_once_as_they_stream_by() -> None:
    consumed: list[int] = []

    def stream() -> Iterator[dict[str, Any]]:
        for number in range(MAX_RUNS_LISTED + 50):
            consumed.append(number)
            yield line(number)

    view = index_of(stream(), generated_at=GENERATED, has_report=lambda _: False)

    assert consumed == list(range(MAX_RUNS_LISTED + 50))
    assert view.total_runs == MAX_RUNS_LISTED + 50


def test_no_history_gives_an_empty_view() -> None:
    view = view_of()

    assert (view.total_runs, view.runs, view.trends, view.strip.cells) == (0, (), (), ())
    assert view.omitted_runs == 0


# The pass/fail strip.


def test_the_strip_shows_the_newest_runs_oldest_on_the_left() -> None:
    statuses = ["pass", "fail", "error", "warn", "skipped"]
    entries = [line(number, statuses[number % 5]) for number in range(MAX_RUNS_IN_STRIP + 3)]

    strip = view_of(*entries).strip

    assert len(strip.cells) == MAX_RUNS_IN_STRIP
    assert [cell.status for cell in strip.cells] == [statuses[n % 5] for n in range(3, MAX_RUNS_IN_STRIP + 3)]
    assert strip.cells[0].tooltip == "2026-11-01 06:00 UTC run: warn"  # run 3, the oldest shown
    assert [cell.x for cell in strip.cells] == sorted(cell.x for cell in strip.cells)


# Lines that are not run summaries.


@pytest.mark.parametrize(
    ("broken", "why"),
    [
        ({"run_id": None}, "no run id"),
        ({"run_id": 42}, "a run id that is not text"),
        ({"status": "passed"}, "a status drill does not have"),
        ({"status": None}, "no status"),
        ({"started_at": "yesterday"}, "a start time that is not a time"),
        ({"started_at": 1767225600}, "a start time that is a number"),
        ({"started_at": None}, "no start time"),
    ],
)
def test_a_line_that_is_not_a_run_summary_is_skipped(broken: dict[str, Any], why: str) -> None:
    view = view_of(line(1), line(2, **broken), line(3))

    assert [row.run_id for row in view.runs] == [run_id(3), run_id(1)], why
    assert view.total_runs == 2, why
    assert len(view.strip.cells) == 2, why


def test_a_line_missing_its_run_id_is_skipped() -> None:
    broken = line(2)
    del broken["run_id"]

    view = view_of(line(1), broken)

    assert [row.run_id for row in view.runs] == [run_id(1)]
    assert view.total_runs == 1


def test_non_object_lines_in_the_history_file_are_skipped(tmp_path: Path) -> None:
    history.append(tmp_path, line(1))
    with (tmp_path / history.HISTORY_FILE).open("a", encoding="utf-8") as handle:
        handle.write('[1, 2]\n"a string"\n42\nnull\n{"half": \n')
    history.append(tmp_path, line(2))

    view = index_of(history.entries(tmp_path), generated_at=GENERATED, has_report=lambda _: True)

    assert [row.run_id for row in view.runs] == [run_id(2), run_id(1)]
    assert view.total_runs == 2


def test_a_start_time_without_a_zone_is_read_as_utc() -> None:
    (row,) = view_of(line(1, started_at="2026-11-01T04:00:00")).runs

    assert row.started == "2026-11-01 04:00 UTC"


# Links to run pages.


def test_a_run_links_to_its_page_only_when_the_page_exists() -> None:
    view = view_of(line(1), line(2), reports={run_id(2)})

    assert {row.run_id: row.href for row in view.runs} == {
        run_id(2): f"runs/{run_id(2)}/report.html",
        run_id(1): None,
    }


@pytest.mark.parametrize(
    "hostile",
    [
        "../../etc",
        "<script>alert(1)</script>",
        "20261101T030000Z-0000000a/../../x",
        "20261101T030000Z-XYZ",
        "20261101T030000Z-0000000A",  # drill writes lower-case hex
        "20261101T030000Z-0000000a\n",  # a line break is not part of a run id
        "",
    ],
)
def test_a_run_id_drill_would_not_write_gets_no_link_even_if_a_page_is_claimed(hostile: str) -> None:
    view = view_of(line(1, run_id=hostile), reports={hostile})

    (row,) = view.runs
    assert row.run_id == hostile  # still listed: it is part of the record
    assert row.href is None


def test_the_page_check_is_only_asked_about_run_ids_drill_writes() -> None:
    asked: list[str] = []

    def has_report(name: str) -> bool:
        asked.append(name)
        return True

    index_of([line(1), line(2, run_id="../../etc")], generated_at=GENERATED, has_report=has_report)

    assert asked == [run_id(1)]


def test_drills_run_ids_match_the_run_id_pattern() -> None:
    assert RUN_ID.match(run_id(1))
    assert RUN_ID.match("20261201T000000Z-0123abcd")
    assert not RUN_ID.match("20261201T000000Z-0123abcd\n")
    assert not RUN_ID.match("x20261201T000000Z-0123abcd")
