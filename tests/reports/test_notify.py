"""Notifications of a run: the message, the event rules, and delivery to a real local HTTP receiver."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest

from drill.config import NotifyEvent, NotifySettings
from drill.model import DrillRun, Severity, Status
from drill.reports.notify import MAX_TEXT, event_for, message, notify, origin, redact
from tests.reports.runs import at, drill, finding, make_run
from tests.reports.servers import Answer, all_text, closed_port, receiver, silent_listener

STARTED = at(20, 2)
REPORT = "/var/lib/drill/runs/20260721T020000Z-00000000/report.html"
HOOK_PATH = "/services/T000/B000/SECRETTOKEN"
PING_PATH = "/ping/0f1e2d3c-uuid-PINGSECRET?rid=QUERYSECRET"
SECRETS = ("SECRETTOKEN", "PINGSECRET", "QUERYSECRET", "/services/T000")

FAILURE, RECOVERY, SUCCESS = NotifyEvent.FAILURE, NotifyEvent.RECOVERY, NotifyEvent.SUCCESS


def failing_run() -> DrillRun:
    return make_run(
        STARTED,
        drill("orders", restore=Status.FAIL),
        finding(
            "freshness",
            Status.FAIL,
            database="billing",
            target="vault",
            message="Newest snapshot is 30h old (limit 26h).",
        ),
        finding("immutability", Status.ERROR, database=None, target="vault", message="Access denied."),
        finding("copies_3_2_1", database="billing"),
        databases=("orders", "billing"),
    )


def passing_run() -> DrillRun:
    return make_run(STARTED, drill("orders"), finding("copies_3_2_1", Status.WARN), databases=("orders",))


def settings(**overrides: Any) -> NotifySettings:
    fields: dict[str, Any] = {
        "webhook_env": "DRILL_WEBHOOK",
        "heartbeat_env": "DRILL_HEARTBEAT",
        "timeout": timedelta(seconds=0.5),
        "retries": 2,
    }
    fields.update(overrides)
    return NotifySettings(**fields)


def assert_no_secret(lines: list[str]) -> None:
    text = all_text(lines)
    for secret in SECRETS:
        assert secret not in text


# --- the message ---------------------------------------------------------------------------------


def test_a_failure_message_names_verdict_databases_failures_and_report() -> None:
    text = message(failing_run(), event=FAILURE, report=REPORT)["text"]
    lines = text.splitlines()

    assert lines[0] == "drill run FAILED (verdict fail) on orders, billing: 3 of 5 findings failing."
    # Worst first: the critical restore, then the high ones in run order.
    assert lines[1].startswith("• restore · orders: ")
    assert lines[2] == "• freshness · billing / vault: Newest snapshot is 30h old (limit 26h)."
    assert lines[3] == "• immutability · vault: Access denied."
    assert lines[-1] == f"Report: {REPORT}"


def test_a_passing_message_counts_warnings_and_lists_no_failure() -> None:
    text = message(passing_run(), event=SUCCESS, report=REPORT)["text"]

    assert text == (
        f"drill run passed (verdict warn) on orders: none of 3 findings failing, 1 warning.\nReport: {REPORT}"
    )


def test_a_recovery_message_says_so() -> None:
    text = message(passing_run(), event=RECOVERY, report=REPORT)["text"]

    assert text.startswith("drill run RECOVERED (verdict warn) on orders:")


def test_many_long_failures_are_cut_and_counted() -> None:
    long = "pg_restore: error: " + "x" * 5000 + "\nsecond line"
    run = make_run(
        STARTED,
        *(finding("restore", Status.FAIL, database=f"db{i}", message=long) for i in range(40)),
        databases=[f"db{i}" for i in range(40)],
    )

    text = message(run, event=FAILURE, report=REPORT)["text"]

    assert len(text) < MAX_TEXT
    lines = text.splitlines()
    assert "db0, db1" in lines[0]
    assert lines[0].endswith("db9 and 30 more: 40 of 40 findings failing.")
    assert [line for line in lines if line.startswith("• ")] == [
        f"• restore · db{i}: " + long[:199].replace("\n", " ") + "…" for i in range(5)
    ]
    assert "... and 35 more failing findings." in lines


def test_the_text_is_capped_even_with_a_huge_report_path() -> None:
    assert len(message(failing_run(), event=FAILURE, report="/r" * 4000)["text"]) == MAX_TEXT


@pytest.mark.parametrize("offset", range(5))
def test_the_cap_holds_after_escaping_and_never_cuts_an_entity(offset: int) -> None:
    text = message(failing_run(), event=FAILURE, report="x" * offset + "&" * 4000)["text"]

    assert len(text) <= MAX_TEXT
    assert text.endswith("&amp;…")


def test_slack_markup_in_a_message_is_escaped() -> None:
    run = make_run(STARTED, finding("freshness", Status.FAIL, message="<!channel> key a&b <http://x|y>"))

    text = message(run, event=FAILURE, report=REPORT)["text"]

    assert "&lt;!channel&gt; key a&amp;b &lt;http://x|y&gt;" in text
    assert "<" not in text


# --- the event -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("run_fails", "previous", "wanted", "expected"),
    [
        (True, None, (FAILURE,), FAILURE),
        (True, None, (RECOVERY, SUCCESS), None),
        (True, {"status": "fail"}, (FAILURE, RECOVERY), FAILURE),
        (False, None, (FAILURE,), None),
        (False, None, (SUCCESS,), SUCCESS),
        (False, {"status": "fail"}, (FAILURE, RECOVERY), RECOVERY),
        (False, {"status": "error"}, (RECOVERY,), RECOVERY),
        (False, {"status": "pass"}, (FAILURE, RECOVERY), None),
        (False, {"status": "warn"}, (RECOVERY,), None),
        (False, None, (RECOVERY,), None),  # no previous run: nothing to recover from
        (False, {"status": "fail"}, (RECOVERY, SUCCESS), RECOVERY),  # recovery wins
        (False, {"status": "fail"}, (SUCCESS,), SUCCESS),
        (False, {"status": "nonsense"}, (RECOVERY,), None),
        (False, {}, (RECOVERY,), None),
    ],
)
def test_event_rules(
    run_fails: bool,
    previous: dict[str, Any] | None,
    wanted: tuple[NotifyEvent, ...],
    expected: NotifyEvent | None,
) -> None:
    run = failing_run() if run_fails else passing_run()

    assert event_for(run, previous, wanted) is expected


def test_an_error_run_is_a_failure() -> None:
    run = make_run(STARTED, finding("immutability", Status.ERROR, severity=Severity.CRITICAL))

    assert event_for(run, None, (FAILURE,)) is FAILURE


# --- delivery ------------------------------------------------------------------------------------


def test_a_failing_run_posts_one_message_and_no_heartbeat() -> None:
    with receiver() as hook:
        environ = {"DRILL_WEBHOOK": hook.url(HOOK_PATH), "DRILL_HEARTBEAT": hook.url(PING_PATH)}
        problems = notify(failing_run(), settings(), environ, previous=None, report=REPORT)

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

    assert problems == ["notify: environment variable DRILL_WEBHOOK is not set; no failure message was sent."]


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


# --- what a line may show of a URL ---------------------------------------------------------------


def test_origin_keeps_scheme_host_and_port_only() -> None:
    assert origin("https://user:pw@hooks.slack.com/services/T0/B0/TOKEN?x=1#f") == "https://hooks.slack.com"
    assert origin("http://[::1]:8080/p") == "http://[::1]:8080"


def test_redact_takes_out_path_pieces_query_values_and_credentials() -> None:
    url = "https://drill:hunter22@hc.example/ping/abcdef123456?token=QUERYSECRET"

    text = redact("saw /ping/abcdef123456 and abcdef123456 and QUERYSECRET from hunter22", url)

    assert text == "saw … and … and … from …"
