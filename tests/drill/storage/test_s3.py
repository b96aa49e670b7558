"""S3Store against a real moto server: listing, metadata, reads, and how failures are reported."""

from __future__ import annotations

import base64
import hashlib
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from drill.clouds.errors import StorageError, StorageErrorKind
from drill.config import Credentials
from drill.storage.s3 import S3Store
from tests.helpers import AWS_ENVIRON, iam_user_keys, make_target

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_s3 import S3Client

READ_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
NO_LISTING = {
    "Version": "2012-10-17",
    "Statement": [
        *READ_ALL["Statement"],
        {"Effect": "Deny", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::backups"},
    ],
}


@pytest.fixture
def bucket(s3_admin: S3Client) -> S3Client:
    s3_admin.create_bucket(Bucket="backups")
    return s3_admin


@pytest.fixture
def one_backup(bucket: S3Client) -> None:
    bucket.put_object(Bucket="backups", Key="orders/a.dump", Body=b"x")


@pytest.fixture
def reader_keys(iam_admin: IAMClient) -> tuple[str, str]:
    """Keys of an IAM user allowed every S3 action; they only matter once ``enforce_iam`` is called."""
    return iam_user_keys(iam_admin, "reader", READ_ALL)


def store_for(endpoint: str, **overrides: Any) -> S3Store:
    return S3Store(make_target(endpoint_url=endpoint, **overrides), AWS_ENVIRON)


def test_listing_streams_page_by_page(s3_endpoint: str, bucket: S3Client) -> None:
    for index in range(250):
        bucket.put_object(Bucket="backups", Key=f"orders/{index:04d}.dump", Body=b"x")
    store = S3Store(make_target(endpoint_url=s3_endpoint), AWS_ENVIRON, page_size=100)
    calls: list[str] = []
    store.client.meta.events.register("before-call.s3.ListObjectsV2", lambda **_: calls.append("list"))

    listing = store.iter_objects("orders/")
    first = next(listing)
    assert len(calls) == 1  # the first object arrives before the second page is asked for
    keys = [first.key, *(snapshot.key for snapshot in listing)]

    assert len(calls) == 3
    assert keys == [f"orders/{index:04d}.dump" for index in range(250)]


def test_listed_object_has_size_time_and_etag(s3_endpoint: str, bucket: S3Client) -> None:
    body = b"pg_dump output"
    bucket.put_object(Bucket="backups", Key="orders/a.dump", Body=body)

    [snapshot] = store_for(s3_endpoint).iter_objects("orders/")

    assert snapshot.key == "orders/a.dump"
    assert snapshot.size == len(body)
    assert snapshot.created_at.tzinfo is not None
    assert abs(datetime.now(UTC) - snapshot.created_at) < timedelta(minutes=1)
    assert snapshot.checksum("etag") == hashlib.md5(body, usedforsecurity=False).hexdigest()


def test_listing_keeps_to_the_prefix(s3_endpoint: str, bucket: S3Client) -> None:
    for key in ("orders/1.dump", "orders-archive/1.dump", "payments/1.dump"):
        bucket.put_object(Bucket="backups", Key=key, Body=b"x")

    assert [s.key for s in store_for(s3_endpoint).iter_objects("orders/")] == ["orders/1.dump"]
    assert len(list(store_for(s3_endpoint).iter_objects(""))) == 3


def test_stat_reports_the_stored_sha256(s3_endpoint: str, bucket: S3Client) -> None:
    body = b"checksummed backup"
    bucket.put_object(Bucket="backups", Key="orders/a.dump", Body=body, ChecksumAlgorithm="SHA256")

    snapshot = store_for(s3_endpoint).stat("orders/a.dump")

    assert snapshot is not None
    assert snapshot.size == len(body)
    assert snapshot.created_at.tzinfo is not None
    assert snapshot.checksum("etag") == hashlib.md5(body, usedforsecurity=False).hexdigest()
    assert snapshot.checksum("sha256") == base64.b64encode(hashlib.sha256(body).digest()).decode()


def test_stat_of_a_missing_object_is_none(s3_endpoint: str, bucket: S3Client) -> None:
    assert store_for(s3_endpoint).stat("orders/nothing.dump") is None


def test_stat_in_a_missing_bucket_is_not_found(s3_endpoint: str) -> None:
    with pytest.raises(StorageError) as raised:
        store_for(s3_endpoint, bucket="gone").stat("orders/a.dump")

    assert raised.value.kind is StorageErrorKind.NOT_FOUND
    assert str(raised.value) == "Bucket gone of target vault does not exist."


def test_read_small_reads_at_most_the_limit(s3_endpoint: str, bucket: S3Client) -> None:
    bucket.put_object(Bucket="backups", Key="orders/a.dump.sha256", Body=b"abcdef  a.dump\n")
    bucket.put_object(Bucket="backups", Key="orders/empty.sha256", Body=b"")
    store = store_for(s3_endpoint)

    assert store.read_small("orders/a.dump.sha256", 6) == b"abcdef"
    assert store.read_small("orders/a.dump.sha256", 1024) == b"abcdef  a.dump\n"
    assert store.read_small("orders/empty.sha256", 1024) == b""
    assert store.read_small("orders/missing.sha256", 1024) is None


def test_open_streams_the_body(s3_endpoint: str, bucket: S3Client) -> None:
    body = bytes(range(256)) * 12_000  # about 3 MB
    bucket.put_object(Bucket="backups", Key="orders/a.dump", Body=body)

    received = bytearray()
    with store_for(s3_endpoint).open("orders/a.dump") as stream:
        while chunk := stream.read(64 * 1024):
            received += chunk

    assert bytes(received) == body


def test_open_of_a_missing_object_is_not_found(s3_endpoint: str, bucket: S3Client) -> None:
    with pytest.raises(StorageError) as raised:
        store_for(s3_endpoint).open("orders/nothing.dump")

    assert raised.value.kind is StorageErrorKind.NOT_FOUND
    assert "s3://backups/orders/nothing.dump" in str(raised.value)


def test_listing_a_missing_bucket_is_not_found(s3_endpoint: str) -> None:
    with pytest.raises(StorageError) as raised:
        list(store_for(s3_endpoint, bucket="gone").iter_objects(""))

    assert raised.value.kind is StorageErrorKind.NOT_FOUND
    assert str(raised.value) == "Bucket gone of target vault does not exist."


@pytest.mark.usefixtures("one_backup")
def test_denied_listing_names_the_action(
    s3_endpoint: str, iam_admin: IAMClient, enforce_iam: Callable[[], None]
) -> None:
    key_id, secret = iam_user_keys(iam_admin, "lister", NO_LISTING)
    environ = {"DRILL_TEST_AWS_KEY_ID": key_id, "DRILL_TEST_AWS_SECRET": secret}
    enforce_iam()
    store = S3Store(make_target(endpoint_url=s3_endpoint), environ)

    with pytest.raises(StorageError) as raised:
        list(store.iter_objects("orders/"))

    assert raised.value.kind is StorageErrorKind.ACCESS_DENIED
    assert str(raised.value).startswith("s3:ListBucket denied on bucket backups for target vault")
    assert secret not in str(raised.value)
    assert store.stat("orders/a.dump") is not None  # reading an object is still allowed


@pytest.mark.usefixtures("one_backup")
def test_credentials_come_from_the_environ_mapping(
    s3_endpoint: str, reader_keys: tuple[str, str], enforce_iam: Callable[[], None]
) -> None:
    key_id, secret = reader_keys
    credentials = Credentials(access_key_id_env="READER_KEY", secret_access_key_env="READER_SECRET")
    target = make_target(endpoint_url=s3_endpoint, credentials=credentials)
    enforce_iam()

    good = S3Store(target, {"READER_KEY": key_id, "READER_SECRET": secret})
    assert [s.key for s in good.iter_objects("orders/")] == ["orders/a.dump"]

    forged = S3Store(target, {"READER_KEY": key_id, "READER_SECRET": "not-the-secret"})
    with pytest.raises(StorageError) as raised:
        list(forged.iter_objects("orders/"))
    assert raised.value.kind is StorageErrorKind.ACCESS_DENIED


@pytest.mark.usefixtures("one_backup")
def test_credentials_file_wins_over_process_environment(
    s3_endpoint: str,
    reader_keys: tuple[str, str],
    enforce_iam: Callable[[], None],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key_id, secret = reader_keys
    credentials_file = tmp_path / "credentials"
    credentials_file.write_text(
        f"[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n"
    )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAWRONGWRONGWRONG")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
    enforce_iam()

    target = make_target(
        endpoint_url=s3_endpoint, credentials=Credentials(credentials_file=str(credentials_file))
    )

    assert len(list(S3Store(target, {}).iter_objects("orders/"))) == 1


def test_unknown_profile_is_invalid(s3_endpoint: str, tmp_path: Path) -> None:
    credentials_file = tmp_path / "credentials"
    credentials_file.write_text("[other]\naws_access_key_id = a\naws_secret_access_key = b\n")
    credentials = Credentials(credentials_file=str(credentials_file), profile="backup-reader")

    with pytest.raises(StorageError) as raised:
        S3Store(make_target(endpoint_url=s3_endpoint, credentials=credentials), {})

    assert raised.value.kind is StorageErrorKind.INVALID
    assert "backup-reader" in str(raised.value)


def test_unset_key_variable_is_invalid_and_named() -> None:
    with pytest.raises(StorageError) as raised:
        S3Store(make_target(endpoint_url="http://127.0.0.1:9"), {"DRILL_TEST_AWS_KEY_ID": "testing"})

    assert raised.value.kind is StorageErrorKind.INVALID
    assert "DRILL_TEST_AWS_SECRET" in str(raised.value)


def test_unreachable_endpoint_is_transient() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}"
    store = S3Store(make_target(endpoint_url=endpoint), AWS_ENVIRON, max_attempts=1)

    with pytest.raises(StorageError) as raised:
        list(store.iter_objects(""))

    assert raised.value.kind is StorageErrorKind.TRANSIENT
    assert endpoint in str(raised.value)
