"""The demo's estate on moto and on disk: two accounts, three buckets, a filesystem copy, the
users drill runs as and the agent that holds too much. What it is built to fail is PLANTED_FAILURES."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from drill.demo.samples import Dump
from drill.permissions import S3_DESTRUCTIVE

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_s3 import S3Client

MAIN_ACCOUNT = "123456789012"  # moto's default account: keys it does not know act in it
VAULT_ACCOUNT = "210987654321"
REGION = "us-east-1"
LOCKED_BUCKET = "shop-backups-locked"
PLAIN_BUCKET = "shop-backups-plain"
VAULT_BUCKET = "shop-backups-vault"
AGENT = "ci-deployer"
# (check, target or database) of every finding the estate is built to fail; everything else passes,
# warns or is skipped.
PLANTED_FAILURES = frozenset(
    {("trust_separation", "s3-plain"), ("immutability", "s3-plain"), ("copies_3_2_1", "billing")}
)
RETENTION_DAYS = 35  # above the demo policy's min_retention of 30 days
_ADMIN_KEYS = {"aws_access_key_id": "demo", "aws_secret_access_key": "demo"}  # moto's own admin

_READ_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": ["iam:SimulatePrincipalPolicy", "iam:GetRole", "iam:GetAccountAuthorizationDetails"],
            "Resource": "*",
        },
    ],
}
_AGENT_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{PLAIN_BUCKET}", f"arn:aws:s3:::{PLAIN_BUCKET}/*"],
        }
    ],
}
# moto judges a bucket policy by HTTP method (every DELETE of a key as s3:DeleteObject, every PUT
# as s3:PutObject) and applies its Deny to every caller whatever the Principal: the agent's probes
# are DELETEs, so drill's own Deny on the plain bucket must leave these two out.
_DELETES = ("s3:DeleteObject", "s3:DeleteObjectVersion")
_EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def _clients(
    endpoint: str, keys: Mapping[str, str], account: str | None = None
) -> tuple[S3Client, IAMClient]:
    session = boto3.Session(
        region_name=REGION,
        aws_access_key_id=keys["aws_access_key_id"],
        aws_secret_access_key=keys["aws_secret_access_key"],
    )
    s3: S3Client = session.client("s3", endpoint_url=endpoint)
    iam: IAMClient = session.client("iam", endpoint_url=endpoint)
    if account is not None:
        # moto puts IAM users created with this header in that account; their keys then act there.
        def in_account(request: Any, **_: Any) -> None:
            request.headers["x-moto-account-id"] = account

        iam.meta.events.register("before-sign.iam.*", in_account)
    return s3, iam


def _user(iam: IAMClient, name: str, policy: Mapping[str, Any]) -> dict[str, str]:
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName=f"{name}-policy", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}


def _locked_bucket(s3: S3Client, name: str) -> None:
    """Object Lock must be enabled at creation and its rule set before any object is written."""
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(
        Bucket=name,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": RETENTION_DAYS}},
        },
    )


def _deny_writes(s3: S3Client, bucket: str, principals: tuple[str, ...], actions: tuple[str, ...]) -> None:
    """A bucket policy that refuses ``principals`` every one of ``actions``: drill settles each of
    them from this unconditional Deny, where moto cannot answer SimulatePrincipalPolicy."""
    statement = {
        "Sid": "BackupsAreReadOnlyForThese",
        "Effect": "Deny",
        "Principal": {"AWS": list(principals)},
        "Action": list(actions),
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
    }
    s3.put_bucket_policy(
        Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    )


def _upload(s3: S3Client, bucket: str, dumps: tuple[Dump, ...]) -> None:
    for dump in dumps:
        body = dump.path.read_bytes()
        s3.put_object(Bucket=bucket, Key=f"pg/{dump.key}", Body=body)
        s3.put_object(Bucket=bucket, Key=f"pg/{dump.key}.sha256", Body=_sha256_line(dump.path, body))


def _sha256_line(path: Path, body: bytes) -> bytes:
    return f"{hashlib.sha256(body).hexdigest()}  {path.name}\n".encode()


def build_estate(endpoint: str, dumps: tuple[Dump, Dump], sandbox: Path) -> dict[str, str]:
    """Users, buckets and copies on moto and on disk; returns the credentials drill is to use."""
    shop, billing = dumps
    reader_arn = f"arn:aws:iam::{MAIN_ACCOUNT}:user/drill-reader"
    every_write = tuple(S3_DESTRUCTIVE)
    with ExitStack() as closing:
        s3, iam = _clients(endpoint, _ADMIN_KEYS)
        vault_iam = _clients(endpoint, _ADMIN_KEYS, VAULT_ACCOUNT)[1]
        reader = _user(iam, "drill-reader", _READ_ONLY)
        agent = _user(iam, AGENT, _AGENT_POLICY)
        vault_reader = _user(vault_iam, "drill-vault-reader", _READ_ONLY)
        vault_admin = _user(vault_iam, "vault-admin", _EVERYTHING)
        # A bucket belongs to the account of the keys that create it.
        vault_s3 = _clients(endpoint, vault_admin)[0]
        for client in (s3, iam, vault_iam, vault_s3):
            closing.callback(client.close)

        _locked_bucket(s3, LOCKED_BUCKET)
        _upload(s3, LOCKED_BUCKET, (shop,))
        agent_arn = f"arn:aws:iam::{MAIN_ACCOUNT}:user/{AGENT}"
        _deny_writes(s3, LOCKED_BUCKET, (reader_arn, agent_arn), every_write)

        s3.create_bucket(Bucket=PLAIN_BUCKET)
        _upload(s3, PLAIN_BUCKET, dumps)
        # drill's identity policy refuses the deletes already, and its probes prove it.
        _deny_writes(s3, PLAIN_BUCKET, (reader_arn,), tuple(a for a in every_write if a not in _DELETES))

        _locked_bucket(vault_s3, VAULT_BUCKET)
        _upload(vault_s3, VAULT_BUCKET, (shop,))
        vault_reader_arn = f"arn:aws:iam::{VAULT_ACCOUNT}:user/drill-vault-reader"
        _deny_writes(vault_s3, VAULT_BUCKET, (vault_reader_arn,), every_write)

    for dump in (shop, billing):
        copy = sandbox / "nas" / dump.key
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(dump.path, copy)
        copy.with_name(f"{copy.name}.sha256").write_bytes(_sha256_line(dump.path, dump.path.read_bytes()))
    workspace = sandbox / "ci-workspace"  # what the agent can read: drill scans it for credentials
    workspace.mkdir()
    (workspace / "deploy.sh").write_text("#!/bin/sh\nset -eu\n./migrate && ./release\n")
    return {
        "DEMO_DRILL_ACCESS_KEY_ID": reader["aws_access_key_id"],
        "DEMO_DRILL_SECRET_ACCESS_KEY": reader["aws_secret_access_key"],
        "DEMO_VAULT_ACCESS_KEY_ID": vault_reader["aws_access_key_id"],
        "DEMO_VAULT_SECRET_ACCESS_KEY": vault_reader["aws_secret_access_key"],
        "DEMO_AGENT_ACCESS_KEY_ID": agent["aws_access_key_id"],
        "DEMO_AGENT_SECRET_ACCESS_KEY": agent["aws_secret_access_key"],
    }
