"""Prometheus metrics of a run: the samples, the node_exporter textfile, and the Pushgateway grouping key."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from drill.config import MetricsSettings
from drill.model import Status
from drill.reports.metrics import (
    grouping_key,
    publish_metrics,
    registry_for,
    split_credentials,
    write_textfile,
)
from tests.reports.metric_runs import (
    CHECK_IDS,
    LAST_WEEK,
    STARTED,
    YESTERDAY,
    exposition,
    failing_run,
    passing_run,
    restore_finding,
)
from tests.reports.runs import finding, make_run, verified
from tests.reports.servers import (
    samples,
    values,
)

# --- the samples -------------------------------------------------------------------------------


def test_passing_run_has_every_sample_an_alert_needs() -> None:
    run = passing_run()
    text = exposition(run, {"orders": LAST_WEEK})

    assert values(text, "drill_last_run_timestamp_seconds", "command") == {"run": run.finished_at.timestamp()}
    assert values(text, "drill_run_duration_seconds", "command") == {"run": 300.0}
    assert values(text, "drill_run_failed", "command") == {"run": 0.0}
    assert values(text, "drill_findings", "status") == {
        "pass": 5.0,
        "warn": 1.0,
        "fail": 0.0,
        "error": 0.0,
        "skipped": 0.0,
    }
    # Zeros for every check that ran, so that an alert on any of them resolves.
    assert values(text, "drill_failing_findings", "check") == dict.fromkeys(CHECK_IDS, 0.0)
    assert values(text, "drill_restore_passed", "database") == {"orders": 1.0, "billing": 1.0}
    # This run's passing drill is the last success, newer than the history's.
    assert values(text, "drill_last_success_timestamp_seconds", "database") == {
        "orders": run.finished_at.timestamp(),
        "billing": run.finished_at.timestamp(),
    }
    assert values(text, "drill_restore_total_seconds", "database") == {"orders": 42.5, "billing": 900.0}
    assert values(text, "drill_rto_seconds", "database") == {"orders": 3600.0}  # billing has no RTO
    assert values(text, "drill_snapshot_age_seconds", "database") == {"orders": 5400.0, "billing": 60.0}


def test_failing_run_reports_what_failed_and_keeps_the_last_success() -> None:
    run = failing_run()
    text = exposition(run, {"orders": LAST_WEEK})

    assert values(text, "drill_run_failed", "command") == {"run": 1.0}
    assert values(text, "drill_findings", "status") == {
        "pass": 2.0,
        "warn": 0.0,
        "fail": 3.0,
        "error": 1.0,
        "skipped": 1.0,
    }
    assert values(text, "drill_failing_findings", "check") == {
        "restore": 2.0,
        "freshness": 1.0,
        "immutability": 1.0,
        "integrity": 0.0,
        "copies_3_2_1": 0.0,
    }
    assert values(text, "drill_restore_passed", "database") == {"orders": 0.0, "billing": 0.0}
    # The history's success stays; billing never passed, so it has no sample rather than 1970.
    assert values(text, "drill_last_success_timestamp_seconds", "database") == {
        "orders": LAST_WEEK.timestamp()
    }
    # orders broke off at pg_restore: 12 s is no recovery time. billing restored, over its RTO.
    assert values(text, "drill_restore_total_seconds", "database") == {"billing": 7200.0}
    assert values(text, "drill_rto_seconds", "database") == {"orders": 3600.0, "billing": 3600.0}


@pytest.mark.parametrize("status", list(Status))
def test_the_run_is_failed_exactly_when_its_verdict_fails(status: Status) -> None:
    run = make_run(STARTED, finding("freshness", status), databases=("orders",))
    text = exposition(run)

    assert values(text, "drill_run_failed", "command") == {"run": 1.0 if status.is_failing else 0.0}
    assert values(text, "drill_findings", "status")[status.value] == 1.0
    assert values(text, "drill_failing_findings", "check")["freshness"] == (1.0 if status.is_failing else 0.0)


def test_a_run_without_findings_is_failed() -> None:
    # Nothing checked is an error verdict (fail closed), and the gauge says so.
    assert values(exposition(make_run(STARTED)), "drill_run_failed", "command") == {"run": 1.0}


@pytest.mark.parametrize(
    ("restore", "integrity", "passed"),
    [
        (Status.PASS, Status.PASS, 1.0),
        (Status.PASS, Status.WARN, 1.0),
        (Status.PASS, Status.FAIL, 0.0),
        (Status.ERROR, Status.SKIPPED, 0.0),
        (Status.PASS, Status.SKIPPED, 0.0),
    ],
)
def test_restore_passed_needs_the_whole_drill_to_pass(
    restore: Status, integrity: Status, passed: float
) -> None:
    run = make_run(STARTED, restore_finding("orders", restore), verified("orders", integrity))
    text = exposition(run)

    assert values(text, "drill_restore_passed", "database") == {"orders": passed}
    expected = {"orders": run.finished_at.timestamp()} if passed else {}
    assert values(text, "drill_last_success_timestamp_seconds", "database") == expected


@pytest.mark.parametrize(
    ("status", "failed_stage", "recorded"),
    [
        (Status.PASS, None, True),
        (Status.WARN, None, True),
        (Status.FAIL, None, True),  # restored, over the RTO: the time is the point
        (Status.FAIL, "fetch", False),
        (Status.ERROR, None, False),
        (Status.SKIPPED, None, False),
    ],
)
def test_the_recovery_time_is_recorded_only_for_a_restore_that_completed(
    status: Status, failed_stage: str | None, recorded: bool
) -> None:
    run = make_run(STARTED, restore_finding("orders", status, failed_stage=failed_stage), verified("orders"))

    expected = {"orders": 42.5} if recorded else {}
    assert values(exposition(run), "drill_restore_total_seconds", "database") == expected


def test_a_check_run_has_no_drill_samples_but_keeps_the_last_success() -> None:
    run = make_run(
        STARTED, finding("freshness", target="vault"), command="check", databases=("orders", "billing")
    )
    text = exposition(run, {"orders": YESTERDAY})

    assert values(text, "drill_run_failed", "command") == {"check": 0.0}
    for name in (
        "drill_restore_passed",
        "drill_restore_total_seconds",
        "drill_rto_seconds",
        "drill_snapshot_age_seconds",
    ):
        assert samples(text, name) == []
    assert values(text, "drill_last_success_timestamp_seconds", "database") == {
        "orders": YESTERDAY.timestamp()
    }


def test_every_metric_is_prefixed_and_documented() -> None:
    families = list(text_string_to_metric_families(exposition(failing_run())))

    assert len(families) == 10
    for family in families:
        assert family.name.startswith("drill_"), family.name
        assert family.type == "gauge", family.name
        assert family.documentation.endswith("."), family.name
        assert all(sample.labels["command"] == "run" for sample in family.samples)


def test_a_crashed_check_not_listed_in_the_run_still_counts() -> None:
    run = make_run(STARTED, finding("brand_new_check", Status.ERROR, database=None))

    assert values(exposition(run), "drill_failing_findings", "check")["brand_new_check"] == 1.0


def test_label_values_are_escaped_by_the_library() -> None:
    hostile = 'a"b\\c\nd'
    run = make_run(STARTED, restore_finding(hostile), verified(hostile), databases=(hostile,))

    assert values(exposition(run), "drill_restore_passed", "database") == {hostile: 1.0}


# --- the textfile --------------------------------------------------------------------------------


def test_the_textfile_parses_and_makes_its_directory(tmp_path: Path) -> None:
    path = tmp_path / "textfile_collector" / "drill.prom"
    write_textfile(registry_for(passing_run(), {}), path)

    text = path.read_text()
    assert values(text, "drill_run_failed", "command") == {"run": 0.0}
    assert values(text, "drill_restore_total_seconds", "database") == {"orders": 42.5, "billing": 900.0}
    assert [entry.name for entry in path.parent.iterdir()] == ["drill.prom"]


def test_the_textfile_is_replaced_not_rewritten_in_place(tmp_path: Path) -> None:
    path = tmp_path / "drill.prom"
    write_textfile(registry_for(passing_run(), {}), path)
    before = path.read_text()
    os.link(path, tmp_path / "old")

    write_textfile(registry_for(failing_run(), {}), path)

    # A rename put a new file in place: the old inode still holds the old text, whole.
    assert (tmp_path / "old").read_text() == before
    assert values(path.read_text(), "drill_run_failed", "command") == {"run": 1.0}
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["drill.prom", "old"]


def test_a_reader_never_sees_half_a_textfile(tmp_path: Path) -> None:
    path = tmp_path / "drill.prom"
    # 35 kB: a plain in-place write of it is caught half done in about half of the reads.
    names = [f"db{index:03d}" for index in range(100)]
    runs = [
        make_run(STARTED, *(restore_finding(name) for name in names), databases=names),
        make_run(STARTED, *(restore_finding(name, Status.FAIL) for name in names), databases=names),
    ]
    registries = [registry_for(run, {}) for run in runs]
    whole = {generate_latest(registry).decode() for registry in registries}
    write_textfile(registries[0], path)
    seen: list[str] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.append(path.read_text())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for index in range(50):
            write_textfile(registries[index % 2], path)
    finally:
        done.set()
        reader.join()

    assert len(seen) > 10
    assert set(seen) <= whole
    assert [entry.name for entry in tmp_path.iterdir()] == ["drill.prom"]


def test_a_textfile_that_cannot_be_written_is_a_problem_line(tmp_path: Path) -> None:
    (tmp_path / "not-a-directory").write_text("")
    settings = MetricsSettings(textfile=str(tmp_path / "not-a-directory" / "drill.prom"))

    problems = publish_metrics(passing_run(), settings, {}, {})

    assert len(problems) == 1
    assert problems[0].startswith(f"metrics: cannot write the textfile {settings.textfile}: ")
    assert problems[0].endswith(".")


def test_nothing_configured_writes_nothing(tmp_path: Path) -> None:
    assert publish_metrics(failing_run(), MetricsSettings(), {}, {}) == []


# --- the grouping key and the URL ----------------------------------------------------------------


def test_a_run_over_the_whole_config_is_shard_all() -> None:
    assert grouping_key(passing_run(), ()) == {"instance": "all", "command": "run"}


def test_a_sharded_run_is_named_by_its_sorted_databases() -> None:
    run = passing_run("check")

    assert grouping_key(run, ("orders", "billing")) == {"instance": "billing+orders", "command": "check"}
    assert grouping_key(run) == {"instance": "billing+orders", "command": "check"}  # from its coverage


def test_credentials_are_taken_out_of_the_url() -> None:
    assert split_credentials("https://user%40corp:p%3Ass@gw.example:9443/prefix") == (
        "https://gw.example:9443/prefix",
        "user@corp",
        "p:ss",
    )
    assert split_credentials("http://gw:9091") == ("http://gw:9091", None, None)
