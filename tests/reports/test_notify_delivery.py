"""Notifications delivered to a real local HTTP receiver: when a message and a heartbeat go, retries, timeouts, and problem lines that show no secret."""

from __future__ import annotations

import time

from drill.config import HeartbeatStyle, NotifySettings
from drill.reports.notify import notify
from tests.reports.notify_runs import (
    FAILURE,
    HOOK_PATH,
    PING_PATH,
    RECOVERY,
    REPORT,
    SECRETS,
    SUCCESS,
    failing_run,
    passing_run,
    settings,
)
from tests.reports.servers import Answer, all_text, closed_port, receiver, silent_listener


def assert_no_secret(lines: list[str]) -> None:
    text = all_text(lines)
    for secret in SECRETS:
        assert secret not in text


# --- delivery ------------------------------------------------------------------------------------


def test_a_failing_run_posts_one_message_and_no_plain_heartbeat() -> None:
    with receiver() as hook:
        environ = {"DRILL_WEBHOOK": hook.url(HOOK_PATH), "DRILL_HEARTBEAT": hook.url(PING_PATH)}
        plain = settings(heartbeat_style=HeartbeatStyle.PLAIN)
        problems = notify(failing_run(), plain, environ, previous=None, report=REPORT)

    assert problems == []
    assert [(request.method, request.path) for request in hook.requests] == [("POST", HOOK_PATH)]
    posted = hook.requests[0]
    assert posted.headers["content-type"] == "application/json"
    assert set(posted.json()) == {"text"}
    assert "restore · orders" in posted.json()["text"]
    assert "freshness · billing / vault: Newest snapshot is 30h old" in posted.json()["text"]


def test_a_passing_run_posts_nothing_when_only_failure_is_wanted_but_pings_the_heartbeat() -> None:
    with receiver() as server:
        environ = {"DRILL_WEBHOOK": server.url(HOOK_PATH), "DRILL_HEARTBEAT": server.url(PING_PATH)}
        problems = notify(passing_run(), settings(on=(FAILURE,)), environ, previous=None, report=REPORT)

    assert problems == []
    assert [(request.method, request.path) for request in server.requests] == [("GET", PING_PATH)]


def test_a_recovery_after_a_failing_run_posts_a_recovery_message() -> None:
    with receiver() as server:
        environ = {"DRILL_WEBHOOK": server.url(HOOK_PATH)}
        problems = notify(
            passing_run(),
            settings(on=(FAILURE, RECOVERY), heartbeat_env=None),
            environ,
            previous={"status": "fail", "command": "run"},
            report=REPORT,
        )

    assert problems == []
    assert len(server.to(HOOK_PATH)) == 1
    assert server.to(HOOK_PATH)[0].json()["text"].startswith("drill run RECOVERED")


def test_a_passing_run_after_a_passing_run_posts_nothing() -> None:
    with receiver() as server:
        environ = {"DRILL_WEBHOOK": server.url(HOOK_PATH)}
        problems = notify(
            passing_run(),
            settings(on=(FAILURE, RECOVERY), heartbeat_env=None),
            environ,
            previous={"status": "pass"},
            report=REPORT,
        )

    assert problems == []
    assert server.requests == []


def test_two_server_errors_then_success_take_three_attempts_with_growing_pauses() -> None:
    with receiver(Answer(500), Answer(503)) as hook:
        started = time.monotonic()
        problems = notify(
            failing_run(),
            settings(heartbeat_env=None),
            {"DRILL_WEBHOOK": hook.url(HOOK_PATH)},
            previous=None,
            report=REPORT,
        )
        elapsed = time.monotonic() - started

    assert problems == []
    assert len(hook.to(HOOK_PATH)) == 3
    assert hook.requests[0].body == hook.requests[2].body
    assert 1.5 <= elapsed < 3  # 0.5 s, then 1 s


def test_too_many_requests_is_retried() -> None:
    with receiver(Answer(429, "rate_limited")) as hook:
        problems = notify(
            failing_run(),
            settings(heartbeat_env=None, retries=1),
            {"DRILL_WEBHOOK": hook.url(HOOK_PATH)},
            previous=None,
            report=REPORT,
        )

    assert problems == []
    assert len(hook.requests) == 2


def test_server_errors_that_never_stop_are_a_problem_line() -> None:
    with receiver(Answer(500), Answer(500)) as hook:
        problems = notify(
            failing_run(),
            settings(heartbeat_env=None, retries=1),
            {"DRILL_WEBHOOK": hook.url(HOOK_PATH)},
            previous=None,
            report=REPORT,
        )

    assert problems == [
        f"notify: cannot post the failure message to the webhook at http://127.0.0.1:{hook.port}: "
        "it answered HTTP 500 (ok), after 2 attempts."
    ]
    assert len(hook.requests) == 2


