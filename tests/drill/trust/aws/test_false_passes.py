"""Each false pass of issue 17, with ground truth: drill judges an estate on moto with IAM enforced,
then the test tries the destruction drill ruled on with the agent's own credentials (or with a
principal they create or assume), and ``fail`` must have been reported exactly when it succeeds.

Where moto differs from AWS, the test says so (see the project's reference notes): moto has no
SimulatePrincipalPolicy (drill records the gap and reads the policies itself), ignores
ExpectedBucketOwner and gives one account two canonical ids (so the owner comes from ``account``
or stays unknown), grants cross-account requests on identity policies alone unless
MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS=false (and then refuses them whatever the bucket policy says),
and applies a bucket-policy Deny to every caller on object requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest

from drill.config import Credentials
from drill.model import Status
from tests.trust_estate import (
    BUCKET,
    IAM_READ,
    KEYS,
    OTHER,
    OWNER,
    Estate,
    delete_a_version,
    destroys,
    document,
)

CHINOOK = f"arn:aws:s3:::{BUCKET}/pg/chinook-*"
LIFECYCLE = {
    "Rules": [{"ID": "gone", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}]
}


@pytest.fixture
def estate(s3_endpoint: str, enforce_iam: Callable[[], None]) -> Iterator[tuple[Estate, Callable[[], None]]]:
    built = Estate(s3_endpoint)
    built.user("drill", IAM_READ)
    yield built, enforce_iam


def test_a_delete_grant_scoped_to_the_backups_fails_where_it_destroys_and_passes_where_not(
    estate: tuple[Estate, Callable[[], None]],
) -> None:
    built, enforce = estate
    # A pruning job's usual grant, in the agent's own policy: only the chinook snapshots.
    built.user("pruner", {"Sid": "Pruner", "Effect": "Allow", "Action": "s3:Delete*", "Resource": CHINOOK})
    built.user("reader")
    enforce()
    found = built.verdicts(built.target(), {"pruner": built.keys("pruner"), "reader": built.keys("reader")})

    pruner = found["pruner"]
    assert pruner.status is Status.FAIL, pruner.message
    assert "pruner -> s3:DeleteObjectVersion" in pruner.message and "Sid 'Pruner'" in pruner.message
    assert found["reader"].status is Status.PASS, found["reader"].message
    assert "nothing grants it" in " ".join(row.detail for row in found["reader"].evidence.permissions)
    # Ground truth: fail exactly where the destruction goes through.
    assert delete_a_version(built, built.client("pruner")) is (pruner.status is Status.FAIL)
    assert delete_a_version(built, built.client("reader"), KEYS[1]) is (found["reader"].status is Status.FAIL)
    # A key outside the grant is refused: a probe there would have proved nothing.
    assert not delete_a_version(built, built.client("pruner"), KEYS[2])


def test_a_bucket_policy_grant_to_another_account_scoped_to_the_backups_fails(
    estate: tuple[Estate, Callable[[], None]],
) -> None:
    built, enforce = estate
    built.user("partner", {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}, account=OTHER)
    policy = {
        "Sid": "PartnerPrunes",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
        "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion"],
        "Resource": CHINOOK,
    }
    built.s3.put_bucket_policy(Bucket=BUCKET, Policy=document(policy))
    enforce()
    finding = built.verdicts(built.target(), {"partner": built.keys("partner")})["partner"]
    assert finding.status is Status.FAIL, finding.message
    assert "s3:DeleteObjectVersion" in finding.message
    # moto admits the other account on its identity policy alone (MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS
    # defaults to true); on AWS the bucket policy's PartnerPrunes is what admits it, on these keys.
    assert delete_a_version(built, built.client("partner"))


def test_another_account_the_bucket_grants_nothing_passes_and_cannot_destroy(
    estate: tuple[Estate, Callable[[], None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    built, enforce = estate
    built.user("auditor", {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}, account=OTHER)
    enforce()
    # As AWS decides it: another account needs the bucket's grant, and there is none. moto only
    # refuses cross-account requests when told to (its server runs in this process); otherwise
    # drill's probe of the real key is authorized, and drill rightly fails.
    monkeypatch.setenv("MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS", "false")
    finding = built.verdicts(built.target(), {"auditor": built.keys("auditor")})["auditor"]
    assert finding.status is Status.PASS, finding.message
    assert f"another account: {OTHER}, backups in {OWNER}" in finding.message
    assert not delete_a_version(built, built.client("auditor"))


def test_a_grant_beside_a_bucket_deny_of_everything_else_fails(
    estate: tuple[Estate, Callable[[], None]],
) -> None:
    built, enforce = estate
    arn = built.user("cleaner", {"Effect": "Allow", "Action": "s3:*", "Resource": f"arn:aws:s3:::{BUCKET}/*"})
    deny = {
        "Sid": "OnlyChinook",
        "Effect": "Deny",
        "Principal": {"AWS": arn},
        "Action": "s3:Delete*",
        "NotResource": CHINOOK,
    }
    built.s3.put_bucket_policy(Bucket=BUCKET, Policy=document(deny))
    enforce()
    finding = built.verdicts(built.target(), {"cleaner": built.keys("cleaner")})["cleaner"]
    assert finding.status is Status.FAIL, finding.message
    assert delete_a_version(built, built.client("cleaner"))
    # On AWS the Deny refuses the other keys; moto (5.2.5, measured) does not apply a bucket-policy
    # Deny written with NotResource, so the other keys prove nothing here.


def test_the_owner_is_read_not_assumed_from_drills_own_account(
    estate: tuple[Estate, Callable[[], None]],
) -> None:
    built, enforce = estate
    # drill audits from another account (as recommended) with account unset; the agent is in the
    # bucket's own account with s3:*. moto ignores ExpectedBucketOwner: the owner stays unknown.
    built.user("auditor-drill", IAM_READ, account=OTHER)
    built.user("agent", {"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    enforce()
    target = built.target(drill="auditor-drill", account=None)
    found = built.verdicts(target, {"agent": built.keys("agent")})
    finding = found["agent"]
    assert finding.status is Status.FAIL, finding.message
    assert "another account" not in finding.message
    assert finding.evidence.owner_account is None and "could not be read" in finding.evidence.owner_evidence
    assert delete_a_version(built, built.client("agent"))


def test_an_agent_that_may_change_iam_fails_and_creates_a_user_that_destroys(
    estate: tuple[Estate, Callable[[], None]],
) -> None:
    built, enforce = estate
    built.user("ci", {"Effect": "Allow", "Action": "iam:*", "Resource": "*"})
    enforce()
    finding = built.verdicts(built.target(), {"ci": built.keys("ci")})["ci"]
    assert finding.status is Status.FAIL, finding.message
    assert "iam:CreateAccessKey" in finding.message and "one step from any permission" in finding.message
    iam = built.client("ci", "iam")
    iam.create_user(UserName="minion")
    iam.put_user_policy(
        UserName="minion",
        PolicyName="all",
        PolicyDocument=document(
            {"Effect": "Allow", "Action": ["s3:*", "sts:GetCallerIdentity"], "Resource": "*"}
        ),
    )
    key = iam.create_access_key(UserName="minion")["AccessKey"]
    built.environ["MINION_KEY"], built.environ["MINION_SECRET"] = key["AccessKeyId"], key["SecretAccessKey"]
    assert delete_a_version(built, built.client("minion"))


def test_an_agent_that_may_assume_an_admin_role_fails_naming_the_chain(
    estate: tuple[Estate, Callable[[], None]],
) -> None:
    built, enforce = estate
    role = f"arn:aws:iam::{OWNER}:role/backup-admin"
    arn = built.user("ci-agent", {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role})
    # moto admits a user only when the trust policy names its ARN (not the account root).
    trust = document({"Effect": "Allow", "Principal": {"AWS": arn}, "Action": "sts:AssumeRole"})
    built.iam.create_role(RoleName="backup-admin", AssumeRolePolicyDocument=trust)
    built.iam.put_role_policy(
        RoleName="backup-admin",
        PolicyName="admin",
        PolicyDocument=document({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
    )
    enforce()
    finding = built.verdicts(built.target(), {"ci-agent": built.keys("ci-agent")})["ci-agent"]
    assert finding.status is Status.FAIL, finding.message
    assert "ci-agent -> assume backup-admin -> s3:DeleteObjectVersion" in finding.message
    session = built.client("ci-agent", "sts").assume_role(RoleArn=role, RoleSessionName="attack")[
        "Credentials"
    ]
    as_role = boto3.client(
        "s3",
        endpoint_url=built.endpoint,
        region_name="us-east-1",
        aws_access_key_id=session["AccessKeyId"],
        aws_secret_access_key=session["SecretAccessKey"],
        aws_session_token=session["SessionToken"],
    )
    assert delete_a_version(built, as_role)


def test_an_agent_that_may_only_replace_the_lifecycle_fails(
    estate: tuple[Estate, Callable[[], None]],
) -> None:
    built, enforce = estate
    built.user(
        "janitor",
        {"Effect": "Allow", "Action": "s3:PutLifecycleConfiguration", "Resource": f"arn:aws:s3:::{BUCKET}"},
    )
    enforce()
    finding = built.verdicts(built.target(), {"janitor": built.keys("janitor")})["janitor"]
    assert finding.status is Status.FAIL, finding.message
    assert "s3:PutLifecycleConfiguration" in finding.message
    janitor = built.client("janitor")
    assert destroys(
        lambda: janitor.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration=LIFECYCLE)
    )


def test_a_read_only_verifier_passes_on_nothing_grants_it_and_one_whose_group_grants_more_fails(
    s3_endpoint: str, enforce_iam: Callable[[], None]
) -> None:
    built = Estate(s3_endpoint)
    built.user("drill", IAM_READ)
    built.user(
        "loose",
        IAM_READ,
        groups={"backup-writers": [{"Effect": "Allow", "Action": "s3:Put*", "Resource": "*"}]},
    )
    built.user(
        "admin", IAM_READ, managed={"drill-admin": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}
    )
    enforce_iam()
    good = built.verdicts(built.target(), {})["drill"]
    assert good.status is Status.PASS, good.message
    loose = built.verdicts(built.target(drill="loose"), {})["drill"]
    assert loose.status is Status.FAIL and "group backup-writers" in loose.message, loose.message
    admin = built.verdicts(built.target(drill="admin"), {})["drill"]
    assert admin.status is Status.FAIL and "managed policy drill-admin" in admin.message, admin.message
    # Ground truth: the loose verifier can overwrite a backup, the read-only one cannot.
    assert destroys(lambda: built.client("loose").put_object(Bucket=BUCKET, Key=KEYS[0], Body=b"gone"))
    assert not destroys(lambda: built.client("drill").put_object(Bucket=BUCKET, Key=KEYS[0], Body=b"gone"))


def _default_chain(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, keys: tuple[str, str] | None) -> None:
    """What boto3's default chain finds: ``keys`` in the environment, or nothing at all. The instance
    role is switched off: no request may leave this machine for a metadata server."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    if keys is not None:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys[0])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys[1])


