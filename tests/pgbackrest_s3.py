"""pgBackRest stanzas on an S3 repository in moto (see tests/pgbackrest_estate.py for the API).

pgBackRest speaks only HTTPS to S3, and moto's server only HTTP: ``socat`` terminates TLS in front
of it with a self-signed certificate made here (``repo1-storage-verify-tls=n``), for the whole
session. drill's own S3 client talks to moto directly (``stanza.s3_endpoint``).

``pgbackrest_s3_stanza`` is function-scoped because ``s3_endpoint`` empties moto before each test;
``make_s3_stanza(name, lock_days=None, **options)`` builds one on a bucket of its own, with Object
Lock (COMPLIANCE, ``lock_days``) when asked.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from tests.pgbackrest_estate import Stanza, StanzaFactory, build_stanza, unavailable

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

REPO_PATH = "/pgbackrest"
_KEYS = {"repo1-s3-key": "testing", "repo1-s3-key-secret": "testing"}


@pytest.fixture(scope="session")
def s3_tls_port(moto_endpoint: str) -> Iterator[int]:
    """A TLS port in front of moto: socat with a self-signed certificate, stopped after the session."""
    if shutil.which("socat") is None or shutil.which("openssl") is None:
        unavailable("socat and openssl are needed to put TLS in front of moto (apt-get install socat)")
    moto_port = urlsplit(moto_endpoint).port
    with tempfile.TemporaryDirectory(prefix="drill-tls-") as scratch:
        cert, key = Path(scratch) / "cert.pem", Path(scratch) / "key.pem"
        subprocess.run(
            ("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-keyout", str(key), "-out", str(cert)),
            check=True, capture_output=True,
        )  # fmt: skip
        port = _free_port()
        front = subprocess.Popen(
            ("socat", f"OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,nodelay,cert={cert},key={key},verify=0",
             f"TCP:127.0.0.1:{moto_port},nodelay"),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            _wait_listening(port, front)
            yield port
        finally:
            front.terminate()
            front.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_listening(port: int, front: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if front.poll() is not None:
            raise RuntimeError(f"socat exited with {front.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"socat did not listen on {port} within 10 s")


def s3_repo_options(bucket: str, port: int) -> dict[str, str]:
    """repo1 on moto's bucket through the TLS front."""
    return {
        "repo1-type": "s3",
        "repo1-path": REPO_PATH,
        "repo1-s3-bucket": bucket,
        "repo1-s3-endpoint": "127.0.0.1",
        "repo1-s3-region": "us-east-1",
        "repo1-s3-uri-style": "path",
        "repo1-storage-port": str(port),
        "repo1-storage-verify-tls": "n",
        # Small files bundled into a few objects: a backup of a tiny cluster is 1,266 files, and moto
        # answers each PUT in about 20 ms (measured: 29 s unbundled, 3 s bundled).
        "repo1-bundle": "y",
        **_KEYS,
    }


@pytest.fixture
def make_s3_stanza(s3_endpoint: str, s3_admin: S3Client, s3_tls_port: int) -> Iterator[StanzaFactory]:
    with ExitStack() as stack:

        def make(name: str, *, lock_days: int | None = None, **options: Any) -> Stanza:
            bucket = f"repo-{name}"
            if lock_days is None:
                s3_admin.create_bucket(Bucket=bucket)
            else:
                s3_admin.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
                s3_admin.put_object_lock_configuration(
                    Bucket=bucket,
                    ObjectLockConfiguration={
                        "ObjectLockEnabled": "Enabled",
                        "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": lock_days}},
                    },
                )
            repo = s3_repo_options(bucket, s3_tls_port) | dict(options.pop("repo_options", {}))
            stanza = stack.enter_context(build_stanza(name, repo_options=repo, **options))
            stanza.bucket, stanza.s3_endpoint = bucket, s3_endpoint
            return stanza

        yield make


@pytest.fixture
def pgbackrest_s3_stanza(make_s3_stanza: StanzaFactory) -> Stanza:
    return make_s3_stanza("cloud")
