"""AWS trust evidence against moto in server mode with authorization on: real IAM users and keys
in two accounts, GetCallerIdentity, bucket policies and probes. moto does not implement
SimulatePrincipalPolicy (tests/drill/trust/aws/test_simulation.py reads documented responses
instead): here its absence must be a gap, never an answer. Every probe test also checks that the
bucket holds exactly what it held before."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

import boto3
import pytest

from drill.clouds.errors import StorageError, StorageErrorKind
from drill.config import Credentials
from drill.facts import Access, Answer, EvidenceSource, PermissionAnswer
from drill.permissions import S3_DESTRUCTIVE
from drill.trust.aws.access import s3_access, strongest, verifier_access
from drill.trust.aws.identity import caller_identity
from tests.helpers import iam_user_keys, make_target, other_account_iam

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_s3 import S3Client

OWNER_ACCOUNT = "123456789012"  # moto's default account
OTHER_ACCOUNT = "222222222222"
SNAPSHOT = "pg/orders.dump"
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
# What drill's own credentials need for every kind of evidence.
DRILL = {
    "Version": "2012-10-17",
    "Statement": [
        *READ_ONLY["Statement"],
        {"Effect": "Allow", "Action": ["iam:SimulatePrincipalPolicy", "iam:GetRole"], "Resource": "*"},
    ],
}
# Another account may read the snapshots, and nothing more.
READS_FOR_OTHER_ACCOUNT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::backups/pg/*",
        }
    ],
}
AGENT = Credentials(access_key_id_env="AGENT_KEY", secret_access_key_env="AGENT_SECRET")
VERIFIER = Credentials(access_key_id_env="DRILL_KEY", secret_access_key_env="DRILL_SECRET")
PROBED = ("s3:DeleteObjectVersion", "s3:PutObjectRetention", "s3:PutObjectLegalHold")


@pytest.fixture
def environ(
    s3_endpoint: str, s3_admin: S3Client, iam_admin: IAMClient, enforce_iam: Callable[[], None]
) -> dict[str, str]:
    """Three buckets (versioned with a policy, never versioned, Object Lock), each holding one
    snapshot; drill, a writer and a reader in the owner's account; an auditor in another."""
    s3_admin.create_bucket(Bucket="backups")
    s3_admin.put_bucket_versioning(Bucket="backups", VersioningConfiguration={"Status": "Enabled"})
    s3_admin.put_bucket_policy(Bucket="backups", Policy=json.dumps(READS_FOR_OTHER_ACCOUNT))
    s3_admin.create_bucket(Bucket="plain")
    s3_admin.create_bucket(Bucket="locked", ObjectLockEnabledForBucket=True)
    s3_admin.put_object_lock_configuration(
        Bucket="locked",
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}},
        },
    )
    for bucket in ("backups", "plain", "locked"):
        s3_admin.put_object(Bucket=bucket, Key=SNAPSHOT, Body=b"PGDMP")
    users = {
        "DRILL": iam_user_keys(iam_admin, "drill", DRILL),
        "WRITER": iam_user_keys(iam_admin, "writer", EVERYTHING),
        "READER": iam_user_keys(iam_admin, "reader", READ_ONLY),
        "AUDITOR": iam_user_keys(other_account_iam(s3_endpoint, OTHER_ACCOUNT), "auditor", READ_ONLY),
    }
    enforce_iam()
    return {
        f"{name}_{part}": value
        for name, pair in users.items()
        for part, value in zip(("KEY", "SECRET"), pair, strict=True)
    }


def as_agent(environ: dict[str, str], who: str) -> dict[str, str]:
    return {**environ, "AGENT_KEY": environ[f"{who}_KEY"], "AGENT_SECRET": environ[f"{who}_SECRET"]}


def contents(endpoint: str, environ: dict[str, str], bucket: str) -> tuple[list[str], list[str]]:
    """Every version and delete marker in the bucket (read with the writer's keys: enforcement is on)."""
    client: S3Client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=environ["WRITER_KEY"],
        aws_secret_access_key=environ["WRITER_SECRET"],
    )
    listed = client.list_object_versions(Bucket=bucket)
    versions = [item["Key"] for item in listed.get("Versions", [])]
    markers = [item["Key"] for item in listed.get("DeleteMarkers", [])]
    return versions, markers


def answer(access: Access, permission: str) -> PermissionAnswer:
    found = access.answer(permission)
    assert found is not None, permission
    return found


def test_caller_identity_names_the_user_and_its_account(s3_endpoint: str, environ: dict[str, str]) -> None:
    identity = caller_identity(AGENT, make_target(endpoint_url=s3_endpoint), as_agent(environ, "READER"))
    assert identity.principal == f"arn:aws:iam::{OWNER_ACCOUNT}:user/reader"
    assert identity.account == OWNER_ACCOUNT and identity.source == "sts:GetCallerIdentity"
    auditor = caller_identity(AGENT, make_target(endpoint_url=s3_endpoint), as_agent(environ, "AUDITOR"))
    assert auditor.account == OTHER_ACCOUNT


