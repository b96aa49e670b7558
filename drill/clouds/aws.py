"""Sessions and clients for AWS, built from a Credentials table; shared by S3 reads and identity checks.

Nothing here knows about targets, so the same helpers serve an agent's STS and IAM clients.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, overload
from urllib.parse import urlsplit

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import ProfileNotFound

from drill.clouds.bounded import CONNECT_TIMEOUT, READ_TIMEOUT, watch_botocore
from drill.clouds.errors import StorageError, StorageErrorKind
from drill.config import Credentials, Target

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sts import STSClient

Service = Literal["s3", "sts", "iam"]


def client_config(max_attempts: int = 5, pool_size: int = 20) -> Config:
    """Standard retries back off on throttling and dropped connections; the pool fits a worker per object.
    Timeouts are drill's (``drill.clouds.bounded``): an endpoint that never answers must not hold a run."""
    return Config(
        retries={"mode": "standard", "max_attempts": max_attempts},
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        max_pool_connections=pool_size,
    )


def aws_session(credentials: Credentials, region: str | None, environ: Mapping[str, str]) -> boto3.Session:
    """A session using exactly the credentials the table names, or the SDK's default chain when it names none.

    Raises StorageError(INVALID) when a named profile or environment variable does not exist; the
    message names the profile or the variable, never a value.
    """
    if credentials.access_key_id_env and credentials.secret_access_key_env:
        return boto3.Session(
            aws_access_key_id=_env(environ, credentials.access_key_id_env, "access_key_id_env"),
            aws_secret_access_key=_env(environ, credentials.secret_access_key_env, "secret_access_key_env"),
            aws_session_token=(
                _env(environ, credentials.session_token_env, "session_token_env")
                if credentials.session_token_env
                else None
            ),
            region_name=region,
        )
    core = botocore.session.Session()
    if credentials.credentials_file:
        core.set_config_variable("credentials_file", credentials.credentials_file)
    # With a file, name the profile explicitly even if it is "default": botocore then skips the
    # AWS_ACCESS_KEY_ID environment variables, which would otherwise win over the file.
    profile = credentials.profile or ("default" if credentials.credentials_file else None)
    try:
        return boto3.Session(botocore_session=core, profile_name=profile, region_name=region)
    except ProfileNotFound:
        where = f" in {credentials.credentials_file}" if credentials.credentials_file else ""
        raise StorageError(
            StorageErrorKind.INVALID, f"AWS profile {profile!r} does not exist{where}."
        ) from None


def _env(environ: Mapping[str, str], name: str, key: str) -> str:
    value = environ.get(name)
    if not value:
        raise StorageError(
            StorageErrorKind.INVALID, f"Environment variable {name} (named by credentials.{key}) is not set."
        )
    return value


@overload
def client(
    session: boto3.Session,
    service: Literal["s3"],
    endpoint_url: str | None,
    region: str | None,
    *,
    max_attempts: int = ...,
    pool_size: int = ...,
) -> S3Client: ...
@overload
def client(
    session: boto3.Session,
    service: Literal["sts"],
    endpoint_url: str | None,
    region: str | None,
    *,
    max_attempts: int = ...,
    pool_size: int = ...,
) -> STSClient: ...
@overload
def client(
    session: boto3.Session,
    service: Literal["iam"],
    endpoint_url: str | None,
    region: str | None,
    *,
    max_attempts: int = ...,
    pool_size: int = ...,
) -> IAMClient: ...
def client(
    session: boto3.Session,
    service: Service,
    endpoint_url: str | None,
    region: str | None,
    *,
    max_attempts: int = 5,
    pool_size: int = 20,
) -> S3Client | STSClient | IAMClient:
    """A client with drill's retry, timeout and pool settings; ``endpoint_url`` points at moto or MinIO."""
    built = session.client(
        service,
        region_name=region or session.region_name,
        endpoint_url=endpoint_url,
        config=client_config(max_attempts, pool_size),
    )
    watch_botocore(built)
    return built


def s3_client(
    session: boto3.Session, target: Target, *, max_attempts: int = 5, pool_size: int = 20
) -> S3Client:
    return client(
        session, "s3", target.endpoint_url, target.region, max_attempts=max_attempts, pool_size=pool_size
    )


_AWS_HOSTS = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")


def is_aws_endpoint(url: str | None) -> bool:
    """Whether an endpoint is AWS's own (None: the SDK's default, which is AWS)."""
    if url is None:
        return True
    host = (urlsplit(url).hostname or "").lower()
    return host.endswith(_AWS_HOSTS)


@dataclass(frozen=True)
class IdentityEndpoints:
    """Where a target's STS and IAM are; an API the store does not have is ``available=False``."""

    sts_available: bool
    sts: str | None  # None: AWS's default endpoint
    iam_available: bool
    iam: str | None


def identity_endpoints(target: Target) -> IdentityEndpoints:
    """The configured STS and IAM endpoints; on a store that is not AWS, only those configured."""
    on_aws = is_aws_endpoint(target.endpoint_url)
    return IdentityEndpoints(
        sts_available=on_aws or target.sts_endpoint_url is not None,
        sts=target.sts_endpoint_url,
        iam_available=on_aws or target.iam_endpoint_url is not None,
        iam=target.iam_endpoint_url,
    )


class SessionCache:
    """One boto3 session per credential set and region, built on first use, safe across threads.

    A session loads its own service models (about 12 MiB, 170 ms); drill asks many questions of
    the same credentials (posture, identity, simulation, probes), so it builds each session once.
    """

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self._sessions: dict[tuple[Credentials, str | None], boto3.Session] = {}
        self._lock = threading.Lock()

    def get(self, credentials: Credentials, region: str | None) -> boto3.Session:
        key = (credentials, region)
        with self._lock:
            if key not in self._sessions:
                self._sessions[key] = aws_session(credentials, region, self._environ)
            return self._sessions[key]


class SharedS3Clients:
    """One S3 client per set of credentials, region and endpoint, shared by every target that uses it.

    Each boto3 session loads its own copy of the service models (about 12 MiB and 170 ms), so a
    session per target made a 200-target estate cost 2.5 GB. Clients are thread-safe once built;
    building them is not, hence the lock. ``close`` closes each client once, after the last target.
    """

    def __init__(self, environ: Mapping[str, str], *, max_attempts: int = 5, pool_size: int = 20) -> None:
        self._environ = environ
        self._max_attempts = max_attempts
        self._pool_size = pool_size
        self._clients: dict[tuple[Credentials, str | None, str | None], S3Client] = {}
        self._lock = threading.Lock()

    def for_target(self, target: Target) -> S3Client:
        key = (target.credentials, target.region, target.endpoint_url)
        with self._lock:
            if key not in self._clients:
                session = aws_session(target.credentials, target.region, self._environ)
                self._clients[key] = s3_client(
                    session, target, max_attempts=self._max_attempts, pool_size=self._pool_size
                )
            return self._clients[key]

    def close(self) -> None:
        with self._lock:
            for shared in self._clients.values():
                shared.close()
            self._clients.clear()
