"""An estate on moto with IAM enforced, approved as a baseline and then changed, for the drift tests.

Two buckets: ``vault`` holds the snapshots; ``locked`` has Object Lock with a 30-day COMPLIANCE
default and stays empty, because moto refuses to change a lock rule on a non-empty bucket (see
/work/shared/REFERENCE.md) and drift needs no snapshot. drill reads with a user that may read S3
and IAM; the agent ``ci`` starts read-only. Changes are made with moto's admin keys while
enforcement is off, then enforcement is switched back on, as it would be on AWS.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from drill.baseline import codec
from drill.config import load_config
from drill.engine import approve_baseline, execute
from drill.model import DrillRun, Finding, Phase
from tests.trust_estate import IAM_READ, READ, document

CONFIG = """
[report]
dir = "reports"

[policy]
copies = 1
media = 1
offsite = 0
immutable = 0
{targets}
[[databases]]
name = "orders"
site = "prod"
targets = ["vault"]
snapshot_pattern = "pg/*.dump"

[[agents]]
name = "ci"
credentials = {{ access_key_id_env = "CI_KEY", secret_access_key_env = "CI_SECRET" }}
"""
TARGET = """
[[targets]]
name = "{name}"
type = "s3"
bucket = "{name}"
region = "us-east-1"
endpoint_url = "{endpoint}"
sts_endpoint_url = "{endpoint}"
iam_endpoint_url = "{endpoint}"
account = "123456789012"
site = "aws:123456789012:us-east-1"
credentials = {{ access_key_id_env = "DRILL_KEY", secret_access_key_env = "DRILL_SECRET" }}
"""
ADMIN = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class DriftEstate:
    """The estate, its config file, and the admin's hands to change it between approve and check."""

    def __init__(self, endpoint: str, directory: Path, enforce: Callable[[bool], None]) -> None:
        self.endpoint = endpoint
        self.directory = directory
        self.enforce = enforce
        self.s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **ADMIN)
        self.iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", **ADMIN)
        self.s3.create_bucket(Bucket="vault")
        self.s3.put_bucket_versioning(Bucket="vault", VersioningConfiguration={"Status": "Enabled"})
        self.s3.put_object(Bucket="vault", Key="pg/orders-2026-12-05.dump", Body=b"PGDMP" + b"\0" * 64)
        self.s3.create_bucket(Bucket="locked", ObjectLockEnabledForBucket=True)
        self.lock("COMPLIANCE", 30)
        self.environ: dict[str, str] = {}
        self._user("drill", READ, IAM_READ)
        self._user("ci", READ)
        self.write_config(("vault", "locked"))
        self.enforce(True)

    def _user(self, name: str, *statements: Any) -> None:
        self.iam.create_user(UserName=name)
        self.iam.put_user_policy(
            UserName=name, PolicyName=f"{name}-inline", PolicyDocument=document(*statements)
        )
        key = self.iam.create_access_key(UserName=name)["AccessKey"]
        self.environ[f"{name.upper()}_KEY"] = key["AccessKeyId"]
        self.environ[f"{name.upper()}_SECRET"] = key["SecretAccessKey"]

    @property
    def config(self) -> Path:
        return self.directory / "drill.toml"

    def write_config(self, targets: tuple[str, ...]) -> None:
        blocks = "".join(TARGET.format(name=name, endpoint=self.endpoint) for name in targets)
        self.config.write_text(CONFIG.format(targets=blocks))

    def change(self, action: Callable[[], object]) -> None:
        """Change the estate as its owner would, outside drill."""
        self.enforce(False)
        try:
            action()
        finally:
            self.enforce(True)

    def lock(self, mode: str, days: int) -> None:
        self.s3.put_object_lock_configuration(
            Bucket="locked",
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": mode, "Days": days}},
            },
        )

    def lifecycle(self, *rules: dict[str, Any]) -> None:
        if rules:
            self.s3.put_bucket_lifecycle_configuration(
                Bucket="vault", LifecycleConfiguration={"Rules": list(rules)}
            )
        else:
            self.s3.delete_bucket_lifecycle(Bucket="vault")

    def grant(self, user: str, *actions: str) -> None:
        statement = {"Effect": "Allow", "Action": list(actions), "Resource": "*"}
        self.iam.put_user_policy(
            UserName=user, PolicyName=f"{user}-granted", PolicyDocument=document(statement)
        )

    def approve(self, by: str = "alice") -> Path:
        loaded = load_config(self.config, self.environ)
        approved = approve_baseline(loaded, by=by, environ=self.environ, now=datetime.now(UTC))
        path = Path(loaded.config.baseline_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(codec.render(approved))
        return path

    def drift(self) -> DrillRun:
        return execute(
            load_config(self.config, self.environ),
            command="check",
            phases=frozenset({Phase.POSTURE}),
            environ={**self.environ, "AWS_EC2_METADATA_DISABLED": "true"},
            only=frozenset({"drift"}),
        )


def drifted(run: DrillRun) -> list[Finding]:
    """The findings that are not a pass: the differences, and a baseline that cannot be used."""
    return [finding for finding in run.findings if finding.status.value != "pass"]


def expiring(rule_id: str, days: int) -> dict[str, Any]:
    return {"ID": rule_id, "Status": "Enabled", "Filter": {"Prefix": "pg/"}, "Expiration": {"Days": days}}
