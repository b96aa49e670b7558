"""Prometheus metrics pushed to a real Pushgateway: groups per shard and command, credentials, and every way a push fails."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Histogram

from drill.config import MetricsSettings
from drill.model import Status
from drill.reports.metrics import (
    publish_metrics,
    push,
)
from tests.reports.metric_runs import (
    CHECK_IDS,
    STARTED,
    failing_run,
    passing_run,
    restore_finding,
)
from tests.reports.runs import finding, make_run, verified
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
