"""Retries against a real local HTTP server: Retry-After in both its forms, 503, and the bounds on the
wait and on the whole delivery. Gaps are measured between the requests' arrivals at the server, and
only their lower bounds are asserted (a pause is never shorter than asked; a loaded machine may
make it longer)."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from itertools import pairwise

import pytest

from drill.reports.delivery import Retrying, retry_after, send
from drill.reports.notify import notify
from drill.stopping import SWITCH
from tests.reports.notify_runs import HOOK_PATH, REPORT, SECRETS, failing_run, settings
from tests.reports.servers import Answer, Recorded, all_text, receiver

NOW = datetime(2026, 7, 21, 2, 0, tzinfo=UTC)
LENIENT = Retrying(retries=3, max_wait=30, max_time=60)


def gaps(requests: list[Recorded]) -> list[float]:
    return [later.at - earlier.at for earlier, later in pairwise(requests)]


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


# --- reading the header ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("Tue, 21 Jul 2026 02:00:30 GMT", 30.0),
        ("Tuesday, 21-Jul-26 02:01:00 GMT", 60.0),  # RFC 850, obsolete but still allowed
        ("Tue Jul 21 02:00:05 2026", 5.0),  # asctime, likewise
        ("Mon, 20 Jul 2026 02:00:00 GMT", 0.0),  # already past: no wait
        ("99999999999999999999", float("inf")),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(header: str, seconds: float) -> None:
    assert retry_after(header, NOW) == seconds


@pytest.mark.parametrize("header", [None, "", "soon", "-5", "1.5", "Tue, 99 Jul 2026 02:00:30 GMT"])
def test_an_unreadable_retry_after_is_ignored(header: str | None) -> None:
    assert retry_after(header, NOW) is None


# --- honouring it -----------------------------------------------------------------------------------


def test_429_with_retry_after_in_seconds_waits_that_long_before_the_retry() -> None:
    with receiver(Answer(429, "rate_limited", headers=(("Retry-After", "2"),))) as hook:
        reason = send("POST", hook.url(HOOK_PATH), payload={"text": "x"}, timeout=5, retrying=LENIENT)

    assert reason is None
    assert len(hook.requests) == 2
    assert gaps(hook.requests)[0] >= 2.0  # the backoff alone would have paused 0.5 s


def test_429_with_retry_after_as_an_http_date_waits_until_then() -> None:
    # An HTTP-date has whole seconds: three seconds ahead asks for a wait of more than two.
    until = http_date(datetime.now(UTC) + timedelta(seconds=3))
    with receiver(Answer(429, headers=(("Retry-After", until),))) as hook:
        reason = send("POST", hook.url(HOOK_PATH), payload={"text": "x"}, timeout=5, retrying=LENIENT)

    assert reason is None
    assert len(hook.requests) == 2
    assert gaps(hook.requests)[0] >= 1.9


def test_503_with_retry_after_is_retried_after_it() -> None:
    with receiver(Answer(503, "maintenance", headers=(("Retry-After", "1"),))) as hook:
        reason = send("GET", hook.url("/ping/x"), timeout=5, retrying=LENIENT)

    assert reason is None
    assert gaps(hook.requests)[0] >= 1.0


def test_a_retry_after_shorter_than_the_backoff_does_not_shorten_it() -> None:
    answers = (Answer(503), Answer(503), Answer(503, headers=(("Retry-After", "0"),)))
    with receiver(*answers) as hook:
        reason = send("GET", hook.url("/ping/x"), timeout=5, retrying=LENIENT)

    assert reason is None
    assert gaps(hook.requests)[2] >= 2.0  # the third pause is 2 s whatever the server said


def test_an_unreadable_retry_after_falls_back_to_the_backoff() -> None:
    with receiver(Answer(429, headers=(("Retry-After", "whenever"),))) as hook:
        reason = send("GET", hook.url("/ping/x"), timeout=5, retrying=LENIENT)

    assert reason is None
    assert len(hook.requests) == 2


# --- the bounds -------------------------------------------------------------------------------------


def test_a_retry_after_beyond_max_retry_wait_is_not_waited_for() -> None:
    with receiver(Answer(429, "slow_down", headers=(("Retry-After", "3600"),))) as hook:
        problems = notify(
            failing_run(),
            settings(heartbeat_env=None, max_retry_wait=timedelta(seconds=30)),
            {"DRILL_WEBHOOK": hook.url(HOOK_PATH)},
            previous=None,
            report=REPORT,
        )

    assert len(hook.requests) == 1
    assert problems == [
        f"notify: cannot post the failure message to the webhook at http://127.0.0.1:{hook.port}: "
        "it answered HTTP 429 (slow_down) and asked to be retried in 3600 s, longer than "
        "max_retry_wait (30 s), after 1 attempt."
    ]


def test_an_http_date_tomorrow_is_beyond_the_wait_limit_too() -> None:
    tomorrow = http_date(datetime.now(UTC) + timedelta(days=1))
    with receiver(Answer(503, headers=(("Retry-After", tomorrow),))) as hook:
        reason = send("GET", hook.url("/ping/x"), timeout=5, retrying=LENIENT)

    assert len(hook.requests) == 1
    assert reason is not None and "longer than max_retry_wait (30 s)" in reason


def test_max_retry_time_bounds_the_whole_delivery() -> None:
    always_busy = [Answer(503, headers=(("Retry-After", "1"),))] * 10
    with receiver(*always_busy) as hook:
        reason = send(
            "GET", hook.url("/ping/x"), timeout=0.5, retrying=Retrying(retries=10, max_wait=30, max_time=2)
        )

    # 0 s: first attempt; a 1 s pause; then another pause of 1 s would leave less than the
    # 0.5 s an attempt needs before the 2 s are up.
    assert len(hook.requests) == 2
    assert reason == (
        "it answered HTTP 503 (ok); max_retry_time (2 s) leaves no room for another attempt, after 2 attempts"
    )


def test_a_stopped_run_does_not_wait_to_retry() -> None:
    SWITCH.reset()
    SWITCH.stop(signal.SIGTERM)
    try:
        with receiver(Answer(503, headers=(("Retry-After", "20"),))) as hook:
            reason = send("GET", hook.url("/ping/x"), timeout=5, retrying=LENIENT)
    finally:
        SWITCH.reset()

    assert len(hook.requests) == 1
    assert reason is not None and reason.endswith(
        "not retried: the run was interrupted by SIGTERM, after 1 attempt"
    )


def test_a_problem_line_after_retries_shows_no_token() -> None:
    with receiver(
        Answer(429, f"limited {HOOK_PATH}", headers=(("Retry-After", "1"),)),
        Answer(429, "SECRETTOKEN refused", headers=(("Retry-After", "600"),)),
    ) as hook:
        problems = notify(
            failing_run(),
            settings(heartbeat_env=None),
            {"DRILL_WEBHOOK": hook.url(HOOK_PATH)},
            previous=None,
            report=REPORT,
        )

    assert len(hook.requests) == 2
    assert len(problems) == 1 and "after 2 attempts" in problems[0]
    text = all_text(problems)
    assert all(secret not in text for secret in SECRETS)
