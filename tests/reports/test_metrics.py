"""Prometheus metrics of a run: the samples, the node_exporter textfile, and a real Pushgateway."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from drill.config import MetricsSettings
from drill.model import DrillRun, Finding, Severity, Status
from drill.reports.metrics import (
    grouping_key,
    publish_metrics,
    push,
    registry_for,
    split_credentials,
    write_textfile,
)
from tests.reports.runs import CHECKS, at, finding, make_run, verified
from tests.reports.servers import (
    AUTH_PASSWORD,
    AUTH_USER,
    Gateway,
    all_text,
    closed_port,
    pushgateway,
    samples,
    silent_listener,
    unavailable,
    values,
)

STARTED = at(10, 3)
YESTERDAY = STARTED - timedelta(days=1)
LAST_WEEK = STARTED - timedelta(days=7)
CHECK_IDS = {info.id for info in CHECKS}


def restore_finding(
    database: str,
    status: Status = Status.PASS,
    *,
    failed_stage: str | None = None,
    total_seconds: float = 42.5,
    rto_seconds: float | None = 3600.0,
    snapshot_age_seconds: float | None = 5400.0,
) -> Finding:
    """A restore finding with the evidence checks/restore.py records."""
    return finding(
        "restore",
        status,
        database=database,
        severity=Severity.CRITICAL,
        evidence={
            "snapshot": f"{database}/{database}-latest.dump",
            "source_target": "vault",
            "total_seconds": total_seconds,
            "rto_seconds": rto_seconds,
            "snapshot_age_seconds": snapshot_age_seconds,
            "failed_stage": failed_stage,
        },
    )


def passing_run(command: str = "run", started: Any = STARTED) -> DrillRun:
    return make_run(
        started,
        restore_finding("orders"),
        verified("orders"),
        restore_finding("billing", total_seconds=900.0, rto_seconds=None, snapshot_age_seconds=60.0),
        verified("billing"),
        finding("freshness", database="orders", target="vault"),
        finding("copies_3_2_1", Status.WARN, database="billing"),
        command=command,
        databases=("orders", "billing"),
        duration=timedelta(minutes=5),
    )


def failing_run(command: str = "run") -> DrillRun:
    return make_run(
        STARTED,
        restore_finding("orders", Status.FAIL, failed_stage="restore", total_seconds=12.0),
        finding("integrity", Status.SKIPPED, database="orders"),
        restore_finding("billing", Status.FAIL, total_seconds=7200.0),  # over its RTO, but it restored
        verified("billing"),
        finding("freshness", Status.FAIL, database="billing", target="vault"),
        finding("immutability", Status.ERROR, database=None, target="vault"),
        finding("copies_3_2_1", database="orders"),
        command=command,
        databases=("orders", "billing"),
        duration=timedelta(seconds=90),
    )


def exposition(run: DrillRun, last_success: dict[str, Any] | None = None) -> str:
    return generate_latest(registry_for(run, last_success or {})).decode()


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


# --- a real Pushgateway --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def gateway() -> Iterator[Gateway]:
    with pushgateway() as started:
        yield started


@pytest.fixture(scope="session")
def auth_gateway() -> Iterator[Gateway]:
    with pushgateway(basic_auth=True) as started:
        yield started


@pytest.fixture
def job(request: pytest.FixtureRequest) -> str:
    """A job name of the test's own, so that tests sharing the session's gateway never meet."""
    return f"drill-{request.node.name}".replace("[", "-").replace("]", "")


def settings_for(job: str, **overrides: Any) -> MetricsSettings:
    fields: dict[str, Any] = {
        "pushgateway_env": "DRILL_PUSHGATEWAY",
        "job": job,
        "timeout": timedelta(seconds=2),
    }
    fields.update(overrides)
    return MetricsSettings(**fields)


def test_a_push_lands_in_the_gateway_with_job_and_instance(gateway: Gateway, job: str) -> None:
    run = passing_run()

    problems = publish_metrics(run, settings_for(job), {"DRILL_PUSHGATEWAY": gateway.url}, {}, selection=())

    assert problems == []
    text = gateway.metrics()
    labels = {"job": job, "instance": "all", "command": "run"}
    assert values(text, "drill_run_failed", "command", **labels) == {"run": 0.0}
    assert values(text, "drill_restore_total_seconds", "database", **labels) == {
        "orders": 42.5,
        "billing": 900.0,
    }
    assert values(text, "drill_failing_findings", "check", **labels) == dict.fromkeys(CHECK_IDS, 0.0)


def test_shards_and_commands_do_not_overwrite_each_other(gateway: Gateway, job: str) -> None:
    environ = {"DRILL_PUSHGATEWAY": gateway.url}
    orders = make_run(STARTED, restore_finding("orders"), verified("orders"), databases=("orders",))
    billing = make_run(STARTED, restore_finding("billing"), verified("billing"), databases=("billing",))
    check = make_run(STARTED, finding("freshness", Status.FAIL), command="check", databases=("orders",))

    for run in (orders, billing, check):
        names = tuple(covered.name for covered in run.coverage.databases)
        assert publish_metrics(run, settings_for(job), environ, {}, selection=names) == []

    text = gateway.metrics()
    assert {
        (found["instance"], found["command"]): value
        for found, value in samples(text, "drill_run_failed", job=job)
    } == {("orders", "run"): 0.0, ("billing", "run"): 0.0, ("orders", "check"): 1.0}
    assert values(text, "drill_restore_total_seconds", "instance", job=job) == {
        "orders": 42.5,
        "billing": 42.5,
    }


def test_a_push_replaces_its_whole_group(gateway: Gateway, job: str) -> None:
    environ = {"DRILL_PUSHGATEWAY": gateway.url}
    passed = make_run(STARTED, restore_finding("orders"), verified("orders"))
    broken = make_run(
        STARTED, restore_finding("orders", Status.FAIL, failed_stage="fetch"), verified("orders")
    )

    assert publish_metrics(passed, settings_for(job), environ, {}, selection=("orders",)) == []
    assert publish_metrics(broken, settings_for(job), environ, {}, selection=("orders",)) == []

    text = gateway.metrics()
    assert values(text, "drill_run_failed", "instance", job=job) == {"orders": 1.0}
    # The broken drill has no recovery time, and the passing one's sample is gone with the old group.
    assert samples(text, "drill_restore_total_seconds", job=job) == []


def test_a_push_to_a_closed_port_is_a_problem_line_at_once(job: str) -> None:
    with closed_port() as port:
        url = f"http://127.0.0.1:{port}/some/prefix"
        started = time.monotonic()
        problems = publish_metrics(passing_run(), settings_for(job), {"DRILL_PUSHGATEWAY": url}, {})
        elapsed = time.monotonic() - started

    assert problems == [
        f"metrics: cannot push to the Pushgateway at http://127.0.0.1:{port}: Connection refused."
    ]
    assert elapsed < 2


def test_a_gateway_that_never_answers_times_out(job: str) -> None:
    with silent_listener() as port:
        url = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        problems = publish_metrics(
            passing_run(), settings_for(job, timeout=timedelta(seconds=0.5)), {"DRILL_PUSHGATEWAY": url}, {}
        )
        elapsed = time.monotonic() - started

    assert problems == [f"metrics: cannot push to the Pushgateway at {url}: no answer within 0.5 s."]
    assert 0.4 < elapsed < 2


def test_a_password_in_the_url_is_sent_as_basic_auth(auth_gateway: Gateway, job: str) -> None:
    url = f"http://{AUTH_USER}:{AUTH_PASSWORD}@127.0.0.1:{auth_gateway.port}"

    problems = publish_metrics(passing_run(), settings_for(job), {"DRILL_PUSHGATEWAY": url}, {}, selection=())

    assert problems == []
    assert values(auth_gateway.metrics(), "drill_run_failed", "instance", job=job) == {"all": 0.0}


def test_a_refused_password_is_never_shown(auth_gateway: Gateway, job: str) -> None:
    wrong = "not-the-Pa55word"
    url = f"http://{AUTH_USER}:{wrong}@127.0.0.1:{auth_gateway.port}/"

    problems = publish_metrics(failing_run(), settings_for(job), {"DRILL_PUSHGATEWAY": url}, {})

    assert problems == [
        f"metrics: cannot push to the Pushgateway at http://127.0.0.1:{auth_gateway.port}: "
        "it answered HTTP 401 Unauthorized (Unauthorized)."
    ]
    assert wrong not in all_text(problems)
    assert AUTH_USER not in all_text(problems)
    assert samples(auth_gateway.metrics(), "drill_run_failed", job=job) == []


def test_no_credentials_for_a_guarded_gateway_is_a_problem_line(auth_gateway: Gateway, job: str) -> None:
    problems = publish_metrics(passing_run(), settings_for(job), {"DRILL_PUSHGATEWAY": auth_gateway.url}, {})

    assert len(problems) == 1
    assert "HTTP 401" in problems[0]


def test_a_gateway_refusing_the_push_says_why(job: str) -> None:
    # Another job already pushed drill_run_failed as a histogram: the gateway's consistency check
    # refuses our gauge of that name with a 400 and a reason, which the problem line quotes. A gateway
    # of its own, since the session's already holds drill_run_failed as a gauge.
    squatter = CollectorRegistry()
    Histogram("drill_run_failed", "Someone else's metric.", registry=squatter).observe(1)
    with pushgateway() as fresh:
        push(squatter, fresh.url, job="squatter", grouping={"instance": "all"}, timeout=2)
        problems = publish_metrics(passing_run(), settings_for(job), {"DRILL_PUSHGATEWAY": fresh.url}, {})

    assert len(problems) == 1
    assert problems[0].startswith(
        f"metrics: cannot push to the Pushgateway at {fresh.url}: it answered HTTP 400 Bad Request "
        '(pushed metrics are invalid or inconsistent with existing metrics: collected metric "drill_run_failed"'
    )
    assert len(problems[0]) < 400


def test_a_url_with_a_query_is_refused_without_showing_it(job: str) -> None:
    url = "https://gw.example/?token=QUERYSECRET"

    problems = publish_metrics(passing_run(), settings_for(job), {"DRILL_PUSHGATEWAY": url}, {})

    assert problems == [
        "metrics: cannot push to the Pushgateway in DRILL_PUSHGATEWAY: the URL has a query or a "
        "fragment, which the Pushgateway API has no place for."
    ]


def test_an_unset_variable_is_a_problem_line_and_the_textfile_is_still_written(
    tmp_path: Path, job: str
) -> None:
    path = tmp_path / "drill.prom"

    problems = publish_metrics(passing_run(), settings_for(job, textfile=str(path)), {}, {})

    assert problems == ["metrics: environment variable DRILL_PUSHGATEWAY is not set; nothing was pushed."]
    assert values(path.read_text(), "drill_run_failed", "command") == {"run": 0.0}


def test_textfile_and_push_together(tmp_path: Path, gateway: Gateway, job: str) -> None:
    path = tmp_path / "drill.prom"
    settings = settings_for(job, textfile=str(path))

    assert (
        publish_metrics(failing_run(), settings, {"DRILL_PUSHGATEWAY": gateway.url}, {}, selection=()) == []
    )

    pushed = values(gateway.metrics(), "drill_failing_findings", "check", job=job)
    written = values(path.read_text(), "drill_failing_findings", "check")
    assert pushed == written
    assert written["restore"] == 2.0


def test_a_missing_pushgateway_skips_on_a_workstation_and_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        unavailable("prometheus-pushgateway is not installed.")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the Pushgateway tests"):
        unavailable("prometheus-pushgateway is not installed.")
