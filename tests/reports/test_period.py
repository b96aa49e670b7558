"""What a review period's runs prove: the period's days, incidents and their fixes, drills and gaps, controls, the verdict."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from drill.model import Control, DrillRun, Finding, Status
from drill.reports.period import Gap, Period, PeriodAccumulator, PeriodSummary
from tests.reports.runs import at, drill, finding, make_run, verified

Q3 = Period(date(2026, 7, 1), date(2026, 9, 30))
Q3_END = datetime(2026, 10, 1, tzinfo=UTC)
AFTER_Q3 = datetime(2026, 10, 2, 9, 30, tzinfo=UTC)


def summarise(
    *runs: DrillRun, period: Period = Q3, generated_at: datetime = AFTER_Q3, unreadable: int = 0
) -> PeriodSummary:
    accumulator = PeriodAccumulator(period)
    for number in range(unreadable):
        accumulator.unreadable(f"20260702T000000Z-{number:08x}", "not JSON")
    for run in runs:
        accumulator.add(run)
    return accumulator.summary(generated_at)


def only_incident(summary: PeriodSummary) -> tuple[str, bool, int]:
    assert len(summary.incidents) == 1, summary.incidents
    incident = summary.incidents[0]
    return incident.check, incident.open, incident.failing_runs


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


# The verdict


def proven_quarter() -> list[DrillRun]:
    """Both databases restored every fortnight, nothing failed."""
    both = ("orders", "billing")
    return [
        make_run(
            at(day), drill("orders"), drill("billing"), finding("freshness", target="vault"), databases=both
        )
        for day in range(0, 92, 14)
    ]


def test_the_period_passes_when_nothing_failed_and_every_database_was_restored() -> None:
    summary = summarise(*proven_quarter())
    assert summary.status is Status.PASS
    assert summary.verdict == "Every database was restored, and nothing failed in the period."
    assert summary.incidents == ()


def test_the_period_warns_when_every_failure_was_fixed() -> None:
    runs = proven_quarter()
    runs.insert(2, make_run(at(20), finding("freshness", Status.FAIL, target="vault")))
    summary = summarise(*runs)
    assert summary.status is Status.WARN
    assert "Every failure in the period was fixed (1 failure in all)" in summary.verdict
    assert only_incident(summary) == ("freshness", False, 1)


def test_the_period_fails_while_a_failure_is_still_open_at_its_end() -> None:
    runs = [*proven_quarter(), make_run(at(91, 12), finding("freshness", Status.FAIL, target="vault"))]
    summary = summarise(*runs)
    assert summary.status is Status.FAIL
    assert summary.verdict == "Not proven: 1 failure still open at the end."


def test_the_period_fails_for_a_database_with_no_passing_drill() -> None:
    both = ("orders", "billing")
    runs = [
        make_run(at(day), drill("orders"), drill("billing", integrity=Status.SKIPPED), databases=both)
        for day in range(0, 92, 14)
    ]
    summary = summarise(*runs)
    assert summary.incidents == ()
    assert summary.status is Status.FAIL
    assert summary.verdict == "Not proven: no restore drill passed for billing."


def test_the_period_fails_for_a_covered_database_that_was_never_drilled() -> None:
    runs = [make_run(at(1), drill("orders"), databases=("orders", "billing"))]
    summary = summarise(*runs)
    assert summary.status is Status.FAIL
    assert "no restore drill passed for billing" in summary.verdict


def test_the_period_fails_when_no_drill_ran_at_all() -> None:
    runs = [
        make_run(at(day), finding("freshness", target="vault"), command="check") for day in range(0, 92, 7)
    ]
    summary = summarise(*runs)
    assert summary.status is Status.FAIL
    assert summary.verdict == "Not proven: no restore drill ran in the period."
    no_coverage = [replace(run, coverage=replace(run.coverage, databases=())) for run in runs]
    assert summarise(*no_coverage).verdict == "Not proven: no restore drill ran in the period."


def test_the_period_lists_every_reason_it_is_not_proven() -> None:
    runs = [
        *proven_quarter(),
        make_run(at(91), drill("billing", restore=Status.FAIL), databases=("billing",)),
        make_run(at(91, 6), drill("stock", integrity=Status.SKIPPED), databases=("stock",)),
    ]
    summary = summarise(*runs)
    assert summary.status is Status.FAIL
    assert (
        summary.verdict == "Not proven: no restore drill passed for stock; 1 failure still open at the end."
    )


def test_a_period_without_runs_is_an_error() -> None:
    summary = summarise()
    assert summary.status is Status.ERROR
    assert summary.verdict == "No drill ran in this period: nothing was verified."
    assert (summary.runs, summary.databases, summary.incidents) == ((), (), ())


def test_a_period_with_an_unreadable_run_record_is_an_error_even_if_the_rest_passed() -> None:
    summary = summarise(*proven_quarter(), unreadable=2)
    assert summary.status is Status.ERROR
    assert summary.verdict == "2 run records could not be read; the evidence is incomplete."
    assert [item.problem for item in summary.unreadable] == ["not JSON", "not JSON"]
    assert summarise(*proven_quarter()).unreadable == ()


def test_a_period_whose_runs_were_all_unreadable_says_so_rather_than_that_no_drill_ran() -> None:
    summary = summarise(unreadable=1)
    assert summary.status is Status.ERROR
    assert summary.verdict == "1 run record could not be read; the evidence is incomplete."


# Controls and checks


def test_a_control_lists_the_checks_whose_findings_evidence_it() -> None:
    summary = summarise(make_run(at(1), drill(), finding("freshness", target="vault")))
    controls = {control.control: control for control in summary.controls}
    assert list(controls) == [control.value for control in Control]
    assert controls[Control.ISO27001_A_8_13.value].checks == ("freshness", "integrity", "restore")
    assert controls[Control.SOC2_A1_2.value].checks == ("freshness",)
    assert controls[Control.ISO27001_A_5_30.value].checks == ("integrity", "restore")
    assert controls[Control.ISO27001_A_8_13.value].label == "Information backup"


def test_a_control_no_check_evidenced_is_listed_with_no_checks() -> None:
    # immutability is among the run's checks (SOC 2 A1.2) but judged nothing, so it evidences nothing.
    summary = summarise(make_run(at(1), drill()))
    controls = {control.control: control for control in summary.controls}
    for control in (Control.ISO27001_A_8_3, Control.SOC2_CC6_1, Control.SOC2_A1_2):
        assert controls[control.value].checks == ()
        assert (controls[control.value].findings, controls[control.value].failing) == (0, 0)
    assert controls[Control.SOC2_A1_3.value].checks == ("integrity", "restore")


def test_a_control_counts_its_checks_findings_failures_and_open_incidents() -> None:
    summary = summarise(
        make_run(at(1), drill(), finding("freshness", Status.FAIL, target="vault")),
        make_run(at(2), drill(integrity=Status.ERROR), finding("freshness", target="vault")),
        make_run(at(3), drill(), finding("freshness", Status.WARN, target="vault")),
        make_run(at(4), drill(restore=Status.FAIL, integrity=Status.SKIPPED)),
    )
    controls = {control.control: control for control in summary.controls}
    backup = controls[Control.ISO27001_A_8_13.value]
    assert (backup.findings, backup.failing, backup.open_incidents) == (11, 3, 1)
    tested = controls[Control.SOC2_A1_3.value]
    assert (tested.checks, tested.findings, tested.failing, tested.open_incidents) == (
        ("integrity", "restore"),
        8,
        2,
        1,
    )
    processes = controls[Control.SOC2_A1_2.value]
    assert (processes.findings, processes.failing, processes.open_incidents) == (3, 1, 0)


def test_controls_come_from_the_checks_the_runs_recorded() -> None:
    unmapped = replace(make_run(at(1), drill()), checks=())
    summary = summarise(unmapped)
    assert all(control.checks == () for control in summary.controls)
    assert {check.id: check.title for check in summary.checks} == {
        "integrity": "integrity",
        "restore": "restore",
    }
    # A later run that records its checks maps them.
    summary = summarise(unmapped, make_run(at(2), drill()))
    controls = {control.control: control.checks for control in summary.controls}
    assert controls[Control.SOC2_A1_3.value] == ("integrity", "restore")


def test_each_check_counts_the_runs_it_judged_its_findings_and_the_last_runs_worst_status() -> None:
    summary = summarise(
        make_run(
            at(1), finding("freshness", Status.FAIL, target="vault"), finding("freshness", target="offsite")
        ),
        make_run(at(2), drill()),
        make_run(
            at(3), finding("freshness", target="vault"), finding("freshness", Status.WARN, target="offsite")
        ),
    )
    checks = {check.id: check for check in summary.checks}
    assert list(checks) == ["freshness", "integrity", "restore"]
    freshness = checks["freshness"]
    assert freshness.runs == 2
    assert freshness.counts == (("pass", 2), ("warn", 1), ("fail", 1))
    assert freshness.last_status is Status.WARN
    assert freshness.controls == (Control.ISO27001_A_8_13.value, Control.SOC2_A1_2.value)
    assert checks["restore"].runs == 1


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