def test_refused_keys_are_an_identity_error_that_never_shows_the_secret(
    s3_endpoint: str, environ: dict[str, str]
) -> None:
    forged = {"AGENT_KEY": environ["READER_KEY"], "AGENT_SECRET": "not-the-secret-value"}
    with pytest.raises(StorageError, match="sts:GetCallerIdentity refused the keys in AGENT_KEY") as raised:
        caller_identity(AGENT, make_target(endpoint_url=s3_endpoint), forged)
    assert raised.value.kind is StorageErrorKind.ACCESS_DENIED
    assert "not-the-secret-value" not in str(raised.value)


def test_a_missing_variable_is_named_and_no_value_shown(s3_endpoint: str, environ: dict[str, str]) -> None:
    only_key = {"AGENT_KEY": environ["READER_KEY"]}
    with pytest.raises(StorageError, match="AGENT_SECRET") as raised:
        caller_identity(AGENT, make_target(endpoint_url=s3_endpoint), only_key)
    assert environ["READER_KEY"] not in str(raised.value)
    with pytest.raises(StorageError, match="AGENT_KEY"):
        s3_access(make_target(endpoint_url=s3_endpoint), AGENT, environ, verifier_credentials=VERIFIER)


def test_probes_find_what_a_writer_may_do_and_leave_no_trace(
    s3_endpoint: str, environ: dict[str, str]
) -> None:
    before = contents(s3_endpoint, environ, "backups")
    target = make_target(endpoint_url=s3_endpoint, prefix="pg/", credentials=VERIFIER)
    access = s3_access(target, AGENT, as_agent(environ, "WRITER"), verifier_credentials=VERIFIER)

    assert [item.permission for item in access.permissions] == list(S3_DESTRUCTIVE)
    for permission in PROBED:
        probed = answer(access, permission)
        assert (probed.answer, probed.source) == (Answer.ALLOWED, EvidenceSource.PROBE), probed
    # On a versioned bucket, DeleteObject would leave a delete marker: not probed without opt-in.
    delete = answer(access, "s3:DeleteObject")
    assert delete.answer is Answer.UNKNOWN and "trace_probes" in delete.detail
    assert answer(access, "s3:PutObject").answer is Answer.UNKNOWN
    # Bucket configuration is never probed and moto cannot simulate: unknown, with both reasons.
    policy = answer(access, "s3:PutBucketPolicy")
    assert policy.answer is Answer.UNKNOWN
    assert "never probed" in policy.detail and "SimulatePrincipalPolicy" in policy.detail
    assert any("SimulatePrincipalPolicy" in gap and "not implemented" in gap for gap in access.gaps)
    assert any("bucket-configuration writes" in gap for gap in access.gaps)
    # Nothing was written, deleted or marked: the bucket holds exactly the one snapshot version.
    assert contents(s3_endpoint, environ, "backups") == before == ([SNAPSHOT], [])


def test_trace_probes_allow_the_delete_probe_on_a_versioned_bucket(
    s3_endpoint: str, environ: dict[str, str]
) -> None:
    target = make_target(endpoint_url=s3_endpoint, prefix="pg/", credentials=VERIFIER)
    access = s3_access(
        target, AGENT, as_agent(environ, "WRITER"), verifier_credentials=VERIFIER, trace_probes=True
    )
    delete = answer(access, "s3:DeleteObject")
    assert (delete.answer, delete.source) == (Answer.ALLOWED, EvidenceSource.PROBE)
    # AWS would add a delete marker for the absent probe key (the documented trace); moto adds
    # none for a key it never held. Either way the snapshot is untouched and still current.
    versions, markers = contents(s3_endpoint, environ, "backups")
    assert versions == [SNAPSHOT]
    assert all(marker.startswith("pg/drill-probe-") for marker in markers)


def test_on_a_never_versioned_bucket_delete_is_probed_without_trace(
    s3_endpoint: str, environ: dict[str, str]
) -> None:
    target = make_target(bucket="plain", endpoint_url=s3_endpoint, prefix="pg/", credentials=VERIFIER)
    access = s3_access(target, AGENT, as_agent(environ, "WRITER"), verifier_credentials=VERIFIER)
    delete = answer(access, "s3:DeleteObject")
    assert (delete.answer, delete.source) == (Answer.ALLOWED, EvidenceSource.PROBE)
    assert contents(s3_endpoint, environ, "plain") == ([SNAPSHOT], [])


