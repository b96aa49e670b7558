"""GCS trust evidence: identities from credentials, and testIamPermissions with the caller's own.

gcp-storage-emulator answers testIamPermissions with every permission asked for, so the emulator
tests only the plumbing (the request reaches the bucket, the answer is parsed); the decision is
tested on responses in the documented shape: the subset of the asked permissions the caller holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from drill.clouds.errors import StorageError
from drill.config import Credentials, TargetType
from drill.facts import Answer, EvidenceSource
from drill.permissions import GCS_DESTRUCTIVE
from drill.trust.gcp import answers_from_test_permissions, gcs_access, identity_of
from tests.helpers import make_target, write_service_account_key

if TYPE_CHECKING:
    from google.cloud import storage


def test_documented_response_with_a_subset_allows_exactly_that_subset() -> None:
    # testIamPermissions responds {"kind": "storage#testIamPermissionsResponse", "permissions": [...]}
    # with the asked permissions the caller holds; the client returns that list.
    answers = {a.permission: a for a in answers_from_test_permissions(["storage.objects.delete"])}
    assert answers["storage.objects.delete"].answer is Answer.ALLOWED
    assert answers["storage.buckets.update"].answer is Answer.DENIED
    assert {a.source for a in answers.values()} == {EvidenceSource.TEST_IAM_PERMISSIONS}
    assert set(answers) == set(GCS_DESTRUCTIVE)


def test_an_empty_response_denies_everything() -> None:
    assert {a.answer for a in answers_from_test_permissions([])} == {Answer.DENIED}


def test_the_service_account_key_names_the_principal_and_project(tmp_path: Path) -> None:
    key = write_service_account_key(
        tmp_path / "agent.json", project="ci-project", email="agent@ci-project.iam.gserviceaccount.com"
    )
    identity = identity_of(Credentials(service_account_file=str(key)), {})
    assert identity.principal == "agent@ci-project.iam.gserviceaccount.com"
    assert identity.account == "ci-project" and identity.provider == "gcp"


def test_anonymous_credentials_are_all_users() -> None:
    assert "allUsers" in identity_of(Credentials(anonymous=True), {}).principal


def test_an_unreadable_key_file_is_a_storage_error_without_its_content(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="Cannot read service_account_file"):
        identity_of(Credentials(service_account_file=str(tmp_path / "missing.json")), {})


def test_the_emulator_answers_test_iam_permissions_for_the_bucket(
    gcs_admin: storage.Client, gcs_endpoint: str
) -> None:
    gcs_admin.create_bucket("backups")
    target = make_target(TargetType.GCS, endpoint_url=gcs_endpoint)
    access = gcs_access(target, Credentials(anonymous=True), {})
    # The emulator grants whatever is asked: the plumbing works, the verdict is not the emulator's.
    assert {a.answer for a in access.permissions} == {Answer.ALLOWED}
    assert "allUsers" in access.identity.principal  # type: ignore[union-attr]


def test_a_failed_call_leaves_every_answer_unknown_with_the_reason(gcs_endpoint: str) -> None:
    target = make_target(TargetType.GCS, endpoint_url=gcs_endpoint, bucket="no-such-bucket")
    access = gcs_access(target, Credentials(anonymous=True), {})
    assert {a.answer for a in access.permissions} == {Answer.UNKNOWN}
    assert access.gaps == ("Bucket no-such-bucket does not exist (or is invisible to these credentials).",)
