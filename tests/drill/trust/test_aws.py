"""AWS trust evidence against moto in server mode with authorization on: real IAM users, keys,
GetCallerIdentity and probes. moto does not implement SimulatePrincipalPolicy: the tests check that
its absence is recorded as a gap and never read as an answer."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from drill.config import Credentials
from drill.storage.base import StorageError
from drill.trust.aws import caller_identity, s3_access
from drill.trust_facts import Answer, EvidenceSource
from tests.helpers import make_target

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_s3 import S3Client

EVERYTHING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:*", "sts:*"], "Resource": "*"}],
}
# moto asks for sts:GetCallerIdentity under enforcement, though AWS needs no permission for it.
READ_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*", "sts:GetCallerIdentity"], "Resource": "*"}
    ],
}
AGENT = Credentials(access_key_id_env="AGENT_KEY", secret_access_key_env="AGENT_SECRET")
VERIFIER = Credentials(access_key_id_env="DRILL_KEY", secret_access_key_env="DRILL_SECRET")


def keys(iam: IAMClient, name: str, policy: dict[str, Any]) -> tuple[str, str]:
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


@pytest.fixture
def environ(s3_admin: S3Client, iam_admin: IAMClient, enforce_iam: Callable[[], None]) -> dict[str, str]:
    s3_admin.create_bucket(Bucket="backups")
    s3_admin.put_bucket_versioning(Bucket="backups", VersioningConfiguration={"Status": "Enabled"})
    s3_admin.put_object(Bucket="backups", Key="pg/orders.dump", Body=b"PGDMP")
    s3_admin.create_bucket(Bucket="plain")
    drill_key, drill_secret = keys(iam_admin, "drill", READ_ONLY)
    writer_key, writer_secret = keys(iam_admin, "writer", EVERYTHING)
    reader_key, reader_secret = keys(iam_admin, "reader", READ_ONLY)
    enforce_iam()
    return {
        "DRILL_KEY": drill_key,
        "DRILL_SECRET": drill_secret,
        "WRITER_KEY": writer_key,
        "WRITER_SECRET": writer_secret,
        "READER_KEY": reader_key,
        "READER_SECRET": reader_secret,
    }


def writer_client(endpoint: str, environ: dict[str, str]) -> S3Client:
    """Under enforcement only IAM users' keys work; the writer may list everything."""
    client: S3Client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=environ["WRITER_KEY"],
        aws_secret_access_key=environ["WRITER_SECRET"],
    )
    return client


def as_agent(environ: dict[str, str], who: str) -> dict[str, str]:
    return {**environ, "AGENT_KEY": environ[f"{who}_KEY"], "AGENT_SECRET": environ[f"{who}_SECRET"]}


def test_caller_identity_names_the_user_and_its_account(s3_endpoint: str, environ: dict[str, str]) -> None:
    identity = caller_identity(AGENT, make_target(endpoint_url=s3_endpoint), as_agent(environ, "READER"))
    assert identity.principal == "arn:aws:iam::123456789012:user/reader"
    assert identity.account == "123456789012" and identity.source == "sts:GetCallerIdentity"


def test_bad_keys_are_an_identity_error_without_the_secret(s3_endpoint: str, environ: dict[str, str]) -> None:
    forged = {"AGENT_KEY": environ["READER_KEY"], "AGENT_SECRET": "not-the-secret"}
    with pytest.raises(StorageError, match="sts:GetCallerIdentity failed") as raised:
        caller_identity(AGENT, make_target(endpoint_url=s3_endpoint), forged)
    assert "not-the-secret" not in str(raised.value)


def test_probes_find_what_a_writer_may_do_and_leave_no_trace(
    s3_endpoint: str, environ: dict[str, str]
) -> None:
    target = make_target(endpoint_url=s3_endpoint, prefix="pg/", credentials=VERIFIER)
    access = s3_access(target, AGENT, as_agent(environ, "WRITER"), verifier_credentials=VERIFIER)
    version = access.answer("s3:DeleteObjectVersion")
    assert version is not None and version.answer is Answer.ALLOWED and version.source is EvidenceSource.PROBE
    # On a versioned bucket, DeleteObject would leave a delete marker: not probed without opt-in.
    delete = access.answer("s3:DeleteObject")
    assert delete is not None and delete.answer is Answer.UNKNOWN and "trace_probes" in delete.detail
    # Bucket configuration is never probed, and moto cannot simulate: unknown, with the gap named.
    policy = access.answer("s3:PutBucketPolicy")
    assert policy is not None and policy.answer is Answer.UNKNOWN
    assert any("SimulatePrincipalPolicy" in gap for gap in access.gaps)
    # Nothing was written, deleted or marked: the bucket holds exactly the one snapshot version.
    versions = writer_client(s3_endpoint, environ).list_object_versions(Bucket="backups")
    assert [v["Key"] for v in versions.get("Versions", [])] == ["pg/orders.dump"]
    assert versions.get("DeleteMarkers", []) == []


def test_a_read_only_agent_is_denied_by_every_probe(s3_endpoint: str, environ: dict[str, str]) -> None:
    target = make_target(bucket="plain", endpoint_url=s3_endpoint, credentials=VERIFIER)
    access = s3_access(target, AGENT, as_agent(environ, "READER"), verifier_credentials=VERIFIER)
    probed = [
        answer
        for answer in access.permissions
        if answer.source is EvidenceSource.PROBE and answer.answer is not Answer.UNKNOWN
    ]
    assert {answer.permission for answer in probed} >= {"s3:DeleteObject", "s3:DeleteObjectVersion"}
    assert {answer.answer for answer in probed} == {Answer.DENIED}


def test_on_an_unversioned_bucket_delete_object_is_probed_without_trace(
    s3_endpoint: str, environ: dict[str, str]
) -> None:
    target = make_target(bucket="plain", endpoint_url=s3_endpoint, credentials=VERIFIER)
    access = s3_access(target, AGENT, as_agent(environ, "WRITER"), verifier_credentials=VERIFIER)
    delete = access.answer("s3:DeleteObject")
    assert delete is not None and delete.answer is Answer.ALLOWED
    assert writer_client(s3_endpoint, environ).list_objects_v2(Bucket="plain").get("KeyCount") == 0


def test_another_account_is_denied_by_the_bucket_policy(s3_endpoint: str, environ: dict[str, str]) -> None:
    target = make_target(endpoint_url=s3_endpoint, credentials=VERIFIER)
    # The owner is declared to be another account than the agent's: nothing in the policy grants it.
    access = s3_access(
        target,
        AGENT,
        as_agent(environ, "WRITER"),
        verifier_credentials=VERIFIER,
        owner_account="999999999999",
    )
    policy = access.answer("s3:PutBucketPolicy")
    assert (
        policy is not None
        and policy.answer is Answer.DENIED
        and policy.source is EvidenceSource.RESOURCE_POLICY
    )


def test_missing_agent_keys_name_the_variable(s3_endpoint: str, environ: dict[str, str]) -> None:
    target = make_target(endpoint_url=s3_endpoint, credentials=VERIFIER)
    with pytest.raises(StorageError, match="AGENT_KEY"):
        s3_access(target, AGENT, environ, verifier_credentials=VERIFIER)
