"""Every cloud call drill makes is bounded: connect and read timeouts, retries that end, and the run's switch.

A storage or trust endpoint that accepts connections and never answers must not hold a run: each
socket read gives up after ``READ_TIMEOUT``, retries are counted (``max_attempts``), and an endpoint
that let one call time out is asked nothing more in this run (``drill.stopping``). After SIGTERM or
Ctrl-C no call is sent at all. Both SDKs are hooked where they send a request: botocore's
``before-send`` and ``needs-retry`` events here, the requests session under the Cloud Storage client
in ``drill.clouds.gcp``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

from drill.clouds.errors import StorageError, StorageErrorKind
from drill.stopping import SWITCH

CONNECT_TIMEOUT = 5  # seconds to open a connection; a cloud endpoint answers a SYN in milliseconds
READ_TIMEOUT = 20  # seconds of silence on an open connection, per read: a body streams far faster
REFRESH_TIMEOUT = 30  # seconds for a Google token refresh (the library allows 300)


class CallRefused(StorageError):
    """A cloud call drill did not send: the run was interrupted, or the endpoint stopped answering."""

    def __init__(self, message: str) -> None:
        super().__init__(StorageErrorKind.TRANSIENT, message)


def refuse_if_stopped(endpoint: str) -> None:
    """Raise CallRefused when the run's switch allows no call to ``endpoint`` any more."""
    refusal = SWITCH.refusal(endpoint)
    if refusal is not None:
        raise CallRefused(refusal)


def endpoint_of(url: str) -> str:
    """scheme://host:port of a request: the unit an endpoint that stopped answering is known by."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


SILENT_AT_CONNECT = f"accepted no connection within {CONNECT_TIMEOUT} s"
SILENT_AT_READ = f"did not answer within {READ_TIMEOUT} s"


def _silence(error: BaseException) -> str | None:
    if isinstance(error, ConnectTimeoutError):
        return SILENT_AT_CONNECT
    if isinstance(error, ReadTimeoutError):
        return SILENT_AT_READ
    return None


def _before_send(request: Any, **_: Any) -> None:
    refuse_if_stopped(endpoint_of(request.url))


def _after_attempt(caught_exception: BaseException | None = None, request_dict: Any = None, **_: Any) -> None:
    """Seen after every attempt, before botocore decides on a retry; answers None, so it never decides."""
    silence = _silence(caught_exception) if caught_exception is not None else None
    if silence is not None and request_dict:
        SWITCH.unanswered(endpoint_of(request_dict["url"]), silence)


def watch_botocore(client: Any) -> None:
    """Hook a boto3 client into the run's switch: no call after a stop, none to an endpoint gone silent."""
    client.meta.events.register("before-send", _before_send)
    client.meta.events.register("needs-retry", _after_attempt)
