"""Stores escape every name where they read it (drill.names) and read the object under the raw name.

Over a real filesystem (a name that is not UTF-8), moto (an S3 key with control characters) and
gcp-storage-emulator (an object name with a bidi override and a line separator).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from drill.clouds.errors import StorageError, StorageErrorKind
from drill.config import TargetType
from drill.model import Snapshot
from drill.storage.base import raw_key
from drill.storage.filesystem import FilesystemStore
from drill.storage.gcs import GcsStore
from drill.storage.s3 import S3Store
from tests.helpers import AWS_ENVIRON, make_target

if TYPE_CHECKING:
    from google.cloud import storage
    from mypy_boto3_s3 import S3Client

# ESC [31m repaints a terminal, a carriage return rewrites a log line, U+202E reverses what follows,
# U+FFFF is no XML character. (moto 5.2.5 answers 404 to a PUT of a key with a newline, which AWS
# accepts: the filesystem test below carries one.)
HOSTILE = "orders/o\x1b[31m\r\u202e\x85\uffff\\.dump"
ESCAPED = "orders/o\\u001b[31m\\u000d\\u202e\\u0085\\uffff\\\\.dump"


def test_a_key_no_listing_gave_is_refused() -> None:
    for key in ("orders/a\\q.dump", "orders/a\\x41.dump", "orders/trailing\\"):
        with pytest.raises(StorageError) as raised:
            raw_key(key)
        assert raised.value.kind is StorageErrorKind.INVALID


def test_a_filesystem_name_that_is_not_utf8_is_listed_escaped_and_read_raw(tmp_path: Path) -> None:
    raw = b"orders/orders-\xff\x1b[2J\n.dump"
    (tmp_path / "orders").mkdir()
    (tmp_path / os.fsdecode(raw)).write_bytes(b"PGDMP body")  # Path carries the bytes as surrogates
    store = FilesystemStore(make_target(TargetType.FILESYSTEM, path=str(tmp_path), bucket=None, region=None))

    [snapshot] = [item for item in store.iter_objects("orders/") if isinstance(item, Snapshot)]

    assert snapshot.key == "orders/orders-\\xff\\u001b[2J\\u000a.dump"
    assert snapshot.key.encode("utf-8")  # valid text: no surrogate left to crash a writer
    with store.open(snapshot.key) as body:
        assert body.read() == b"PGDMP body"
    assert store.protection(snapshot).key == snapshot.key


def test_an_s3_key_with_control_characters_is_listed_escaped_and_read_raw(
    s3_endpoint: str, s3_admin: S3Client
) -> None:
    s3_admin.create_bucket(Bucket="backups")
    s3_admin.put_object(Bucket="backups", Key=HOSTILE, Body=b"PGDMP body")
    store = S3Store(make_target(endpoint_url=s3_endpoint), AWS_ENVIRON)

    [snapshot] = list(store.iter_objects("orders/"))

    assert snapshot.key == ESCAPED
    assert store.read_small(snapshot.key, 5) == b"PGDMP"
    assert store.protection(snapshot).key == ESCAPED
    with store.open(snapshot.key) as body:
        assert body.read() == b"PGDMP body"


def test_a_gcs_name_with_control_characters_is_listed_escaped_and_read_raw(
    gcs_endpoint: str, gcs_admin: storage.Client
) -> None:
    raw = "orders/o\u202e\u2028\x1b.dump"
    gcs_admin.create_bucket("backups").blob(raw).upload_from_string(b"PGDMP body")
    store = GcsStore(make_target(TargetType.GCS, endpoint_url=gcs_endpoint), {})

    [snapshot] = list(store.iter_objects("orders/"))

    assert snapshot.key == "orders/o\\u202e\\u2028\\u001b.dump"
    assert store.read_small(snapshot.key, 5) == b"PGDMP"
    assert store.protection(snapshot).key == snapshot.key
