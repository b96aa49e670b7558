"""One HTTP request to a webhook or a heartbeat, retried with backoff, and why it failed, safe to print.

Retried: connection errors, timeouts, 429 and 5xx. The pause before the next attempt doubles from
0.5 s (0.5 s, 1 s, 2 s...), and a ``Retry-After`` header (RFC 9110 section 10.2.3: a number of
seconds or an HTTP-date) lengthens it to what the server asked. Both bounds of ``Retrying`` hold
whatever a server says: no pause is longer than ``max_wait`` (a server asking for more is not
retried: retrying sooner than it asked would only be refused again), and no attempt starts, or
runs, past ``max_time`` from the first. Not retried: any other answer (a 404 stays a 404), and a
redirect of the webhook's POST, which would turn it into a GET or hand the payload to another host.

Webhook URLs carry their secret in the path (Slack's ``/services/T.../B.../TOKEN``) and heartbeat
URLs in the path or the query, so a reason shows ``scheme://host[:port]`` only (``origin``), and
nothing a server answered that repeats part of the URL (``redact``).
"""

from __future__ import annotations

import email.utils
import http.client
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import requests

from drill.stopping import SWITCH

FIRST_PAUSE = 0.5  # seconds before the first retry; doubled before each further one
_MAX_BODY = 120  # characters of a server's short text answer quoted in a problem line
_LAST_ATTEMPT_AT_LEAST = 1.0  # seconds an attempt needs to be worth starting (or its timeout, if less)
_MAX_DELAY_DIGITS = 10  # a Retry-After of more digits (over 300 years) is read as "very long"


@dataclass(frozen=True)
class Retrying:
    """How hard one delivery tries: attempts after the first, the longest pause, the whole budget."""

    retries: int
    max_wait: float  # seconds
    max_time: float  # seconds, from the first attempt's start


def retry_after(value: str | None, now: datetime) -> float | None:
    """The seconds a ``Retry-After`` header asks for: a delay or an HTTP-date; None if absent or unreadable.

    A date in the past asks for no wait at all.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(text) if len(text) <= _MAX_DELAY_DIGITS else float("inf")
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # an HTTP-date is always in GMT
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())


def send(
    method: str,
    url: str,
    *,
    payload: Mapping[str, Any] | None = None,
    timeout: float,
    retrying: Retrying,
) -> str | None:
    """One request with bounded retries; None on a 2xx answer, else why not (safe to print)."""
    deadline = time.monotonic() + retrying.max_time
    attempts = 0
    with requests.Session() as session:
        while True:
            attempts += 1
            limit = max(0.001, min(timeout, deadline - time.monotonic()))
            asked: float | None = None
            try:
                with session.request(
                    method,
                    url,
                    json=payload,
                    timeout=limit,
                    allow_redirects=method == "GET",
                    stream=True,
                ) as response:
                    if 200 <= response.status_code < 300:
                        return None
                    reason = f"it answered HTTP {response.status_code}{_quoted_body(response)}"
                    if response.status_code != 429 and response.status_code < 500:
                        return _after(reason, attempts, url)
                    asked = retry_after(response.headers.get("Retry-After"), datetime.now(UTC))
            except requests.ConnectTimeout:
                reason = f"no connection within {limit:g} s"
            except requests.Timeout:
                reason = f"no answer within {limit:g} s"
            except requests.ConnectionError as error:
                reason = f"cannot connect ({_cause(error)})"
            except requests.RequestException as error:
                # An invalid URL and the like: retrying cannot help. Never str(error): it holds the URL.
                return _after(f"the request could not be made ({type(error).__name__})", attempts, url)
            if attempts > retrying.retries:
                return _after(reason, attempts, url)
            if SWITCH.stopped is not None:  # SIGTERM during the start signal: the run must stop, not wait
                return _after(f"{reason}; not retried: {SWITCH.stopped.reason}", attempts, url)
            pause = FIRST_PAUSE * 2 ** (attempts - 1)
            if asked is not None:
                if asked > retrying.max_wait:
                    return _after(
                        f"{reason} and asked to be retried in {_seconds(asked)}, longer than "
                        f"max_retry_wait ({_seconds(retrying.max_wait)})",
                        attempts,
                        url,
                    )
                pause = max(pause, asked)
            pause = min(pause, retrying.max_wait)
            if time.monotonic() + pause + min(timeout, _LAST_ATTEMPT_AT_LEAST) > deadline:
                return _after(
                    f"{reason}; max_retry_time ({_seconds(retrying.max_time)}) leaves no room for another attempt",
                    attempts,
                    url,
                )
            time.sleep(pause)


def _seconds(value: float) -> str:
    return "a very long time" if value == float("inf") else f"{round(value, 1):g} s"


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
    each path segment and query value of six characters or more is taken out on its own as well,
    and so is each such part of one between dashes, dots or underscores (a UUID's groups).
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return text.replace(url, "…")
    secrets = {url, parts.path, parts.query, parts.fragment}
    for piece in re.split(r"[/?&=#;]", f"{parts.path}?{parts.query}#{parts.fragment}"):
        secrets.update({piece, unquote(piece), *re.split(r"[-._]", unquote(piece))})
    secrets = {secret for secret in secrets if len(secret) >= 6}
    # Credentials go whatever their length (but a one-letter user name would eat the text).
    for credential in (parts.username, parts.password):
        if credential and len(credential) >= 3:
            secrets.update({credential, unquote(credential)})
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "…")
    return text
