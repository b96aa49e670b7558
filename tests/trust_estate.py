"""A backup estate on moto with IAM enforced, judged by drill's own collection and checks, for tests
that then try, with the agent's credentials, the destruction drill ruled on (ground truth).

The bucket ``backups`` is versioned and holds three snapshots under ``pg/`` in moto's default
account; drill reads with a user that may read S3 and IAM. moto asks for sts:GetCallerIdentity
under enforcement (AWS needs no permission for it), so every user here is given it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from drill.collect.storage import collect_storage
from drill.collect.trust import collect_trust
from drill.config import Agent, Config, Credentials, Database, Target, TargetType
from drill.engine import evaluate
from drill.model import Finding
from drill.registry import discover
from tests.helpers import other_account_iam

OWNER = "123456789012"  # moto's default account
OTHER = "222222222222"
BUCKET = "backups"
KEYS = ("pg/chinook-2026-11-01.dump", "pg/chinook-2026-11-02.dump", "pg/orders-2026-11-02.dump")
READ = {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*", "sts:GetCallerIdentity"], "Resource": "*"}
IAM_READ = {"Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"}
_SPECS = {spec.id: spec for spec in discover() if spec.id in ("trust_separation", "verifier_least_privilege")}


def document(*statements: Mapping[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class Estate:
    """Users are created with moto's admin keys before ``enforce``; afterwards only their own keys act."""

    def __init__(self, endpoint: str, versioned: bool = True) -> None:
        self.endpoint = endpoint
        self.environ: dict[str, str] = {}
        self.arns: dict[str, str] = {}
        admin = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        self.s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **admin)
        self.iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", **admin)
        self.s3.create_bucket(Bucket=BUCKET)
        if versioned:
            self.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        for key in KEYS:
            self.s3.put_object(Bucket=BUCKET, Key=key, Body=b"PGDMP" + b"\0" * 64)

    def user(
        self,
        name: str,
        *statements: Mapping[str, Any],
        account: str | None = None,
        groups: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
        managed: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    ) -> str:
        """A user with ``READ`` plus ``statements`` inline, in ``groups`` and ``managed`` policies; its ARN."""
        iam = other_account_iam(self.endpoint, account) if account else self.iam
        arn = iam.create_user(UserName=name)["User"]["Arn"]
        iam.put_user_policy(
            UserName=name, PolicyName=f"{name}-inline", PolicyDocument=document(READ, *statements)
        )
        for group, group_statements in (groups or {}).items():
            iam.create_group(GroupName=group)
            iam.put_group_policy(
                GroupName=group, PolicyName=group, PolicyDocument=document(*group_statements)
            )
            iam.add_user_to_group(GroupName=group, UserName=name)
        for policy, policy_statements in (managed or {}).items():
            policy_arn = iam.create_policy(PolicyName=policy, PolicyDocument=document(*policy_statements))[
                "Policy"
            ]["Arn"]
            iam.attach_user_policy(UserName=name, PolicyArn=policy_arn)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        self.environ[f"{name.upper()}_KEY"], self.environ[f"{name.upper()}_SECRET"] = (
            key["AccessKeyId"],
            key["SecretAccessKey"],
        )
        self.arns[name] = arn
        return arn

    def keys(self, name: str) -> Credentials:
        return Credentials(
            access_key_id_env=f"{name.upper()}_KEY", secret_access_key_env=f"{name.upper()}_SECRET"
        )

    def client(self, name: str, service: str = "s3") -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.environ[f"{name.upper()}_KEY"],
            aws_secret_access_key=self.environ[f"{name.upper()}_SECRET"],
        )

    def target(self, drill: str = "drill", **overrides: Any) -> Target:
        fields: dict[str, Any] = {
            "name": "vault",
            "type": TargetType.S3,
            "site": "aws",
            "bucket": BUCKET,
            "prefix": "pg/",
            "region": "us-east-1",
            "endpoint_url": self.endpoint,
            "sts_endpoint_url": self.endpoint,
            "iam_endpoint_url": self.endpoint,
            "credentials": self.keys(drill),
            "account": OWNER,
        }
        fields.update(overrides)
        return Target(**fields)

    def verdicts(
        self, target: Target, agents: Mapping[str, Credentials], environ: Mapping[str, str] | None = None
    ) -> dict[str, Finding]:
        """trust_separation per agent name, and verifier_least_privilege under the key "drill"."""
        config = Config(
            targets=(target,),
            databases=(Database(name="chinook", site="prod", targets=("vault",), snapshot_pattern="*.dump"),),
            agents=tuple(Agent(name=name, credentials=credentials) for name, credentials in agents.items()),
        )
        now = datetime.now(UTC)
        env = {**self.environ, **(environ or {})}
        storage = collect_storage(config, now, environ=env)
        agent_facts, verifier_facts = collect_trust(config, storage.targets, now, environ=env)
        found = {facts.agent.name: evaluate(_SPECS["trust_separation"], facts)[0] for facts in agent_facts}
        found["drill"] = evaluate(_SPECS["verifier_least_privilege"], verifier_facts[0])[0]
        return found


def destroys(action: Any) -> bool:
    """Whether a destructive request went through: True on success, False on AccessDenied."""
    try:
        action()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("AccessDenied", "AccessDeniedException"):
            return False
        raise
    return True


def delete_a_version(estate: Estate, client: Any, key: str = KEYS[0]) -> bool:
    """Permanently delete the current version of ``key`` with ``client``: the loss trust_separation
    exists to prevent. The version is looked up with drill's keys, which may list."""
    listed = estate.client("drill").list_object_versions(Bucket=BUCKET, Prefix=key)
    version = listed["Versions"][0]["VersionId"]
    return destroys(lambda: client.delete_object(Bucket=BUCKET, Key=key, VersionId=version))
