"""Which target a repository is judged as: its kind, place, site and credentials."""

from __future__ import annotations

from drill.config import Target, TargetType
from drill.facts import RepoSettings, Unavailable
from drill.storage.pgbackrest.stanza import repo_target


def stanza_target(**keys: object) -> Target:
    fields: dict[str, object] = {
        "name": "main",
        "type": "pgbackrest",
        "stanza": "main",
        "writer": "arn:aws:iam::1:role/backup",
    }
    return Target.model_validate(fields | keys)


def test_an_s3_repository_is_its_bucket_under_the_repository_path() -> None:
    settings = RepoSettings(
        key=2,
        type="s3",
        path="/pgbackrest",
        bucket="backups",
        endpoint="s3.eu-west-1.amazonaws.com",
        region="eu-west-1",
    )
    copy, storage = repo_target(stanza_target(site="aws:1:eu-west-1"), settings, several=True)
    assert isinstance(copy, Target) and storage is None
    assert (copy.name, copy.type, copy.bucket, copy.prefix) == (
        "main.repo2",
        TargetType.S3,
        "backups",
        "pgbackrest",
    )
    assert copy.endpoint_url is None and copy.region == "eu-west-1"  # AWS's own endpoint: the SDK's default
    assert copy.writer == "arn:aws:iam::1:role/backup" and copy.site == "aws:1:eu-west-1"


def test_a_bucket_without_a_site_is_its_own_failure_domain() -> None:
    settings = RepoSettings(key=1, type="gcs", path="/repo", bucket="archive")
    copy, _ = repo_target(stanza_target(), settings, several=False)
    assert isinstance(copy, Target) and copy.type is TargetType.GCS and copy.name == "main"
    assert copy.site == copy.location


def test_a_compatible_endpoint_is_read_over_https_at_its_port() -> None:
    settings = RepoSettings(key=1, type="s3", path="/r", bucket="b", endpoint="minio.internal", port=9000)
    copy, _ = repo_target(stanza_target(site="dc"), settings, several=False)
    assert isinstance(copy, Target) and copy.endpoint_url == "https://minio.internal:9000"


def test_storage_drill_cannot_read_is_said_and_the_copy_kept() -> None:
    azure = RepoSettings(key=3, type="azure", path="/r", bucket="container")
    copy, storage = repo_target(stanza_target(site="azure:eu"), azure, several=True)
    assert isinstance(copy, Target) and copy.name == "main.repo3"
    assert isinstance(storage, Unavailable) and "is of type azure" in storage.reason
    remote = RepoSettings(key=1, type="posix", path="/r", host="backup-host")
    _, storage = repo_target(stanza_target(site="dc"), remote, several=False)
    assert isinstance(storage, Unavailable) and "on host backup-host" in storage.reason


def test_a_directory_without_a_site_cannot_be_placed() -> None:
    copy, _ = repo_target(
        stanza_target(), RepoSettings(key=1, type="posix", path="/var/lib/pgbackrest"), several=False
    )
    assert isinstance(copy, Unavailable) and "Set site" in copy.reason
