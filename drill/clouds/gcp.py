"""A Cloud Storage client built from a Credentials table; shared by GCS reads and permission checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import google.auth
from google.auth.credentials import AnonymousCredentials
from google.auth.exceptions import DefaultCredentialsError
from google.cloud import storage
from google.oauth2 import service_account

from drill.clouds.errors import StorageError, StorageErrorKind
from drill.config import Credentials

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
    return storage.Client(project=project, credentials=google_credentials, client_options=options)


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
