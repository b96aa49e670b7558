"""S3Store.posture() and protection() against a real moto server (the documented shapes moto cannot
produce are read in test_s3_posture_shapes.py)."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from drill.clouds.errors import StorageError, StorageErrorKind
from drill.facts import S3BucketPosture
from drill.model import Snapshot, Unavailable
from drill.storage.s3 import S3Store
from drill.storage.s3_posture import acl_digest
from tests.helpers import AWS_ENVIRON, make_target

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import DefaultRetentionTypeDef

NO_LIFECYCLE_READ = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:GetLifecycleConfiguration", "Resource": "arn:aws:s3:::backups"},
    ],
}


def store_for(endpoint: str, **overrides: Any) -> S3Store:
    return S3Store(make_target(endpoint_url=endpoint, **overrides), AWS_ENVIRON)


def locked_bucket(s3: S3Client, retention: DefaultRetentionTypeDef | None) -> None:
    """A bucket created with Object Lock; the default rule goes on before any object (moto refuses it after)."""
    s3.create_bucket(Bucket="backups", ObjectLockEnabledForBucket=True)
    if retention is not None:
        s3.put_object_lock_configuration(
            Bucket="backups",
            ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": retention}},
        )


def listed(key: str, version_id: str | None = None) -> Snapshot:
    return Snapshot(key=key, size=0, created_at=datetime.now(UTC), version_id=version_id)


def count_calls(store: S3Store) -> list[str]:
    calls: list[str] = []
    store.client.meta.events.register("before-call.s3.*", lambda model, **_: calls.append(model.name))
    return calls


def test_compliance_default_locks_objects_written_afterwards(s3_endpoint: str, s3_admin: S3Client) -> None:
    locked_bucket(s3_admin, {"Mode": "COMPLIANCE", "Days": 30})
    body = b"pg_dump output"
    s3_admin.put_object(Bucket="backups", Key="orders/a.dump", Body=body, ChecksumAlgorithm="SHA256")
    store = store_for(s3_endpoint)
    calls = count_calls(store)

    posture = store.posture()
    protection = store.protection(listed("orders/a.dump"))

    assert posture == S3BucketPosture(
        versioning="Enabled",
        object_lock_enabled=True,
        default_lock_mode="COMPLIANCE",
        default_lock_days=30,
        lifecycle=(),
        policy=None,  # the bucket has none
        acl=acl_digest(s3_admin.get_bucket_acl(Bucket="backups")),  # type: ignore[arg-type]
    )
    assert calls == [
        "GetBucketVersioning",
        "GetObjectLockConfiguration",
        "GetBucketLifecycleConfiguration",
        "GetBucketPolicy",
        "GetBucketAcl",
        "HeadObject",
    ]
    assert protection.key == "orders/a.dump"
    assert protection.size == len(body)
    assert protection.lock_mode == "COMPLIANCE"
    assert protection.retain_until is not None
    assert protection.retain_until.tzinfo == UTC
    assert protection.written_at.tzinfo == UTC
    assert abs(protection.retain_until - protection.written_at - timedelta(days=30)) < timedelta(minutes=1)
    assert protection.version_id is not None
    assert protection.legal_hold is False
    assert protection.checksums == {
        "etag": hashlib.md5(body, usedforsecurity=False).hexdigest(),
        "sha256": base64.b64encode(hashlib.sha256(body).digest()).decode(),
    }


def test_governance_default_in_years_counts_365_days_each(s3_endpoint: str, s3_admin: S3Client) -> None:
    locked_bucket(s3_admin, {"Mode": "GOVERNANCE", "Years": 1})
    s3_admin.put_object(Bucket="backups", Key="orders/a.dump", Body=b"x")
    store = store_for(s3_endpoint)

    posture = store.posture()
    protection = store.protection(listed("orders/a.dump"))

    assert posture.default_lock_mode == "GOVERNANCE"
    assert posture.default_lock_days == 365
    assert protection.lock_mode == "GOVERNANCE"
    assert protection.retain_until is not None
    assert protection.retain_until - protection.written_at > timedelta(days=364)


def test_lock_without_a_default_rule_has_no_mode(s3_endpoint: str, s3_admin: S3Client) -> None:
    locked_bucket(s3_admin, None)
    s3_admin.put_object(Bucket="backups", Key="orders/a.dump", Body=b"x")
    store = store_for(s3_endpoint)

    posture = store.posture()
    protection = store.protection(listed("orders/a.dump"))

    assert posture.object_lock_enabled is True
    assert posture.default_lock_mode is None
    assert posture.default_lock_days is None
    assert protection.lock_mode is None
    assert protection.retain_until is None


def test_plain_bucket_has_no_versioning_lock_or_lifecycle(s3_endpoint: str, s3_admin: S3Client) -> None:
    s3_admin.create_bucket(Bucket="backups")
    s3_admin.put_object(Bucket="backups", Key="orders/a.dump", Body=b"x")
    store = store_for(s3_endpoint)

    posture = store.posture()
    protection = store.protection(listed("orders/a.dump"))

    assert posture == S3BucketPosture(
        versioning=None,
        object_lock_enabled=False,
        default_lock_mode=None,
        default_lock_days=None,
        lifecycle=(),
        policy=None,
        acl=acl_digest(s3_admin.get_bucket_acl(Bucket="backups")),  # type: ignore[arg-type]
    )
    assert protection.version_id is None
    assert protection.lock_mode is None
    assert protection.retain_until is None
    assert protection.legal_hold is False
    assert protection.holds == ()
    # boto3 >= 1.36 sends a CRC32 with every upload by default, so moto stores one too.
    assert protection.checksums["etag"] == hashlib.md5(b"x", usedforsecurity=False).hexdigest()


def test_suspended_versioning_is_reported(s3_endpoint: str, s3_admin: S3Client) -> None:
    s3_admin.create_bucket(Bucket="backups")
    s3_admin.put_bucket_versioning(Bucket="backups", VersioningConfiguration={"Status": "Enabled"})
    s3_admin.put_bucket_versioning(Bucket="backups", VersioningConfiguration={"Status": "Suspended"})

    assert store_for(s3_endpoint).posture().versioning == "Suspended"


def test_legal_hold_on_an_object_is_reported(s3_endpoint: str, s3_admin: S3Client) -> None:
    locked_bucket(s3_admin, None)
    s3_admin.put_object(Bucket="backups", Key="orders/a.dump", Body=b"x")
    s3_admin.put_object_legal_hold(Bucket="backups", Key="orders/a.dump", LegalHold={"Status": "ON"})

    protection = store_for(s3_endpoint).protection(listed("orders/a.dump"))

    assert protection.legal_hold is True
    assert protection.lock_mode is None


def test_protection_reads_the_listed_version(s3_endpoint: str, s3_admin: S3Client) -> None:
    s3_admin.create_bucket(Bucket="backups")
    s3_admin.put_bucket_versioning(Bucket="backups", VersioningConfiguration={"Status": "Enabled"})
    first = s3_admin.put_object(Bucket="backups", Key="orders/a.dump", Body=b"first")["VersionId"]
    s3_admin.put_object(Bucket="backups", Key="orders/a.dump", Body=b"overwritten")
    store = store_for(s3_endpoint)

    old = store.protection(listed("orders/a.dump", version_id=first))
    current = store.protection(listed("orders/a.dump"))

    assert (old.version_id, old.size) == (first, len(b"first"))
    assert current.version_id != first
    assert current.size == len(b"overwritten")


def test_protection_of_a_vanished_object_is_not_found(s3_endpoint: str, s3_admin: S3Client) -> None:
    s3_admin.create_bucket(Bucket="backups")

    with pytest.raises(StorageError) as raised:
        store_for(s3_endpoint).protection(listed("orders/a.dump"))

    assert raised.value.kind is StorageErrorKind.NOT_FOUND
    assert "s3://backups/orders/a.dump" in str(raised.value)


def test_protection_in_a_missing_bucket_is_not_found(s3_endpoint: str) -> None:
    with pytest.raises(StorageError) as raised:
        store_for(s3_endpoint, bucket="gone").protection(listed("orders/a.dump"))

    assert raised.value.kind is StorageErrorKind.NOT_FOUND
    assert str(raised.value) == "Bucket gone of target vault does not exist."


def test_lifecycle_rules_are_normalised(s3_endpoint: str, s3_admin: S3Client) -> None:
    s3_admin.create_bucket(Bucket="backups")
    s3_admin.put_bucket_versioning(Bucket="backups", VersioningConfiguration={"Status": "Enabled"})
    on = datetime(2030, 1, 1, tzinfo=UTC)
    s3_admin.put_bucket_lifecycle_configuration(
        Bucket="backups",
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "week",
                    "Status": "Enabled",
                    "Filter": {"Prefix": "orders/"},
                    "Expiration": {"Days": 7},
                },
                {
                    "ID": "old-versions",
                    "Status": "Enabled",
                    "Filter": {},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 3},
                },
                {"ID": "cutoff", "Status": "Disabled", "Filter": {"Prefix": ""}, "Expiration": {"Date": on}},
                {
                    "ID": "tagged",
                    "Status": "Enabled",
                    "Filter": {"Tag": {"Key": "tier", "Value": "scratch"}},
                    "Expiration": {"Days": 1},
                },
                {
                    "ID": "tagged-prefix",
                    "Status": "Enabled",
                    "Filter": {"And": {"Prefix": "tmp/", "Tags": [{"Key": "tier", "Value": "scratch"}]}},
                    "Expiration": {"Days": 2},
                },
                {"ID": "legacy", "Status": "Enabled", "Prefix": "old/", "Expiration": {"Days": 90}},
            ]
        },
    )

    lifecycle = store_for(s3_endpoint).posture().lifecycle

    assert not isinstance(lifecycle, Unavailable)
    summary = [
        (
            rule.rule_id,
            rule.enabled,
            rule.prefix,
            rule.expire_current_days,
            rule.expire_noncurrent_days,
            rule.expire_on,
            rule.conditions_unknown,
        )
        for rule in lifecycle
    ]
    assert summary == [
        ("week", True, "orders/", 7, None, None, False),
        ("old-versions", True, None, None, 3, None, False),
        ("cutoff", False, None, None, None, on, False),
        ("tagged", True, None, 1, None, None, True),
        ("tagged-prefix", True, "tmp/", 2, None, None, True),
        ("legacy", True, "old/", 90, None, None, False),
    ]
    assert lifecycle[0].raw == {
        "ID": "week",
        "Status": "Enabled",
        "Filter": {"Prefix": "orders/"},
        "Expiration": {"Days": 7},
    }
    assert lifecycle[2].raw["Expiration"]["Date"] == on
    json.dumps([dict(rule.raw) for rule in lifecycle], default=str)  # evidence serialises


def test_missing_bucket_makes_every_part_unavailable(s3_endpoint: str) -> None:
    store = store_for(s3_endpoint, bucket="gone")
    calls = count_calls(store)

    posture = store.posture()

    gone = Unavailable("Bucket gone of target vault does not exist.")
    assert posture == S3BucketPosture(gone, gone, gone, gone, gone, gone, gone)
    assert calls == ["GetBucketVersioning"]  # the first answer settles it


def test_denied_lifecycle_read_leaves_the_other_parts_readable(
    s3_endpoint: str, iam_admin: IAMClient, enforce_iam: Callable[[], None]
) -> None:
    admin: S3Client = store_for(s3_endpoint).client
    locked_bucket(admin, {"Mode": "COMPLIANCE", "Days": 30})
    admin.put_bucket_lifecycle_configuration(
        Bucket="backups",
        LifecycleConfiguration={
            "Rules": [{"ID": "week", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 7}}]
        },
    )
    iam_admin.create_user(UserName="auditor")
    iam_admin.put_user_policy(
        UserName="auditor", PolicyName="drill-test", PolicyDocument=json.dumps(NO_LIFECYCLE_READ)
    )
    key = iam_admin.create_access_key(UserName="auditor")["AccessKey"]
    environ = {"DRILL_TEST_AWS_KEY_ID": key["AccessKeyId"], "DRILL_TEST_AWS_SECRET": key["SecretAccessKey"]}
    enforce_iam()

    posture = S3Store(make_target(endpoint_url=s3_endpoint), environ).posture()

    assert posture.versioning == "Enabled"
    assert posture.object_lock_enabled is True
    assert posture.default_lock_mode == "COMPLIANCE"
    assert posture.default_lock_days == 30
    assert isinstance(posture.lifecycle, Unavailable)
    assert posture.lifecycle.reason.startswith(
        "s3:GetLifecycleConfiguration denied on bucket backups for target vault"
    )
    assert key["SecretAccessKey"] not in posture.lifecycle.reason


def test_unreachable_endpoint_makes_parts_unavailable_without_raising() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}"
    store = S3Store(make_target(endpoint_url=endpoint), AWS_ENVIRON, max_attempts=1)

    posture = store.posture()

    assert isinstance(posture.versioning, Unavailable)
    assert endpoint in posture.versioning.reason
    assert "s3:GetBucketVersioning" in posture.versioning.reason
    assert isinstance(posture.lifecycle, Unavailable)
    assert "s3:GetLifecycleConfiguration" in posture.lifecycle.reason
