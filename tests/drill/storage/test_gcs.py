"""GcsStore against a real gcp-storage-emulator: listing, metadata, reads, and how failures are reported."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.cloud.storage.retry import DEFAULT_RETRY

from drill.clouds.errors import StorageError, StorageErrorKind
from drill.config import Credentials, TargetType
from drill.storage import gcs
from drill.storage.gcs import GcsStore
from tests.helpers import make_target

if TYPE_CHECKING:
    from google.cloud import storage


@pytest.fixture
def bucket(gcs_admin: storage.Client) -> storage.Bucket:
    return gcs_admin.create_bucket("backups")


def store_for(endpoint: str, **overrides: Any) -> GcsStore:
    return GcsStore(make_target(TargetType.GCS, endpoint_url=endpoint, **overrides), {})


def test_listing_streams_every_object(gcs_endpoint: str, bucket: storage.Bucket) -> None:
    for index in range(60):
        bucket.blob(f"orders/{index:04d}.dump").upload_from_string(b"x")
    store = GcsStore(make_target(TargetType.GCS, endpoint_url=gcs_endpoint), {}, page_size=25)

    keys = [snapshot.key for snapshot in store.iter_objects("orders/")]

    # The emulator ignores maxResults and answers in one page; real GCS pages at 25 here.
    assert sorted(keys) == [f"orders/{index:04d}.dump" for index in range(60)]


def test_listed_object_has_size_time_and_checksums(gcs_endpoint: str, bucket: storage.Bucket) -> None:
    body = b"pg_dump output"
    bucket.blob("orders/a.dump").upload_from_string(body)
    stored = bucket.get_blob("orders/a.dump")
    assert stored is not None

    [snapshot] = store_for(gcs_endpoint).iter_objects("orders/")

    assert snapshot.key == "orders/a.dump"
    assert snapshot.size == len(body)
    assert snapshot.created_at.tzinfo is not None
    assert abs(datetime.now(UTC) - snapshot.created_at) < timedelta(minutes=1)
    assert (
        snapshot.checksum("md5")
        == base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()
    )
    assert snapshot.checksum("crc32c") == stored.crc32c


def test_listing_keeps_to_the_prefix(gcs_endpoint: str, bucket: storage.Bucket) -> None:
    for key in ("orders/1.dump", "orders-archive/1.dump", "payments/1.dump"):
        bucket.blob(key).upload_from_string(b"x")

    assert [s.key for s in store_for(gcs_endpoint).iter_objects("orders/")] == ["orders/1.dump"]
    assert len(list(store_for(gcs_endpoint).iter_objects(""))) == 3


def test_stat_reports_size_and_checksums(gcs_endpoint: str, bucket: storage.Bucket) -> None:
    body = b"checksummed backup"
    bucket.blob("orders/a.dump").upload_from_string(body)

    snapshot = store_for(gcs_endpoint).stat("orders/a.dump")

    assert snapshot is not None
    assert snapshot.size == len(body)
    assert (
        snapshot.checksum("md5")
        == base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()
    )
    assert snapshot.checksum("crc32c") is not None


def test_stat_of_a_missing_object_is_none(gcs_endpoint: str, bucket: storage.Bucket) -> None:
    assert store_for(gcs_endpoint).stat("orders/nothing.dump") is None


def test_stat_in_a_missing_bucket_is_not_found(gcs_endpoint: str) -> None:
    with pytest.raises(StorageError) as raised:
        store_for(gcs_endpoint, bucket="gone").stat("orders/a.dump")

    assert raised.value.kind is StorageErrorKind.NOT_FOUND
    assert str(raised.value) == "Bucket gone of target vault does not exist."


def test_read_small_reads_at_most_the_limit(gcs_endpoint: str, bucket: storage.Bucket) -> None:
    bucket.blob("orders/a.dump.sha256").upload_from_string(b"abcdef  a.dump\n")
    bucket.blob("orders/empty.sha256").upload_from_string(b"")
    store = store_for(gcs_endpoint)

    assert store.read_small("orders/a.dump.sha256", 6) == b"abcdef"
    assert store.read_small("orders/a.dump.sha256", 1024) == b"abcdef  a.dump\n"
    assert store.read_small("orders/empty.sha256", 1024) == b""
    assert store.read_small("orders/missing.sha256", 1024) is None


def test_read_small_in_a_missing_bucket_is_not_found(gcs_endpoint: str) -> None:
    with pytest.raises(StorageError) as raised:
        store_for(gcs_endpoint, bucket="gone").read_small("orders/a.dump.sha256", 1024)

    assert raised.value.kind is StorageErrorKind.NOT_FOUND


def test_open_streams_the_body_in_ranged_reads(
    gcs_endpoint: str, bucket: storage.Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = bytes(range(256)) * 12_000  # about 3 MB
    bucket.blob("orders/a.dump").upload_from_string(body)
    monkeypatch.setattr(gcs, "_READ_CHUNK", 1024 * 1024)  # several ranged requests, not one

    received = bytearray()
    with store_for(gcs_endpoint).open("orders/a.dump") as stream:
        while chunk := stream.read(64 * 1024):
            received += chunk

    assert bytes(received) == body


def test_open_of_a_missing_object_is_not_found(gcs_endpoint: str, bucket: storage.Bucket) -> None:
    with pytest.raises(StorageError) as raised:
        store_for(gcs_endpoint).open("orders/nothing.dump")

    assert raised.value.kind is StorageErrorKind.NOT_FOUND
    assert "gs://backups/orders/nothing.dump" in str(raised.value)


def test_listing_a_missing_bucket_is_not_found(gcs_endpoint: str) -> None:
    with pytest.raises(StorageError) as raised:
        list(store_for(gcs_endpoint, bucket="gone").iter_objects(""))

    assert raised.value.kind is StorageErrorKind.NOT_FOUND
    assert str(raised.value) == "Bucket gone of target vault does not exist."


def test_unreachable_endpoint_is_transient() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}"
    target = make_target(TargetType.GCS, endpoint_url=endpoint)
    store = GcsStore(target, {}, retry=DEFAULT_RETRY.with_timeout(0.5))

    with pytest.raises(StorageError) as raised:
        list(store.iter_objects(""))

    assert raised.value.kind is StorageErrorKind.TRANSIENT
    assert endpoint in str(raised.value)


def test_service_account_file_gives_the_client_its_project(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "backup-project",
        "private_key_id": "1",
        "private_key": pem,
        "client_email": "drill@backup-project.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(info))
    target = make_target(TargetType.GCS, credentials=Credentials(service_account_file=str(path)))

    store = GcsStore(target, {})  # builds the client only; no request is made

    assert store.client.project == "backup-project"


def test_malformed_service_account_file_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "sa.json"
    path.write_text(json.dumps({"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----"}))
    target = make_target(TargetType.GCS, credentials=Credentials(service_account_file=str(path)))

    with pytest.raises(StorageError) as raised:
        GcsStore(target, {})

    assert raised.value.kind is StorageErrorKind.INVALID
    assert "BEGIN PRIVATE KEY" not in str(raised.value)
