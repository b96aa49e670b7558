"""A review period's verdict, fail closed, and the controls and checks its runs evidence."""

from __future__ import annotations

from dataclasses import replace

from drill.model import Control, DrillRun, Status
from tests.reports.periods import only_incident, summarise
from tests.reports.runs import at, drill, finding, make_run

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