def test_an_agent_without_credentials_is_judged_with_the_default_chain(
    estate: tuple[Estate, Callable[[], None]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    built, enforce = estate
    built.user("ci", {"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    enforce()
    _default_chain(monkeypatch, tmp_path, (built.environ["CI_KEY"], built.environ["CI_SECRET"]))
    finding = built.verdicts(built.target(), {"ci": Credentials()})["ci"]
    assert finding.status is Status.FAIL, finding.message
    assert "arn:aws:iam::123456789012:user/ci" in finding.message
    assert delete_a_version(built, boto3.client("s3", endpoint_url=built.endpoint, region_name="us-east-1"))


def test_an_agent_whose_default_chain_finds_nothing_is_an_error_never_a_pass(
    estate: tuple[Estate, Callable[[], None]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    built, enforce = estate
    enforce()
    _default_chain(monkeypatch, tmp_path, None)
    finding = built.verdicts(built.target(), {"ci": Credentials()})["ci"]
    assert finding.status is Status.ERROR, finding.message
    assert "default chain" in finding.message and "cannot judge what it cannot load" in finding.message
    assert boto3.Session().get_credentials() is None  # nothing to act with, here


def test_a_writer_named_as_a_role_matches_its_sessions(estate: tuple[Estate, Callable[[], None]]) -> None:
    built, enforce = estate
    role = f"arn:aws:iam::{OWNER}:role/backup-writer"
    arn = built.user("ci", {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role})
    trust = document({"Effect": "Allow", "Principal": {"AWS": arn}, "Action": "sts:AssumeRole"})
    built.iam.create_role(RoleName="backup-writer", AssumeRolePolicyDocument=trust)
    built.iam.put_role_policy(
        RoleName="backup-writer",
        PolicyName="write",
        PolicyDocument=document(
            {"Effect": "Allow", "Action": ["s3:*", "sts:GetCallerIdentity"], "Resource": "*"}
        ),
    )
    enforce()
    session = built.client("ci", "sts").assume_role(RoleArn=role, RoleSessionName="nightly")["Credentials"]
    built.environ.update(
        SESSION_KEY=session["AccessKeyId"],
        SESSION_SECRET=session["SecretAccessKey"],
        SESSION_TOKEN=session["SessionToken"],
    )
    as_session = Credentials(
        access_key_id_env="SESSION_KEY",
        secret_access_key_env="SESSION_SECRET",
        session_token_env="SESSION_TOKEN",
    )
    finding = built.verdicts(built.target(writer=role), {"backup-job": as_session})["backup-job"]
    assert finding.status is Status.FAIL, finding.message
    assert (
        "the principal that writes the backups" in finding.message
        and "assumed-role/backup-writer/nightly" in finding.message
    )