def test_not_found_is_not_retried_and_its_echo_of_the_token_is_not_shown() -> None:
    with receiver(Answer(404, f"no_service: {HOOK_PATH} (token SECRETTOKEN)")) as hook:
        problems = notify(
            failing_run(),
            settings(heartbeat_env=None),
            {"DRILL_WEBHOOK": hook.url(HOOK_PATH)},
            previous=None,
            report=REPORT,
        )

    assert len(hook.requests) == 1
    assert len(problems) == 1
    assert problems[0].startswith(
        f"notify: cannot post the failure message to the webhook at http://127.0.0.1:{hook.port}: "
        "it answered HTTP 404 (no_service: "
    )
    assert problems[0].endswith("after 1 attempt.")
    assert_no_secret(problems)


def test_an_html_error_page_is_not_quoted() -> None:
    with receiver(Answer(403, "<html>" + "x" * 500 + "</html>", "text/html")) as hook:
        problems = notify(
            failing_run(),
            settings(heartbeat_env=None),
            {"DRILL_WEBHOOK": hook.url(HOOK_PATH)},
            previous=None,
            report=REPORT,
        )

    assert problems == [
        f"notify: cannot post the failure message to the webhook at http://127.0.0.1:{hook.port}: "
        "it answered HTTP 403, after 1 attempt."
    ]


def test_a_webhook_that_never_answers_times_out_on_every_attempt() -> None:
    with silent_listener() as port:
        url = f"http://127.0.0.1:{port}{HOOK_PATH}"
        started = time.monotonic()
        problems = notify(
            failing_run(),
            settings(heartbeat_env=None, retries=1),
            {"DRILL_WEBHOOK": url},
            previous=None,
            report=REPORT,
        )
        elapsed = time.monotonic() - started

    assert problems == [
        f"notify: cannot post the failure message to the webhook at http://127.0.0.1:{port}: "
        "no answer within 0.5 s, after 2 attempts."
    ]
    assert 1.4 <= elapsed < 2.5  # two timeouts of 0.5 s and one pause of 0.5 s


def test_an_unreachable_webhook_is_a_problem_line() -> None:
    with closed_port() as port:
        problems = notify(
            failing_run(),
            settings(heartbeat_env=None, retries=0),
            {"DRILL_WEBHOOK": f"http://127.0.0.1:{port}{HOOK_PATH}"},
            previous=None,
            report=REPORT,
        )

    assert problems == [
        f"notify: cannot post the failure message to the webhook at http://127.0.0.1:{port}: "
        "cannot connect (Connection refused), after 1 attempt."
    ]


def test_an_unreachable_heartbeat_is_a_problem_line_without_its_token() -> None:
    with closed_port() as port:
        problems = notify(
            passing_run(),
            settings(webhook_env=None, retries=0),
            {"DRILL_HEARTBEAT": f"http://127.0.0.1:{port}{PING_PATH}"},
            previous=None,
            report=REPORT,
        )

    assert problems == [
        f"notify: cannot ping the heartbeat at http://127.0.0.1:{port}: "
        "cannot connect (Connection refused), after 1 attempt."
    ]
    assert_no_secret(problems)


def test_a_heartbeat_that_fails_still_lets_the_message_go() -> None:
    with receiver(Answer(200), Answer(410, "gone")) as server:
        environ = {"DRILL_WEBHOOK": server.url(HOOK_PATH), "DRILL_HEARTBEAT": server.url(PING_PATH)}
        problems = notify(passing_run(), settings(on=(SUCCESS,)), environ, previous=None, report=REPORT)

    assert [request.method for request in server.requests] == ["POST", "GET"]
    assert problems == [
        f"notify: cannot ping the heartbeat at http://127.0.0.1:{server.port}: "
        "it answered HTTP 410 (gone), after 1 attempt."
    ]


def test_an_unset_variable_is_a_problem_line() -> None:
    problems = notify(failing_run(), settings(), {}, previous=None, report=REPORT)

    assert problems == [
        "notify: environment variable DRILL_WEBHOOK is not set; no failure message was sent.",
        "notify: environment variable DRILL_HEARTBEAT is not set; the heartbeat was not pinged.",
    ]


def test_an_invalid_url_is_a_problem_line_without_the_url() -> None:
    url = "http://exa mple.invalid:99999/services/T000/B000/SECRETTOKEN"

    problems = notify(
        failing_run(), settings(heartbeat_env=None), {"DRILL_WEBHOOK": url}, previous=None, report=REPORT
    )

    assert len(problems) == 1
    assert problems[0].startswith("notify: cannot post the failure message to the webhook at ")
    assert_no_secret(problems)


def test_nothing_configured_sends_nothing() -> None:
    assert notify(failing_run(), NotifySettings(), {}, previous=None, report=REPORT) == []
