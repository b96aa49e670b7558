"""Telling people about a finished run: a chat message on the events they asked for, and a heartbeat.

Events (``event_for``), one per run at most:

- ``failure``: the run failed or could not verify something (``fail`` or ``error``).
- ``recovery``: the run passed and the previous run of the same command over the same databases
  (``history.previous_run``) had failed. It wins over ``success`` when both are wanted.
- ``success``: the run passed.

The message is a Slack-compatible incoming-webhook payload, ``{"text": ...}``: plain text holding
the verdict, the command, the databases, the first few failing findings and the report's path.

The heartbeat is a dead man's switch. In healthchecks.io's style (``heartbeat_style``, the
default) it is told three things, so that its alerts tell "ran and failed" from "did not run":
``<url>/start`` as a run begins (``notify_start``), ``<url>`` when it passes and ``<url>/fail``
when it does not (a query such as ``?rid=...`` stays after the path). In the ``plain`` style, for
monitors that know no signals (Cronitor, Uptime Kuma push monitors), it is one GET after every
*passing* run only: silence then means either a failure or a drill that stopped running.

Nothing here raises for a network problem: ``notify`` and ``notify_start`` return one line per
problem, which shows ``scheme://host[:port]`` only (``drill.reports.delivery``), and never change
the run's verdict.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from drill.config import HeartbeatStyle, NotifyEvent, NotifySettings
from drill.model import DrillRun, Finding, Severity, Status
from drill.reports.delivery import Retrying, origin, redact, send

# The metrics push reports its trouble the same way.
__all__ = ["event_for", "message", "notify", "notify_start", "origin", "redact"]

# The message stays well under Slack's 3,000 characters for a section and 4,000 for a text.
MAX_TEXT = 3000
MAX_FINDINGS = 5  # failing findings listed by name; the rest are counted
MAX_FINDING_MESSAGE = 200
MAX_DATABASES = 10

_HEADLINES = {
    NotifyEvent.FAILURE: "FAILED",
    NotifyEvent.RECOVERY: "RECOVERED",
    NotifyEvent.SUCCESS: "passed",
}
_SEVERITY_RANK = {severity: rank for rank, severity in enumerate(Severity)}


def event_for(
    run: DrillRun, previous: Mapping[str, Any] | None, wanted: Iterable[NotifyEvent]
) -> NotifyEvent | None:
    """The event this run is, if it is one the config asks to hear about."""
    wanted = tuple(wanted)
    if run.status.is_failing:
        return NotifyEvent.FAILURE if NotifyEvent.FAILURE in wanted else None
    if NotifyEvent.RECOVERY in wanted and _was_failing(previous):
        return NotifyEvent.RECOVERY
    return NotifyEvent.SUCCESS if NotifyEvent.SUCCESS in wanted else None


def _was_failing(previous: Mapping[str, Any] | None) -> bool:
    if previous is None:
        return False
    try:
        return Status(str(previous.get("status"))).is_failing
    except ValueError:  # a hand-edited or foreign history line: no verdict, so no recovery
        return False


def message(run: DrillRun, *, event: NotifyEvent, report: str) -> dict[str, Any]:
    """The chat message of a run: a Slack-compatible ``{"text": ...}`` payload, plain text."""
    failing = sorted(
        (finding for finding in run.findings if finding.status.is_failing),
        key=lambda finding: -_SEVERITY_RANK[finding.severity],
    )
    counts = run.counts()
    lines = [
        f"drill {run.command} {_HEADLINES[event]} (verdict {run.status.value}) on {_databases(run)}: "
        + _tally(len(failing), len(run.findings), counts[Status.WARN.value])
    ]
    lines += [_finding_line(finding) for finding in failing[:MAX_FINDINGS]]
    if len(failing) > MAX_FINDINGS:
        more = len(failing) - MAX_FINDINGS
        lines.append(f"... and {more} more failing finding{'s' if more != 1 else ''}.")
    lines.append(f"Report: {report}")
    text = _slack_escaped("\n".join(lines))
    if len(text) > MAX_TEXT:
        # Cut after escaping, so that escaping cannot take the text over; never inside an entity.
        text = re.sub(r"&[a-z]*$", "", text[: MAX_TEXT - 1]) + "…"
    return {"text": text}


def _databases(run: DrillRun) -> str:
    names = [covered.name for covered in run.coverage.databases]
    if not names:
        return "no database"
    shown = ", ".join(names[:MAX_DATABASES])
    return shown + (f" and {len(names) - MAX_DATABASES} more" if len(names) > MAX_DATABASES else "")


def _tally(failing: int, total: int, warnings: int) -> str:
    warned = f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""
    if failing:
        return f"{failing} of {total} findings failing{warned}."
    return f"none of {total} findings failing{warned}."


def _finding_line(finding: Finding) -> str:
    text = " ".join(finding.message.split())  # a pg_restore error spans lines; one line per finding here
    if len(text) > MAX_FINDING_MESSAGE:
        text = text[: MAX_FINDING_MESSAGE - 1] + "…"
    return f"• {finding.check} · {finding.subject}: {text}"


def _slack_escaped(text: str) -> str:
    # Slack reads <...> as links and mentions (<!channel> would page everyone), so a bucket key or
    # an error message must not open one: https://api.slack.com/reference/surfaces/formatting#escaping
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def notify(
    run: DrillRun,
    settings: NotifySettings,
    environ: Mapping[str, str],
    *,
    previous: Mapping[str, Any] | None,
    report: str,
) -> list[str]:
    """Post the run's message if an event applies, and tell the heartbeat how the run ended; never raises.

    ``previous`` is the history line of the previous run (``history.previous_run``). Returns one
    line per problem, for stderr.
    """
    problems: list[str] = []
    timeout = settings.timeout.total_seconds()
    event = event_for(run, previous, settings.on)
    if settings.webhook_env and event is not None:
        url = environ.get(settings.webhook_env)
        if not url:
            problems.append(
                f"notify: environment variable {settings.webhook_env} is not set; no {event.value} message was sent."
            )
        else:
            payload = message(run, event=event, report=report)
            reason = send("POST", url, payload=payload, timeout=timeout, retrying=retrying(settings))
            if reason:
                problems.append(
                    f"notify: cannot post the {event.value} message to the webhook at {origin(url)}: {reason}."
                )
    failing = run.status.is_failing
    if settings.heartbeat_env and (settings.heartbeat_style is HeartbeatStyle.HEALTHCHECKS or not failing):
        url = environ.get(settings.heartbeat_env)
        if not url:
            problems.append(
                f"notify: environment variable {settings.heartbeat_env} is not set; the heartbeat was not pinged."
            )
        else:
            signal = "fail" if failing else None
            reason = send("GET", heartbeat_url(url, signal), timeout=timeout, retrying=retrying(settings))
            if reason:
                told = "signal the failure to" if signal else "ping"
                problems.append(f"notify: cannot {told} the heartbeat at {origin(url)}: {reason}.")
    return problems


def notify_start(settings: NotifySettings, environ: Mapping[str, str]) -> list[str]:
    """Tell a healthchecks-style heartbeat that a run begins (``<url>/start``); never raises.

    Silent when the style is ``plain`` or the variable is unset (the end of the run reports that).
    """
    if not settings.heartbeat_env or settings.heartbeat_style is not HeartbeatStyle.HEALTHCHECKS:
        return []
    url = environ.get(settings.heartbeat_env)
    if not url:
        return []
    reason = send(
        "GET",
        heartbeat_url(url, "start"),
        timeout=min(settings.timeout.total_seconds(), START_BUDGET_SECONDS),
        retrying=start_retrying(settings),
    )
    return [f"notify: cannot signal the start to the heartbeat at {origin(url)}: {reason}."] if reason else []


def heartbeat_url(url: str, signal: str | None) -> str:
    """healthchecks.io's signal endpoints: ``<url>/start`` and ``<url>/fail``, any query kept after the path."""
    if signal is None:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:  # the request reports it, without the URL
        return url
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}/{signal}"))


# The start signal holds up the drill it announces: a heartbeat server asking to be retried later gets
# this much of the run's time, no more; the end of the run still reports what happened.
START_BUDGET_SECONDS = 10.0


def start_retrying(settings: NotifySettings) -> Retrying:
    """The start signal's bounds: the configured ones, capped so that a run never waits long to begin."""
    configured = retrying(settings)
    return Retrying(
        retries=configured.retries,
        max_wait=min(configured.max_wait, START_BUDGET_SECONDS),
        max_time=min(configured.max_time, START_BUDGET_SECONDS),
    )


def retrying(settings: NotifySettings) -> Retrying:
    return Retrying(
        retries=settings.retries,
        max_wait=settings.max_retry_wait.total_seconds(),
        max_time=settings.max_retry_time.total_seconds(),
    )