def test_a_read_only_agent_is_denied_by_every_probe(s3_endpoint: str, environ: dict[str, str]) -> None:
    target = make_target(bucket="plain", endpoint_url=s3_endpoint, prefix="pg/", credentials=VERIFIER)
    access = s3_access(target, AGENT, as_agent(environ, "READER"), verifier_credentials=VERIFIER)
    for permission in (*PROBED, "s3:DeleteObject"):
        denied = answer(access, permission)
        assert (denied.answer, denied.source) == (Answer.DENIED, EvidenceSource.PROBE), denied
        assert "403 AccessDenied" in denied.detail
    assert contents(s3_endpoint, environ, "plain") == ([SNAPSHOT], [])


def test_an_unexpected_answer_is_unknown_never_denied(s3_endpoint: str, environ: dict[str, str]) -> None:
    # On an Object Lock bucket moto fails with a 500 on retention of an absent key (AWS answers 404).
    target = make_target(bucket="locked", endpoint_url=s3_endpoint, prefix="pg/", credentials=VERIFIER)
    access = s3_access(target, AGENT, as_agent(environ, "WRITER"), verifier_credentials=VERIFIER)
    retention = answer(access, "s3:PutObjectRetention")
    assert retention.answer is Answer.UNKNOWN and "500" in retention.detail
    assert answer(access, "s3:DeleteObjectVersion").answer is Answer.ALLOWED
    assert contents(s3_endpoint, environ, "locked") == ([SNAPSHOT], [])


def test_another_account_granted_only_reads_is_denied_everything_by_the_bucket_policy(
    s3_endpoint: str, environ: dict[str, str]
) -> None:
    target = make_target(endpoint_url=s3_endpoint, prefix="pg/", credentials=VERIFIER)
    access = s3_access(target, AGENT, as_agent(environ, "AUDITOR"), verifier_credentials=VERIFIER)
    assert access.identity == caller_identity(AGENT, target, as_agent(environ, "AUDITOR"))
    for item in access.permissions:
        assert (item.answer, item.source) == (Answer.DENIED, EvidenceSource.RESOURCE_POLICY), item
        assert OTHER_ACCOUNT in item.detail and OWNER_ACCOUNT in item.detail
    # drill cannot simulate a principal of another account, and says so.
    assert any("only principals of drill's own account" in gap for gap in access.gaps)
    assert contents(s3_endpoint, environ, "backups") == ([SNAPSHOT], [])


def test_a_declared_owner_account_makes_even_a_writer_another_account(
    s3_endpoint: str, environ: dict[str, str]
) -> None:
    target = make_target(endpoint_url=s3_endpoint, prefix="pg/", credentials=VERIFIER, account="999999999999")
    access = s3_access(target, AGENT, as_agent(environ, "WRITER"), verifier_credentials=VERIFIER)
    for permission in ("s3:PutBucketPolicy", "s3:DeleteObjectVersion"):
        denied = answer(access, permission)
        assert (denied.answer, denied.source) == (Answer.DENIED, EvidenceSource.RESOURCE_POLICY)
        assert "999999999999" in denied.detail


def test_verifier_access_asks_the_same_of_drills_own_credentials(
    s3_endpoint: str, environ: dict[str, str]
) -> None:
    target = make_target(bucket="plain", endpoint_url=s3_endpoint, prefix="pg/", credentials=VERIFIER)
    access = verifier_access(target, environ)
    assert access.identity == caller_identity(VERIFIER, target, environ)
    for permission in (*PROBED, "s3:DeleteObject"):
        assert answer(access, permission).answer is Answer.DENIED
    assert contents(s3_endpoint, environ, "plain") == ([SNAPSHOT], [])


def test_the_strongest_settled_answer_wins_and_unknowns_keep_every_reason() -> None:
    def one(
        permission: str, result: Answer, source: EvidenceSource, detail: str
    ) -> dict[str, PermissionAnswer]:
        return {permission: PermissionAnswer(permission, result, source, detail)}

    simulation = one("s3:DeleteObject", Answer.UNKNOWN, EvidenceSource.SIMULATION, "not simulated")
    simulation |= one("s3:DeleteBucket", Answer.UNKNOWN, EvidenceSource.SIMULATION, "not simulated")
    resource_policy = one("s3:DeleteObject", Answer.DENIED, EvidenceSource.RESOURCE_POLICY, "another account")
    probe = one("s3:DeleteObject", Answer.ALLOWED, EvidenceSource.PROBE, "204")
    probe |= one("s3:DeleteBucket", Answer.UNKNOWN, EvidenceSource.PROBE, "never probed")
    combined = {item.permission: item for item in strongest([simulation, resource_policy, probe])}
    assert list(combined) == list(S3_DESTRUCTIVE)
    assert (combined["s3:DeleteObject"].answer, combined["s3:DeleteObject"].source) == (
        Answer.DENIED,
        EvidenceSource.RESOURCE_POLICY,
    )
    assert combined["s3:DeleteBucket"].answer is Answer.UNKNOWN
    assert combined["s3:DeleteBucket"].detail == "not simulated; never probed"
    assert combined["s3:PutObject"].detail == "no source answered"
