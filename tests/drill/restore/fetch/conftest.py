"""What the fetch tests share: real dumps, an S3 store on moto, and an upload that lists what it put."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from drill.model import Snapshot
from drill.restore.fetch import Fetched
from drill.storage.s3 import S3Store
from tests.helpers import AWS_ENVIRON, make_target
from tests.pg_dumps import Dumps, dumps_for

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MiB = 1 << 20


@pytest.fixture(scope="session")
def dumps(tmp_path_factory: pytest.TempPathFactory) -> Dumps:
    return dumps_for(tmp_path_factory)


@pytest.fixture
def store(s3_endpoint: str, s3_admin: S3Client) -> S3Store:
    s3_admin.create_bucket(Bucket="backups")
    return S3Store(make_target(endpoint_url=s3_endpoint), AWS_ENVIRON)


Upload = Callable[[str, bytes], Snapshot]


@pytest.fixture
def upload(store: S3Store, s3_admin: S3Client) -> Upload:
    """Put an object on moto and return the snapshot the store lists for it."""

    def put(key: str, body: bytes) -> Snapshot:
        s3_admin.put_object(Bucket="backups", Key=key, Body=body)
        snapshot = store.stat(key)
        assert snapshot is not None
        return snapshot

    return put


def leftovers(destination: Path) -> list[str]:
    return sorted(path.name for path in destination.iterdir()) if destination.exists() else []


def pg_restore_lists(dumps: Dumps, fetched: Fetched) -> str:
    listing = subprocess.run(
        (dumps.tool("pg_restore"), "--list", str(fetched.path)), check=True, capture_output=True, text=True
    )
    return listing.stdout


def tree(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in directory.iterdir()}
