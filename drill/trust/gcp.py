"""Trust evidence on Cloud Storage: who the credentials are, and which destructive permissions
they hold on a bucket, as the bucket's own IAM answers (``testIamPermissions``).

``testIamPermissions`` is called with the credentials being judged, so it answers for exactly
that caller, conditions and inherited grants included; it never needs a permission itself.
gcp-storage-emulator answers it with every permission asked for (measured), so the decision
logic is tested on responses in the documented shape and the plumbing on the emulator.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from google.api_core import exceptions as google_errors

from drill.clouds.errors import StorageError, StorageErrorKind
from drill.clouds.gcp import gcs_client, load_credentials
from drill.config import Credentials, Target
from drill.facts import Access, Answer, EvidenceSource, Identity, PermissionAnswer
from drill.model import Unavailable
from drill.permissions import GCS_DESTRUCTIVE

_ANONYMOUS = "allUsers (anonymous)"


def identity_of(credentials: Credentials, environ: Mapping[str, str]) -> Identity:
    """The principal the credentials act as, as far as the credentials themselves say.

    A service-account key names its email and project; anonymous access is ``allUsers``;
    Application Default Credentials name a service account when they are one (on GKE with
    Workload Identity, the metadata server's account), else the principal is unknown.
    """
    if credentials.anonymous:
        return Identity("gcp", None, _ANONYMOUS, "anonymous credentials")
    google_credentials, project = load_credentials(credentials, environ)
    email = getattr(google_credentials, "service_account_email", None)
    source = (
        "service-account key file" if credentials.service_account_file else "application default credentials"
    )
    if not email or email == "default":
        raise StorageError(
            StorageErrorKind.UNSUPPORTED,
            f"The {source} do not name a service account; the principal is unknown.",
        )
    return Identity("gcp", project, str(email), source)


def answers_from_test_permissions(
    granted: Collection[str], asked: Collection[str] = tuple(GCS_DESTRUCTIVE)
) -> tuple[PermissionAnswer, ...]:
    """One answer per permission asked: testIamPermissions returns the subset the caller holds."""
    held = set(granted)
    return tuple(
        PermissionAnswer(
            permission,
            Answer.ALLOWED if permission in held else Answer.DENIED,
            EvidenceSource.TEST_IAM_PERMISSIONS,
            "granted to the caller"
            if permission in held
            else "not among the permissions granted to the caller",
        )
        for permission in asked
    )


def gcs_access(target: Target, credentials: Credentials, environ: Mapping[str, str]) -> Access:
    """What ``credentials`` may do to ``target``'s bucket, asked with those same credentials."""
    assert target.bucket is not None  # guaranteed by config validation
    try:
        identity: Identity | Unavailable = identity_of(credentials, environ)
    except StorageError as error:
        identity = Unavailable(str(error))
    try:
        client = gcs_client(credentials, target.endpoint_url, environ)
    except StorageError as error:
        return Access(identity, _unknown(str(error)), (str(error),))
    try:
        granted = client.bucket(target.bucket).test_iam_permissions(list(GCS_DESTRUCTIVE))
    except google_errors.NotFound:
        reason = f"Bucket {target.bucket} does not exist (or is invisible to these credentials)."
        return Access(identity, _unknown(reason), (reason,))
    except google_errors.GoogleAPICallError as error:
        reason = f"storage.buckets.testIamPermissions on {target.bucket} failed: {error.code} {error.message}"
        return Access(identity, _unknown(reason), (reason,))
    finally:
        client.close()
    return Access(identity, answers_from_test_permissions(granted))


def _unknown(reason: str) -> tuple[PermissionAnswer, ...]:
    return tuple(
        PermissionAnswer(permission, Answer.UNKNOWN, EvidenceSource.TEST_IAM_PERMISSIONS, reason)
        for permission in GCS_DESTRUCTIVE
    )


class GcsTrust:
    """The trust questions about Cloud Storage targets, each asked with the credentials being judged."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def identity(self, target: Target, credentials: Credentials) -> Identity:
        return identity_of(credentials, self._environ)

    def access(
        self,
        target: Target,
        credentials: Credentials,
        *,
        snapshot_keys: tuple[str, ...],
    ) -> Access:
        # testIamPermissions answers for the caller on the bucket; GCS has no per-object IAM
        # (uniform bucket-level access), so the keys change nothing.
        return gcs_access(target, credentials, self._environ)
