"""Probes of the real backup keys on moto with IAM enforced: each names a made-up version, so it
answers for that key and changes nothing. Every test checks the bucket holds what it held before."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from drill.facts import Answer
from drill.trust.aws.probes import MAX_KEYS, probe
from tests.trust_estate import BUCKET, KEYS, Estate

CHINOOK = f"arn:aws:s3:::{BUCKET}/pg/chinook-*"


@pytest.fixture
def estate(s3_endpoint: str, enforce_iam: Callable[[], None]) -> Estate:
    built = Estate(s3_endpoint)
    built.s3.create_bucket(Bucket="plain")
    built.s3.put_object(Bucket="plain", Key=KEYS[0], Body=b"PGDMP")
    built.s3.create_bucket(Bucket="locked", ObjectLockEnabledForBucket=True)
    built.s3.put_object(Bucket="locked", Key=KEYS[0], Body=b"PGDMP")
    built.s3.put_object_legal_hold(Bucket="locked", Key=KEYS[0], LegalHold={"Status": "ON"})
    built.user("writer", {"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    built.user("reader")
    built.user("pruner", {"Effect": "Allow", "Action": "s3:DeleteObjectVersion", "Resource": CHINOOK})
    enforce_iam()
    return built


def contents(estate: Estate, bucket: str) -> tuple[list[tuple[str, str]], list[str]]:
    listed = estate.client("writer").list_object_versions(Bucket=bucket)
    versions = [(item["Key"], item["VersionId"]) for item in listed.get("Versions", [])]
    return versions, [item["Key"] for item in listed.get("DeleteMarkers", [])]


def probed(
    estate: Estate, who: str, bucket: str, versioning: str | None, keys: tuple[str, ...] = KEYS
) -> dict[str, Any]:
    session = boto3.Session(
        aws_access_key_id=estate.environ[f"{who.upper()}_KEY"],
        aws_secret_access_key=estate.environ[f"{who.upper()}_SECRET"],
    )
    return probe(session, estate.target(bucket=bucket), bucket, versioning, keys)


def test_a_writer_is_allowed_and_a_reader_denied_on_every_key_and_nothing_changes(estate: Estate) -> None:
    before = contents(estate, BUCKET)
    writer = probed(estate, "writer", BUCKET, "Enabled")
    reader = probed(estate, "reader", BUCKET, "Enabled")
    allowed = writer["s3:DeleteObjectVersion"]
    assert allowed.answer is Answer.ALLOWED and "made-up version id" in allowed.detail
    denied = reader["s3:DeleteObjectVersion"]
    assert denied.answer is Answer.DENIED and "403 AccessDenied" in denied.detail
    assert all(key in denied.detail for key in KEYS)
    # The retention and legal-hold writes answer 400 InvalidRequest without Object Lock: authorized.
    assert writer["s3:PutObjectRetention"].answer is Answer.ALLOWED
    assert reader["s3:PutObjectLegalHold"].answer is Answer.DENIED
    assert contents(estate, BUCKET) == before


def test_a_grant_on_some_backups_is_found_on_them_not_hidden_by_the_others(estate: Estate) -> None:
    pruner = probed(estate, "pruner", BUCKET, "Enabled")["s3:DeleteObjectVersion"]
    assert pruner.answer is Answer.ALLOWED and "chinook" in pruner.detail
    outside = probed(estate, "pruner", BUCKET, "Enabled", (KEYS[2],))["s3:DeleteObjectVersion"]
    assert outside.answer is Answer.DENIED


def test_nothing_is_sent_to_a_bucket_that_is_not_versioned(estate: Estate) -> None:
    # moto deletes the object when asked to delete a made-up version on an unversioned bucket.
    answers = probed(estate, "writer", "plain", None, (KEYS[0],))
    assert answers["s3:DeleteObjectVersion"].answer is Answer.UNKNOWN
    assert "versioning is off" in answers["s3:DeleteObjectVersion"].detail
    assert [key for key, _ in contents(estate, "plain")[0]] == [KEYS[0]]


def test_an_unexpected_answer_is_unknown_and_the_legal_hold_stays(estate: Estate) -> None:
    # On an Object Lock bucket moto fails with a 500 on a made-up version (AWS answers 404).
    answers = probed(estate, "writer", "locked", "Enabled", (KEYS[0],))
    assert (
        answers["s3:PutObjectLegalHold"].answer is Answer.UNKNOWN
        and "500" in answers["s3:PutObjectLegalHold"].detail
    )
    hold = estate.client("writer").get_object_legal_hold(Bucket="locked", Key=KEYS[0])
    assert hold["LegalHold"]["Status"] == "ON"


def test_keys_beyond_the_bound_leave_a_denial_unknown(estate: Estate) -> None:
    many = tuple(f"pg/chinook-{index:03}.dump" for index in range(MAX_KEYS + 2))
    answer = probed(estate, "reader", BUCKET, "Enabled", many)["s3:DeleteObjectVersion"]
    assert answer.answer is Answer.UNKNOWN and "2 more were not probed" in answer.detail
    assert probed(estate, "reader", BUCKET, "Enabled", ())["s3:DeleteObjectVersion"].answer is Answer.UNKNOWN
