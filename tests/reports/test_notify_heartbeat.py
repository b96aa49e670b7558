"""The heartbeat against a real local server recording its pings: healthchecks.io's /start, success
and /fail, and the plain style that pings after passing runs only."""

from __future__ import annotations

import time

from drill.config import HeartbeatStyle
from drill.reports.notify import START_BUDGET_SECONDS, heartbeat_url, notify, notify_start
from tests.reports.notify_runs import PING_PATH, REPORT, SECRETS, failing_run, passing_run, settings
from tests.reports.servers import Answer, all_text, receiver

START = "/ping/0f1e2d3c-uuid-PINGSECRET/start?rid=QUERYSECRET"
FAIL = "/ping/0f1e2d3c-uuid-PINGSECRET/fail?rid=QUERYSECRET"


def test_signals_go_before_the_query_as_healthchecks_io_expects() -> None:
    assert heartbeat_url("https://hc-ping.com/5bf6-uuid", "start") == "https://hc-ping.com/5bf6-uuid/start"
    assert heartbeat_url("https://hc-ping.com/key/slug/", "fail") == "https://hc-ping.com/key/slug/fail"
    assert heartbeat_url("https://hc.example/ping/u?rid=1", "fail") == "https://hc.example/ping/u/fail?rid=1"
    assert heartbeat_url("https://hc.example/ping/u?rid=1", None) == "https://hc.example/ping/u?rid=1"


def test_a_passing_run_signals_start_then_success() -> None:
    with receiver() as server:
        environ = {"DRILL_HEARTBEAT": server.url(PING_PATH)}
        started = notify_start(settings(webhook_env=None), environ)
        ended = notify(passing_run(), settings(webhook_env=None), environ, previous=None, report=REPORT)

    assert started == [] and ended == []
    assert [(request.method, request.path) for request in server.requests] == [
        ("GET", START),
        ("GET", PING_PATH),
    ]


def test_a_failing_run_signals_start_then_fail() -> None:
    with receiver() as server:
        environ = {"DRILL_HEARTBEAT": server.url(PING_PATH)}
        started = notify_start(settings(webhook_env=None), environ)
        ended = notify(failing_run(), settings(webhook_env=None), environ, previous=None, report=REPORT)

    assert started == [] and ended == []
    assert [request.path for request in server.requests] == [START, FAIL]


def test_a_failing_run_signals_fail_besides_posting_its_message() -> None:
    with receiver() as server:
        environ = {"DRILL_WEBHOOK": server.url("/hook/ABCDEFGH"), "DRILL_HEARTBEAT": server.url(PING_PATH)}
        problems = notify(failing_run(), settings(), environ, previous=None, report=REPORT)

    assert problems == []
    assert [(request.method, request.path) for request in server.requests] == [
        ("POST", "/hook/ABCDEFGH"),
        ("GET", FAIL),
    ]


def test_the_plain_style_sends_no_start_and_nothing_for_a_failing_run() -> None:
    plain = settings(webhook_env=None, heartbeat_style=HeartbeatStyle.PLAIN)
    with receiver() as server:
        environ = {"DRILL_HEARTBEAT": server.url(PING_PATH)}
        assert notify_start(plain, environ) == []
        assert notify(failing_run(), plain, environ, previous=None, report=REPORT) == []
        assert server.requests == []
        assert notify(passing_run(), plain, environ, previous=None, report=REPORT) == []

    assert [request.path for request in server.requests] == [PING_PATH]


def test_a_heartbeat_that_fails_to_hear_the_start_is_one_line_without_its_token() -> None:
    with receiver(Answer(500, f"cannot store {START}"), Answer(404, "PINGSECRET unknown")) as server:
        problems = notify_start(
            settings(webhook_env=None, retries=1), {"DRILL_HEARTBEAT": server.url(PING_PATH)}
        )

    assert problems == [
        f"notify: cannot signal the start to the heartbeat at http://127.0.0.1:{server.port}: "
        "it answered HTTP 404 (… unknown), after 2 attempts."
    ]
    assert all(secret not in all_text(problems) for secret in SECRETS)


def test_a_fail_signal_that_cannot_be_sent_is_one_line_without_its_token() -> None:
    with receiver(Answer(410, "gone")) as server:
        problems = notify(
            failing_run(),
            settings(webhook_env=None),
            {"DRILL_HEARTBEAT": server.url(PING_PATH)},
            previous=None,
            report=REPORT,
        )

    assert problems == [
        f"notify: cannot signal the failure to the heartbeat at http://127.0.0.1:{server.port}: "
        "it answered HTTP 410 (gone), after 1 attempt."
    ]


def test_start_is_silent_without_a_heartbeat_or_its_variable() -> None:
    assert notify_start(settings(heartbeat_env=None), {}) == []
    assert notify_start(settings(), {}) == []  # the end of the run says once that it is unset


def test_a_heartbeat_asking_to_wait_does_not_hold_up_the_run_past_the_start_budget() -> None:
    # The configured bounds allow two minutes of pauses; the start of a drill is not delayed by them.
    slow = Answer(429, "rate_limited", headers=(("Retry-After", "600"),))
    with receiver(slow, slow, slow) as server:
        began = time.monotonic()
        problems = notify_start(
            settings(webhook_env=None, retries=2), {"DRILL_HEARTBEAT": server.url(PING_PATH)}
        )
        waited = time.monotonic() - began

    assert waited < START_BUDGET_SECONDS + 5
    assert len(problems) == 1 and "cannot signal the start" in problems[0]
    assert all(secret not in all_text(problems) for secret in SECRETS)
