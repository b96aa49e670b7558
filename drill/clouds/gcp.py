"""A Cloud Storage client built from a Credentials table; shared by GCS reads and permission checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import google.auth
import requests
from google.auth.credentials import AnonymousCredentials
from google.auth.exceptions import DefaultCredentialsError
from google.auth.transport.requests import AuthorizedSession
from google.cloud import storage
from google.oauth2 import service_account

from drill.clouds.bounded import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    SILENT_AT_CONNECT,
    SILENT_AT_READ,
    endpoint_of,
    refuse_if_stopped,
)
from drill.clouds.errors import StorageError, StorageErrorKind
from drill.config import Credentials
from drill.stopping import SWITCH

# An emulator ignores the project, but the client insists on one for anonymous access.
EMULATOR_PROJECT = "drill-emulator"


def gcs_client(
    credentials: Credentials, endpoint_url: str | None, environ: Mapping[str, str]
) -> storage.Client:
    """A client using the credentials the table names, or Application Default Credentials.

    ``environ`` stands in for ``os.environ`` in the default chain (GOOGLE_APPLICATION_CREDENTIALS,
    GOOGLE_CLOUD_PROJECT), so a caller can hand over an agent's environment. Raises
    StorageError(INVALID) when the named file or the default credentials cannot be loaded.
    """
    options = {"api_endpoint": endpoint_url} if endpoint_url else None
    google_credentials, project = load_credentials(credentials, environ)
    return storage.Client(
        project=project,
        credentials=google_credentials,
        client_options=options,
        _http=BoundedSession(google_credentials),
    )


def load_credentials(credentials: Credentials, environ: Mapping[str, str]) -> tuple[Any, str | None]:
    """The google.auth credentials and project the table names; StorageError(INVALID) if unloadable."""
    if credentials.anonymous:
        return AnonymousCredentials(), EMULATOR_PROJECT  # type: ignore[no-untyped-call]
    if credentials.service_account_file:
        loaded = _service_account(credentials.service_account_file)
        return loaded, loaded.project_id
    return _default(environ)


# google.auth is typed only in part: these constructors carry no annotations, hence the ignores.
def _service_account(path: str) -> Any:
    try:
        return service_account.Credentials.from_service_account_file(path)  # type: ignore[no-untyped-call]
    except OSError as error:
        raise StorageError(
            StorageErrorKind.INVALID, f"Cannot read service_account_file {path}: {error.strerror or error}."
        ) from None
    except ValueError as error:  # malformed JSON or missing fields; the message names fields, not values
        raise StorageError(
            StorageErrorKind.INVALID, f"service_account_file {path} is not a service account key: {error}"
        ) from None


def _default(environ: Mapping[str, str]) -> tuple[Any, str | None]:
    """Application Default Credentials, reading the variables from ``environ`` rather than the process."""
    path = environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    try:
        if path:
            found: tuple[Any, str | None] = google.auth.load_credentials_from_file(path)  # type: ignore[no-untyped-call]
        else:
            found = google.auth.default()
    except DefaultCredentialsError as error:
        raise StorageError(
            StorageErrorKind.INVALID,
            f"No Google credentials found ({error}); set service_account_file, or anonymous for an emulator.",
        ) from None
    credentials, project = found
    return credentials, environ.get("GOOGLE_CLOUD_PROJECT") or project


REFRESH_TIMEOUT = 30  # seconds for a token refresh (the library allows 300)


def bounded_timeout(timeout: Any) -> tuple[float, float]:
    """The caller's timeout, never longer than drill's connect and read timeouts (None waits forever)."""
    if isinstance(timeout, tuple):
        connect, read = timeout
    elif isinstance(timeout, int | float):
        connect, read = timeout, timeout
    else:
        connect, read = CONNECT_TIMEOUT, READ_TIMEOUT
    return min(connect or CONNECT_TIMEOUT, CONNECT_TIMEOUT), min(read or READ_TIMEOUT, READ_TIMEOUT)


class BoundedSession(AuthorizedSession):
    """The Cloud Storage client's transport with drill's timeouts and the run's switch on every request
    (``drill.clouds.bounded``): the library's own default is a 60 s read and a 120 s retry deadline."""

    def __init__(self, credentials: Any) -> None:
        super().__init__(credentials, refresh_timeout=REFRESH_TIMEOUT)  # type: ignore[no-untyped-call]
        self.configure_mtls_channel()  # type: ignore[no-untyped-call]

    def request(  # type: ignore[override]  # noqa: PLR0917 - the library's signature, called positionally
        self,
        method: str,
        url: str,
        data: Any = None,
        headers: Any = None,
        max_allowed_time: float | None = None,
        timeout: Any = None,
        **kwargs: Any,
    ) -> requests.Response:
        endpoint = endpoint_of(url)
        refuse_if_stopped(endpoint)
        try:
            response: requests.Response = super().request(  # type: ignore[no-untyped-call]
                method,
                url,
                data=data,
                headers=headers,
                max_allowed_time=max_allowed_time,
                timeout=bounded_timeout(timeout),
                **kwargs,
            )
        except requests.ConnectTimeout:
            SWITCH.unanswered(endpoint, SILENT_AT_CONNECT)
            raise
        except requests.ReadTimeout:
            SWITCH.unanswered(endpoint, SILENT_AT_READ)
            raise
        return response
