"""The normalising functions of drill.storage.s3_posture on documented AWS response shapes that moto
cannot produce: lifecycle filters it drops, default retention as AWS sends it, multipart checksums."""

from __future__ import annotations

from datetime import UTC, datetime

from drill.facts import LifecycleRule
from drill.storage.s3_posture import lifecycle_rule, object_lock, object_protection


def test_size_filters_make_conditions_unknown() -> None:
    # Documented shape (GetBucketLifecycleConfiguration): moto drops ObjectSizeGreaterThan and
    # NewerNoncurrentVersions on the way in (the rule comes back with an empty Filter), so these
    # cannot round-trip through the emulator.
    sized = lifecycle_rule(
        {
            "ID": "big",
            "Status": "Enabled",
            "Filter": {"ObjectSizeGreaterThan": 1_000_000},
            "Expiration": {"Days": 5},
        },
        0,
    )
    combined = lifecycle_rule(
        {
            "ID": "small-in-prefix",
            "Status": "Enabled",
            "Filter": {"And": {"Prefix": "orders/", "ObjectSizeLessThan": 1024}},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 4, "NewerNoncurrentVersions": 2},
        },
        1,
    )
    unnamed = lifecycle_rule({"Status": "Enabled", "Filter": {"Prefix": "a/"}, "Expiration": {"Days": 1}}, 2)

    assert sized == LifecycleRule(
        rule_id="big",
        enabled=True,
        prefix=None,
        expire_current_days=5,
        conditions_unknown=True,
        raw={
            "ID": "big",
            "Status": "Enabled",
            "Filter": {"ObjectSizeGreaterThan": 1_000_000},
            "Expiration": {"Days": 5},
        },
    )
    assert (combined.prefix, combined.expire_noncurrent_days, combined.conditions_unknown) == (
        "orders/",
        4,
        True,
    )
    assert unnamed.rule_id == "lifecycle[2]"


def test_default_retention_as_aws_sends_it() -> None:
    # Documented shape: AWS sends only the one of Days and Years that is set (moto sends both, one as 0).
    years = {
        "ObjectLockConfiguration": {
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 2}},
        }
    }
    days = {
        "ObjectLockConfiguration": {
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 10}},
        }
    }

    assert object_lock(years) == (True, "COMPLIANCE", 730)
    assert object_lock(days) == (True, "GOVERNANCE", 10)
    assert object_lock({"ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled"}}) == (True, None, None)


def test_multipart_checksums_are_not_object_checksums() -> None:
    # Documented HeadObject shape of a multipart upload: the checksum of part checksums carries "-N";
    # built by hand to pin the rule without uploading 5 MiB parts.
    head = {
        "ContentLength": 10_485_760,
        "LastModified": datetime(2026, 1, 1, tzinfo=UTC),
        "ETag": '"d41d8cd98f00b204e9800998ecf8427e-2"',
        "ChecksumSHA256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=-2",
        "ChecksumType": "COMPOSITE",
        "VersionId": "null",
        "ObjectLockMode": "COMPLIANCE",
        "ObjectLockRetainUntilDate": datetime(2026, 2, 1, tzinfo=UTC),
        "ObjectLockLegalHoldStatus": "OFF",
    }

    protection = object_protection("orders/big.dump", head)

    assert protection.checksums == {"etag": "d41d8cd98f00b204e9800998ecf8427e-2"}
    assert protection.version_id is None  # "null" is the version of an unversioned write
    assert protection.legal_hold is False
    assert protection.retain_until == datetime(2026, 2, 1, tzinfo=UTC)
