"""Who owns the bucket, read rather than assumed. moto ignores ExpectedBucketOwner (measured), so that
path is tested on S3's documented answers through botocore's Stubber, which validates each request
against the S3 service model; the fallbacks are tested on moto itself."""

from __future__ import annotations

from collections.abc import Callable

import boto3
import pytest
from botocore.stub import Stubber

from drill.trust.aws.owner import _expected_owner, bucket_owner
from tests.trust_estate import BUCKET, IAM_READ, OWNER, Estate

OTHER = "444455556666"


def test_expected_bucket_owner_names_the_owner_where_the_endpoint_honours_it() -> None:
    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    refused = {"service_error_code": "AccessDenied", "http_status_code": 403}
    with Stubber(s3) as stubber:
        stubber.add_client_error(
            "get_bucket_versioning",
            **refused,
            expected_params={"Bucket": BUCKET, "ExpectedBucketOwner": "000000000000"},
        )
        stubber.add_client_error(
            "get_bucket_versioning",
            **refused,
            expected_params={"Bucket": BUCKET, "ExpectedBucketOwner": OWNER},
        )
        stubber.add_response(
            "get_bucket_versioning", {"Status": "Enabled"}, {"Bucket": BUCKET, "ExpectedBucketOwner": OTHER}
        )
        owner = _expected_owner(s3, BUCKET, [OWNER, OTHER])
    assert owner is not None and owner.account == OTHER and "ExpectedBucketOwner" in owner.evidence
    # An endpoint that accepts a made-up owner ignores the parameter: nothing is learnt from it.
    with Stubber(s3) as stubber:
        stubber.add_response(
            "get_bucket_versioning",
            {"Status": "Enabled"},
            {"Bucket": BUCKET, "ExpectedBucketOwner": "000000000000"},
        )
        assert _expected_owner(s3, BUCKET, [OWNER]) is None


def test_on_moto_the_owner_is_the_configured_account_or_unknown_never_drills_own(
    s3_endpoint: str, enforce_iam: Callable[[], None]
) -> None:
    estate = Estate(s3_endpoint)
    estate.user("drill", IAM_READ)
    enforce_iam()
    session = boto3.Session(
        aws_access_key_id=estate.environ["DRILL_KEY"], aws_secret_access_key=estate.environ["DRILL_SECRET"]
    )
    acl_owner = estate.client("drill").get_bucket_acl(Bucket=BUCKET)["Owner"]["ID"]
    notes: list[str] = []
    unknown = bucket_owner(
        session,
        estate.target(account=None),
        BUCKET,
        acl_owner_id=acl_owner,
        drill_account=OWNER,
        candidates=[OWNER],
        notes=notes,
    )
    # moto lists drill's buckets under another canonical id than the ACL's owner: that proves nothing.
    assert unknown.account is None and "no permission is ruled out" in unknown.evidence
    configured = bucket_owner(
        session,
        estate.target(account=OTHER),
        BUCKET,
        acl_owner_id=acl_owner,
        drill_account=OWNER,
        candidates=[OTHER],
        notes=notes,
    )
    assert configured.account == OTHER and "configured account" in configured.evidence
    assert notes == []


@pytest.mark.parametrize("same", [True, False])
def test_the_acl_owner_proves_drills_own_account_only_when_the_ids_agree(
    same: bool, s3_endpoint: str
) -> None:
    estate = Estate(s3_endpoint)
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    own_id = s3.list_buckets()["Owner"]["ID"]
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
    notes: list[str] = []
    found = bucket_owner(
        session,
        estate.target(account=OTHER if same else None),
        BUCKET,
        acl_owner_id=own_id if same else "someone-else",
        drill_account=OWNER,
        candidates=[OWNER],
        notes=notes,
    )
    assert found.account == (OWNER if same else None)
    # A configured account that the evidence contradicts is named as such.
    assert bool(notes) is same
