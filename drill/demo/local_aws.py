"""moto's S3, IAM and STS in this process: the demo's cloud, reset and stopped on the way out."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from drill.demo.errors import DemoError


@contextmanager
def local_aws() -> Iterator[str]:
    """moto's S3, IAM and STS on a free loopback port, in this process; yields its URL.

    moto's state and auth switch are process-wide, so both are reset on the way out, and the
    request log werkzeug would print to stderr is silenced while the server runs.
    """
    try:
        from moto.server import ThreadedMotoServer  # noqa: PLC0415 - importing moto takes about a second
    except ImportError:
        raise DemoError(
            "drill demo needs moto's server for its local S3: pip install 'drill[demo]'."
        ) from None
    requests_log = logging.getLogger("werkzeug")
    level = requests_log.level
    requests_log.setLevel(logging.CRITICAL + 1)  # also moto's tracebacks for SimulatePrincipalPolicy
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        _moto_api(endpoint, "reset")  # a clean account whatever this process did before
        try:
            yield endpoint
        finally:
            _moto_api(endpoint, "reset")
    finally:
        server.stop()  # shuts the server down; werkzeug closes its socket
        requests_log.setLevel(level)


def _moto_api(endpoint: str, action: str, body: str = "") -> dict[str, Any]:
    with requests.Session() as session:
        session.trust_env = False  # a proxy from the environment must not see loopback requests
        response = session.post(
            f"{endpoint}/moto-api/{action}", data=body, headers={"Content-Type": "text/plain"}, timeout=10
        )
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


@contextmanager
def iam_enforced(endpoint: str) -> Iterator[None]:
    """From here on moto checks every request against its IAM users' policies; restored on exit."""
    previous = _moto_api(endpoint, "reset-auth", "0").get("PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT", "inf")
    try:
        yield
    finally:
        _moto_api(endpoint, "reset-auth", str(previous))
