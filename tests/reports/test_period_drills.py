"""What a review period's runs prove of each database's restore drills: how many passed, the last success, the longest gap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drill.model import Status
from drill.reports.period import Gap
from tests.reports.periods import Q3, Q3_END, summarise
from tests.reports.runs import at, drill, finding, make_run, verified

# Drills per database


@pytest.mark.parametrize(
    ("restore", "integrity", "passed"),
    [
        (Status.PASS, Status.PASS, 1),
        (Status.PASS, Status.WARN, 1),
        (Status.FAIL, Status.PASS, 0),
        (Status.ERROR, Status.PASS, 0),
        (Status.FAIL, Status.SKIPPED, 0),
        (Status.PASS, Status.FAIL, 0),
        (Status.PASS, Status.ERROR, 0),
        (Status.PASS, Status.SKIPPED, 0),
    ],
)
def test_a_drill_passes_only_when_the_restore_passes_and_integrity_neither_fails_nor_is_skipped(
    restore: Status, integrity: Status, passed: int
) -> None:
    (database,) = summarise(make_run(at(1), drill(restore=restore, integrity=integrity))).databases
    assert (database.name, database.drills, database.passed) == ("orders", 1, passed)
    assert (database.last_success is not None) is bool(passed)


def test_a_drill_without_a_restore_finding_does_not_pass() -> None:
    (database,) = summarise(make_run(at(1), verified("orders"))).databases
    assert (database.drills, database.passed, database.last_success) == (1, 0, None)


def test_drills_are_counted_per_database_and_only_in_runs_that_drilled_it() -> None:
    both = ("orders", "billing")
    summary = summarise(
        make_run(at(1), drill("orders"), drill("billing", restore=Status.FAIL), databases=both),
        make_run(at(2), drill("billing"), databases=("billing",)),
        make_run(at(3), finding("freshness", target="vault"), command="check", databases=both),
        make_run(at(4), drill("orders"), drill("billing"), databases=both),
    )
    assert [(database.name, database.drills, database.passed) for database in summary.databases] == [
        ("billing", 3, 2),
        ("orders", 2, 2),
    ]


def test_the_last_successful_restore_is_the_newest_passing_drill_with_its_evidence() -> None:
    older = make_run(at(1), drill(snapshot="orders/2026-07-02.dump", total_seconds=30.0))
    newest = make_run(at(2), drill(snapshot="orders/2026-07-03.dump", total_seconds=12.5, rto_seconds=600))
    failed = make_run(at(3), drill(restore=Status.FAIL, snapshot="orders/2026-07-04.dump", total_seconds=1.0))
    (database,) = summarise(older, newest, failed).databases
    assert database.last_success == newest.finished_at
    assert database.last_success_run == newest.run_id
    assert database.last_snapshot == "orders/2026-07-03.dump"
    assert database.last_recovery_seconds == 12.5
    assert database.last_rto_seconds == 600.0
    assert (database.drills, database.passed) == (3, 2)


def test_a_database_without_an_rto_has_no_rto_seconds() -> None:
    (database,) = summarise(make_run(at(1), drill(rto_seconds=None))).databases
    assert database.last_rto_seconds is None
    assert database.last_recovery_seconds == 42.5


def test_the_longest_gap_can_run_from_the_start_of_the_period_to_the_first_successful_drill() -> None:
    first = make_run(at(40), drill())
    runs = [first, *(make_run(at(day), drill()) for day in range(41, 92))]
    (database,) = summarise(*runs).databases
    assert database.longest_gap == Gap(Q3.start, first.finished_at, start_is_drill=False, end_is_drill=True)


def test_the_longest_gap_can_lie_between_two_successful_drills_and_failed_drills_do_not_shorten_it() -> None:
    runs = [
        make_run(at(0, 3), drill()),
        before := make_run(at(10), drill()),
        make_run(at(20), drill(restore=Status.FAIL)),
        make_run(at(30), drill(integrity=Status.SKIPPED)),
        after := make_run(at(50), drill()),
        *(make_run(at(day), drill()) for day in range(51, 92, 10)),
    ]
    (database,) = summarise(*runs).databases
    assert database.longest_gap == Gap(before.finished_at, after.finished_at, True, True)
    assert database.longest_gap.length == timedelta(days=40)


def test_the_longest_gap_can_run_from_the_last_successful_drill_to_the_end_of_the_period() -> None:
    runs = [make_run(at(day), drill()) for day in range(10)]
    runs.append(make_run(at(60), drill(restore=Status.FAIL)))
    (database,) = summarise(*runs).databases
    assert database.longest_gap == Gap(runs[9].finished_at, Q3_END, start_is_drill=True, end_is_drill=False)


def test_before_the_period_ends_the_gap_is_measured_to_when_the_summary_was_made() -> None:
    now = at(20, 6)
    runs = [make_run(at(day), drill()) for day in range(5)]
    summary = summarise(*runs, generated_at=now)
    (database,) = summary.databases
    assert summary.measured_until == now
    assert database.longest_gap == Gap(runs[-1].finished_at, now, True, False)
    assert summarise(*runs).measured_until == Q3_END


def test_a_database_covered_but_never_drilled_is_listed_with_the_whole_period_as_its_gap() -> None:
    both = ("orders", "billing")
    summary = summarise(
        make_run(at(1), drill("orders"), databases=both),
        make_run(at(2), finding("freshness", database="billing", target="vault"), databases=both),
    )
    billing, orders = summary.databases
    assert (billing.name, billing.drills, billing.passed, billing.last_success) == ("billing", 0, 0, None)
    assert billing.longest_gap == Gap(Q3.start, Q3_END, start_is_drill=False, end_is_drill=False)
    assert orders.passed == 1
    (unfinished, _) = summarise(
        make_run(at(1), drill("orders"), databases=both), generated_at=at(9)
    ).databases
    assert unfinished.longest_gap == Gap(Q3.start, at(9), False, False)


def test_a_drill_started_on_the_last_day_counts_even_if_it_finishes_after_the_period() -> None:
    last_minute = make_run(datetime(2026, 9, 30, 23, 59, tzinfo=UTC), drill())
    (database,) = summarise(last_minute).databases
    assert (database.passed, database.last_success) == (1, last_minute.finished_at)
    assert database.longest_gap == Gap(Q3.start, last_minute.finished_at, False, True)
