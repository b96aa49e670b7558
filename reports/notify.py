"""Telling people about a finished run: a chat message on the events they asked for, and a heartbeat.

Events (``event_for``), one per run at most:

- ``failure``: the run failed or could not verify something (``fail`` or ``error``).
- ``recovery``: the run passed and the previous run of the same command over the same databases
  (``history.previous_run``) had failed. It wins over ``success`` when both are wanted.
- ``success``: the run passed.

The message is a Slack-compatible incoming-webhook payload, ``{"text": ...}``: plain text holding
the verdict, the command, the databases, the first few failing findings and the report's path.

The heartbeat is a dead man's switch (healthchecks.io, Cronitor, Uptime Kuma push monitors): a
GET after every *passing* run only, so that silence means either a failure or a drill that stopped
running, and the monitor alerts on both without drill having to be alive to say so.

Nothing here raises for a network problem: ``notify`` returns one line per problem. Webhook URLs
carry their secret in the path (Slack's ``/services/T.../B.../TOKEN``) and heartbeat URLs in the
path or the query, so a line shows ``scheme://host[:port]`` only, and nothing a server answered
that repeats part of the URL.
"""

from __future__ import annotations

import http.client
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

import requests

from drill.config import NotifyEvent, NotifySettings
from drill.model import DrillRun, Finding, Severity, Status

# The message stays well under Slack's 3,000 characters for a section and 4,000 for a text.
MAX_TEXT = 3000
MAX_FINDINGS = 5  # failing findings listed by name; the rest are counted
MAX_FINDING_MESSAGE = 200
MAX_DATABASES = 10
FIRST_PAUSE = 0.5  # seconds before the first retry; doubled before each further one
_MAX_BODY = 120  # characters of a server's short text answer quoted in a problem line

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
    """Post the run's message if an event applies, ping the heartbeat if the run passed; never raises.

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
            reason = send("POST", url, payload=payload, timeout=timeout, retries=settings.retries)
            if reason:
                problems.append(
                    f"notify: cannot post the {event.value} message to the webhook at {origin(url)}: {reason}."
                )
    if settings.heartbeat_env and not run.status.is_failing:
        url = environ.get(settings.heartbeat_env)
        if not url:
            problems.append(
                f"notify: environment variable {settings.heartbeat_env} is not set; the heartbeat was not pinged."
            )
        else:
            reason = send("GET", url, timeout=timeout, retries=settings.retries)
            if reason:
                problems.append(f"notify: cannot ping the heartbeat at {origin(url)}: {reason}.")
    return problems


def send(
    method: str,
    url: str,
    *,
    payload: Mapping[str, Any] | None = None,
    timeout: float,
    retries: int,
) -> str | None:
    """One request with retries; None on a 2xx answer, else why not (safe to print).

    Retried: connection errors, timeouts, 429 and 5xx, after 0.5 s, 1 s, 2 s... Not retried: any
    other answer (a 404 stays a 404), and a redirect of the webhook's POST, which would turn it into
    a GET or hand the payload to another host.
    """
    attempts = 1 + retries
    reason = "not attempted"
    with requests.Session() as session:
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                time.sleep(FIRST_PAUSE * 2 ** (attempt - 2))
            try:
                with session.request(
                    method,
                    url,
                    json=payload,
                    timeout=timeout,
                    allow_redirects=method == "GET",
                    stream=True,
                ) as response:
                    if 200 <= response.status_code < 300:
                        return None
                    reason = f"it answered HTTP {response.status_code}{_quoted_body(response)}"
                    if response.status_code != 429 and response.status_code < 500:
                        return _after(reason, attempt, url)
            except requests.ConnectTimeout:
                reason = f"no connection within {timeout:g} s"
            except requests.Timeout:
                reason = f"no answer within {timeout:g} s"
            except requests.ConnectionError as error:
                reason = f"cannot connect ({_cause(error)})"
            except requests.RequestException as error:
                # An invalid URL and the like: retrying cannot help. Never str(error): it holds the URL.
                return _after(f"the request could not be made ({type(error).__name__})", attempt, url)
    return _after(reason, attempts, url)


def _after(reason: str, attempts: int, url: str) -> str:
    return redact(f"{reason}, after {attempts} attempt{'s' if attempts != 1 else ''}", url)


def _quoted_body(response: requests.Response) -> str:
    """A short plain answer such as Slack's ``no_service``, quoted; HTML pages and long bodies are not."""
    kind = response.headers.get("Content-Type", "")
    if not kind.startswith(("text/plain", "application/json")):
        return ""
    try:
        raw = next(response.iter_content(_MAX_BODY * 4), b"")
    except requests.RequestException:
        return ""
    text = " ".join(raw.decode("utf-8", "replace").split())
    if not text:
        return ""
    if len(text) > _MAX_BODY:
        text = text[: _MAX_BODY - 1] + "…"
    return f" ({text})"  # redacted with the rest of the reason


def _cause(error: BaseException) -> str:
    """The operating system's reason under requests' and urllib3's wrappers (whose text holds the URL)."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        if isinstance(current, http.client.HTTPException):  # RemoteDisconnected: a closed connection
            return str(current) or type(current).__name__
        reason = getattr(current, "reason", None)  # urllib3's MaxRetryError keeps the cause here
        nested = [reason, *current.args, current.__cause__, current.__context__]
        pending += [item for item in nested if isinstance(item, BaseException)]
    return "the connection failed"


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL: never its credentials, path, query or fragment."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = parts.port
    except ValueError:
        return "(a URL that does not parse)"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def redact(text: str, url: str) -> str:
    """``text`` without any part of ``url`` that may be a secret: userinfo, path, query, fragment.

    A server's answer may repeat the request (a 404 page naming the path, a token it refused), so
    each path segment and query value of six characters or more is taken out on its own as well.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return text.replace(url, "…")
    secrets = {url, parts.path, parts.query, parts.fragment}
    for piece in re.split(r"[/?&=#;]", f"{parts.path}?{parts.query}#{parts.fragment}"):
        secrets.update({piece, unquote(piece)})
    secrets = {secret for secret in secrets if len(secret) >= 6}
    # Credentials go whatever their length (but a one-letter user name would eat the text).
    for credential in (parts.username, parts.password):
        if credential and len(credential) >= 3:
            secrets.update({credential, unquote(credential)})
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "…")
    return text
