"""What a review period's runs prove: the period's days, incidents and their fixes, and the runs themselves."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from drill.model import Finding, Status
from drill.reports.period import Gap, Period
from tests.reports.periods import Q3, Q3_END, only_incident, summarise
from tests.reports.runs import at, drill, finding, make_run

# The period


def test_a_period_starts_at_midnight_utc_of_since_and_ends_at_midnight_after_until() -> None:
    assert Q3.start == datetime(2026, 7, 1, tzinfo=UTC)
    assert Q3.end == Q3_END


@pytest.mark.parametrize(
    ("moment", "held"),
    [
        (datetime(2026, 7, 1, 0, 0, tzinfo=UTC), True),
        (datetime(2026, 6, 30, 23, 59, 59, 999_999, tzinfo=UTC), False),
        (datetime(2026, 9, 30, 23, 59, tzinfo=UTC), True),
        (datetime(2026, 9, 30, 23, 59, 59, 999_999, tzinfo=UTC), True),
        (datetime(2026, 10, 1, 0, 0, tzinfo=UTC), False),
        # Days are UTC days: 01:00 at UTC+2 on 1 October is still 30 September in UTC.
        (datetime(2026, 10, 1, 1, 0, tzinfo=timezone(timedelta(hours=2))), True),
        (datetime(2026, 6, 30, 23, 0, tzinfo=timezone(timedelta(hours=-2))), True),
        (datetime(2026, 7, 1, 1, 0, tzinfo=timezone(timedelta(hours=2))), False),
    ],
)
def test_a_period_holds_whole_utc_days_from_since_to_until_inclusive(moment: datetime, held: bool) -> None:
    assert Q3.holds(moment) is held


def test_a_one_day_period_holds_that_day_only() -> None:
    day = Period(date(2026, 8, 15), date(2026, 8, 15))
    assert day.holds(datetime(2026, 8, 15, 12, tzinfo=UTC))
    assert not day.holds(datetime(2026, 8, 16, tzinfo=UTC))
    assert not day.holds(datetime(2026, 8, 14, 23, 59, tzinfo=UTC))


# Incidents


def test_a_failure_opens_an_incident_at_the_first_run_it_failed_in() -> None:
    first = make_run(at(1), drill())
    failed = make_run(at(2), drill(restore=Status.FAIL))
    again = make_run(at(3), drill(restore=Status.FAIL))
    summary = summarise(first, failed, again)
    (incident,) = summary.incidents
    assert (incident.check, incident.subject) == ("restore", "orders")
    assert incident.first_failed == failed.started_at
    assert incident.first_run == failed.run_id
    assert incident.last_failed == again.started_at
    assert incident.failing_runs == 2
    assert incident.open
    assert (incident.fixed_at, incident.fixed_run) == (None, None)
    assert summary.open_incidents == (incident,)


def test_a_failure_is_fixed_by_the_first_later_run_where_it_passes() -> None:
    failed = make_run(at(1), drill(restore=Status.FAIL))
    still = make_run(at(2), drill(restore=Status.FAIL))
    fixed = make_run(at(3), drill())
    later = make_run(at(4), drill())
    summary = summarise(failed, still, fixed, later)
    (incident,) = summary.incidents
    assert not incident.open
    assert incident.fixed_at == fixed.started_at
    assert incident.fixed_run == fixed.run_id
    assert incident.failing_runs == 2
    assert incident.last_failed == still.started_at
    assert summary.open_incidents == ()


def test_a_warning_on_the_same_subject_fixes_a_failure() -> None:
    failed = make_run(at(1), finding("freshness", Status.FAIL, target="vault"), drill())
    warned = make_run(at(2), finding("freshness", Status.WARN, target="vault"), drill())
    (incident,) = summarise(failed, warned).incidents
    assert incident.fixed_run == warned.run_id


def test_a_skipped_finding_on_the_same_subject_does_not_fix_a_failure() -> None:
    failed = make_run(at(1), drill(integrity=Status.FAIL))
    skipped = make_run(at(2), drill(integrity=Status.SKIPPED))
    summary = summarise(failed, skipped)
    assert only_incident(summary) == ("integrity", True, 1)


def test_a_check_run_without_restore_findings_neither_fixes_nor_extends_a_failed_drill() -> None:
    failed = make_run(at(1), drill(restore=Status.FAIL))
    posture = make_run(at(2), finding("freshness", target="vault"), command="check")
    assert only_incident(summarise(failed, posture)) == ("restore", True, 1)
    fixed = make_run(at(3), drill())
    (incident,) = summarise(failed, posture, fixed).incidents
    assert incident.fixed_run == fixed.run_id
    assert incident.last_failed == failed.started_at


def test_a_run_of_another_database_does_not_fix_a_failure() -> None:
    failed = make_run(
        at(1), drill("orders", restore=Status.FAIL), drill("billing"), databases=("orders", "billing")
    )
    shard = make_run(at(2), drill("billing"), databases=("billing",))
    summary = summarise(failed, shard)
    (incident,) = summary.incidents
    assert (incident.subject, incident.open, incident.failing_runs) == ("orders", True, 1)


@pytest.mark.parametrize(
    "elsewhere",
    [
        finding("freshness", database="orders", target="offsite"),
        finding("freshness", database="billing", target="vault"),
        finding("freshness", database="orders", target="vault", agent="ci-bot"),
        finding("snapshot_sanity", database="orders", target="vault"),
    ],
    ids=["other target", "other database", "with an agent", "other check"],
)
def test_a_pass_fixes_only_the_same_check_on_the_same_agent_database_and_target(elsewhere: Finding) -> None:
    failed = make_run(at(1), finding("freshness", Status.FAIL, target="vault"), drill())
    unrelated = make_run(at(2), elsewhere, drill())
    assert only_incident(summarise(failed, unrelated)) == ("freshness", True, 1)
    same = make_run(at(3), finding("freshness", target="vault"), drill())
    assert only_incident(summarise(failed, unrelated, same)) == ("freshness", False, 1)


def test_an_error_is_followed_as_a_failure_until_the_check_passes() -> None:
    errored = make_run(at(1), finding("immutability", Status.ERROR, database=None, target="vault"), drill())
    fixed = make_run(at(2), finding("immutability", database=None, target="vault"), drill())
    (incident,) = summarise(errored, fixed).incidents
    assert (incident.status, incident.subject, incident.fixed_run) == (Status.ERROR, "vault", fixed.run_id)
    summary = summarise(errored)
    assert summary.open_incidents[0].status is Status.ERROR


def test_a_fail_and_a_pass_of_the_same_check_and_subject_in_one_run_count_as_failing() -> None:
    # copies_3_2_1 judges each database twice: the scorecard, and the "0" (a recent passing drill).
    def copies(scorecard: Status, zero: Status) -> tuple[Finding, Finding]:
        return finding("copies_3_2_1", scorecard), finding("copies_3_2_1", zero)

    first = make_run(at(1), copies(Status.FAIL, Status.PASS), drill())
    second = make_run(at(2), copies(Status.PASS, Status.FAIL), drill())
    assert only_incident(summarise(first, second)) == ("copies_3_2_1", True, 2)
    fixed = make_run(at(3), copies(Status.PASS, Status.PASS), drill())
    (incident,) = summarise(first, second, fixed).incidents
    assert (incident.fixed_run, incident.failing_runs) == (fixed.run_id, 2)


def test_an_incident_records_the_worst_status_and_the_last_failing_message() -> None:
    first = make_run(
        at(1), finding("freshness", Status.ERROR, target="vault", message="Access denied."), drill()
    )
    second = make_run(
        at(2),
        finding("freshness", Status.FAIL, target="vault", message="Newest snapshot is 3d old."),
        finding("freshness", Status.ERROR, target="vault", message="Still denied."),
        drill(),
    )
    (incident,) = summarise(first, second).incidents
    assert (incident.status, incident.message) == (Status.FAIL, "Newest snapshot is 3d old.")


def test_a_failure_that_returns_after_its_fix_is_a_new_incident_listed_first_while_open() -> None:
    failed = make_run(at(1), drill(restore=Status.FAIL))
    fixed = make_run(at(2), drill())
    again = make_run(at(3), drill(restore=Status.FAIL))
    summary = summarise(failed, fixed, again)
    assert [(incident.first_run, incident.open) for incident in summary.incidents] == [
        (again.run_id, True),
        (failed.run_id, False),
    ]
    assert summary.incidents[1].fixed_run == fixed.run_id


# The runs themselves


def test_the_summary_lists_each_run_with_its_counts_commands_days_and_the_longest_time_between_runs() -> None:
    runs = [
        make_run(at(1), drill()),
        make_run(at(1, 6), finding("freshness", Status.FAIL, target="vault"), command="check"),
        make_run(at(9), drill(integrity=Status.ERROR)),
        make_run(at(10), drill()),
    ]
    summary = summarise(*runs)
    assert [line.run_id for line in summary.runs] == [run.run_id for run in runs]
    assert [line.status for line in summary.runs] == [Status.PASS, Status.FAIL, Status.ERROR, Status.PASS]
    assert summary.runs[2].counts == (("pass", 1), ("error", 1))
    assert [line.failing for line in summary.runs] == [0, 1, 1, 0]
    assert summary.commands == (("check", 1), ("run", 3))
    assert summary.days_with_runs == 3
    assert summary.longest_gap_between_runs == Gap(at(1, 6), at(9), True, True)
    assert summary.drill_version == "0.1.0"
    assert summarise(runs[0]).longest_gap_between_runs is None
