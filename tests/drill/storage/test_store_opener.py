"""StoreOpener shares one S3 client per credential set, region and endpoint across targets."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from drill.config import Credentials, TargetType
from drill.storage import StorageError, StoreOpener
from drill.storage.filesystem import FilesystemStore
from drill.storage.s3 import S3Store
from tests.helpers import AWS_ENVIRON, make_target

if TYPE_CHECKING:
    from pathlib import Path

    from mypy_boto3_s3 import S3Client


@pytest.fixture
def buckets(s3_admin: S3Client) -> None:
    for name in ("first", "second"):
        s3_admin.create_bucket(Bucket=name)
        s3_admin.put_object(Bucket=name, Key=f"orders/{name}.dump", Body=b"x")


def test_targets_with_the_same_credentials_share_one_client(s3_endpoint: str, buckets: None) -> None:
    opener = StoreOpener(AWS_ENVIRON)
    first = opener.open(make_target(name="first", bucket="first", endpoint_url=s3_endpoint))
    second = opener.open(make_target(name="second", bucket="second", endpoint_url=s3_endpoint))
    assert isinstance(first, S3Store) and isinstance(second, S3Store)
    assert first.client is second.client
    # Closing one store leaves the shared client usable by the other; the opener closes it.
    first.close()
    assert [snapshot.key for snapshot in second.iter_objects("orders/")] == ["orders/second.dump"]
    second.close()
    opener.close()


def test_other_credentials_or_region_get_their_own_client(s3_endpoint: str, buckets: None) -> None:
    environ = {**AWS_ENVIRON, "OTHER_KEY": "testing", "OTHER_SECRET": "testing"}
    opener = StoreOpener(environ)
    base = opener.open(make_target(name="first", bucket="first", endpoint_url=s3_endpoint))
    other_keys = opener.open(
        make_target(
            name="second",
            bucket="second",
            endpoint_url=s3_endpoint,
            credentials=Credentials(access_key_id_env="OTHER_KEY", secret_access_key_env="OTHER_SECRET"),
        )
    )
    other_region = opener.open(
        make_target(name="third", bucket="first", endpoint_url=s3_endpoint, region="eu-west-1")
    )
    assert isinstance(base, S3Store) and isinstance(other_keys, S3Store) and isinstance(other_region, S3Store)
    assert len({id(base.client), id(other_keys.client), id(other_region.client)}) == 3
    opener.close()


def test_a_missing_credential_variable_names_the_target_and_is_not_cached(s3_endpoint: str) -> None:
    opener = StoreOpener({})
    target = make_target(name="vault", endpoint_url=s3_endpoint)
    for _ in range(2):  # the failure is raised each time, never remembered as a client
        with pytest.raises(StorageError, match="Target vault: Environment variable DRILL_TEST_AWS_KEY_ID"):
            opener.open(target)
    opener.close()


def test_filesystem_targets_open_without_any_cloud_client(tmp_path: Path) -> None:
    opener = StoreOpener({})
    store = opener.open(make_target(TargetType.FILESYSTEM, bucket=None, region=None, path=str(tmp_path)))
    assert isinstance(store, FilesystemStore)
    opener.close()
