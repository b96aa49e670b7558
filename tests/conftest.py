"""Real storage servers for the tests: moto in server mode for AWS, gcp-storage-emulator for GCS.

Each server starts once per session, importing its package only then (moto alone takes almost a
second to import, which every other test run would pay); the function-scoped ``s3_endpoint`` and ``gcs_endpoint``
empty it before every test that asks for it, so tests never see each other's buckets.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
import requests

# The pgBackRest stanzas (source clusters archiving into posix, encrypted and S3 repositories).
from tests.pgbackrest_estate import (  # noqa: F401
    make_stanza,
    pgbackrest_encrypted_stanza,
    pgbackrest_gap_stanza,
    pgbackrest_stanza,
)
from tests.pgbackrest_s3 import make_s3_stanza, pgbackrest_s3_stanza, s3_tls_port  # noqa: F401

if TYPE_CHECKING:
    from google.cloud import storage
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_s3 import S3Client

ADMIN_KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
# moto's own default: authorization is never enforced. A count of 0 enforces it from the next request.
_AUTH_OFF = "inf"


def _post(url: str, body: str = "") -> None:
    requests.post(url, data=body, headers={"Content-Type": "text/plain"}, timeout=10).raise_for_status()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto server for the whole session."""
    from moto.server import ThreadedMotoServer  # noqa: PLC0415

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_endpoint(moto_endpoint: str) -> str:
    """The moto URL, emptied of every account's resources and with IAM enforcement off."""
    _post(f"{moto_endpoint}/moto-api/reset")
    _post(f"{moto_endpoint}/moto-api/reset-auth", _AUTH_OFF)
    return moto_endpoint


@pytest.fixture
def aws_admin(s3_endpoint: str) -> Callable[[str], Any]:
    """``aws_admin("iam")``: a client for any service on moto, with dummy keys, region us-east-1."""

    def make(service: str) -> Any:
        session = boto3.Session(region_name="us-east-1", **ADMIN_KEYS)
        return session.client(service, endpoint_url=s3_endpoint)  # type: ignore[call-overload]

    return make


@pytest.fixture
def s3_admin(aws_admin: Callable[[str], Any]) -> S3Client:
    """An S3 client on moto for arranging buckets and objects."""
    client: S3Client = aws_admin("s3")
    return client


@pytest.fixture
def iam_admin(aws_admin: Callable[[str], Any]) -> IAMClient:
    client: IAMClient = aws_admin("iam")
    return client


@pytest.fixture
def enforce_iam(s3_endpoint: str) -> Iterator[Callable[[], None]]:
    """Call it once users and policies exist: from then on moto checks every request's identity policy.

    Enforcement is process-wide in moto, so it is switched off again after the test.
    """
    yield lambda: _post(f"{s3_endpoint}/moto-api/reset-auth", "0")
    _post(f"{s3_endpoint}/moto-api/reset-auth", _AUTH_OFF)


@pytest.fixture(scope="session")
def gcs_emulator_endpoint() -> Iterator[str]:
    """An in-memory gcp-storage-emulator for the whole session."""
    from gcp_storage_emulator.server import create_server  # noqa: PLC0415

    port = _free_port()
    server = create_server("127.0.0.1", port, in_memory=True, default_bucket=None)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def gcs_endpoint(gcs_emulator_endpoint: str) -> str:
    """The emulator URL with every bucket wiped (the emulator's /wipe answers GET, not POST)."""
    requests.get(f"{gcs_emulator_endpoint}/wipe", timeout=10).raise_for_status()
    return gcs_emulator_endpoint


@pytest.fixture
def gcs_admin(gcs_endpoint: str) -> storage.Client:
    """A GCS client on the emulator for arranging buckets and objects."""
    from google.auth.credentials import AnonymousCredentials  # noqa: PLC0415
    from google.cloud import storage  # noqa: PLC0415

    return storage.Client(
        project="test", credentials=AnonymousCredentials(), client_options={"api_endpoint": gcs_endpoint}
    )
