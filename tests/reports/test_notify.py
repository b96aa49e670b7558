"""Notifications of a run: the message, the event rules, and what a line may show of a URL."""

from __future__ import annotations

from typing import Any

import pytest

from drill.config import NotifyEvent
from drill.model import Severity, Status
from drill.reports.notify import MAX_TEXT, event_for, message, origin, redact
from tests.reports.notify_runs import (
    FAILURE,
    RECOVERY,
    REPORT,
    STARTED,
    SUCCESS,
    failing_run,
    passing_run,
)
from tests.reports.runs import finding, make_run

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


# --- what a line may show of a URL ---------------------------------------------------------------


def test_origin_keeps_scheme_host_and_port_only() -> None:
    assert origin("https://user:pw@hooks.slack.com/services/T0/B0/TOKEN?x=1#f") == "https://hooks.slack.com"
    assert origin("http://[::1]:8080/p") == "http://[::1]:8080"


def test_redact_takes_out_path_pieces_query_values_and_credentials() -> None:
    url = "https://drill:hunter22@hc.example/ping/abcdef123456?token=QUERYSECRET"

    text = redact("saw /ping/abcdef123456 and abcdef123456 and QUERYSECRET from hunter22", url)

    assert text == "saw … and … and … from …"
