"""`drill check` judging agents end to end: real moto IAM users, keys, enforcement and buckets.

moto enforces identity policies once authorization is on, answers GetCallerIdentity, and holds a
second account; it does not implement SimulatePrincipalPolicy (drill records that gap and falls
back to the bucket policy and probes, which is what these scenarios exercise).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.helpers import iam_user_keys, other_account_iam

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_s3 import S3Client

OTHER_ACCOUNT = "222222222222"
EVERYTHING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:*", "sts:*", "iam:*"], "Resource": "*"}],
}
READ_ONLY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}],
}
KEY = "pg/orders/orders-2026-11-22.dump"

CONFIG = """
[report]
dir = "reports"

[policy]
copies = 1
media = 1
offsite = 0
immutable = 0

[[targets]]
name = "plain"
type = "s3"
bucket = "plain"
region = "us-east-1"
endpoint_url = "{endpoint}"
sts_endpoint_url = "{endpoint}"
iam_endpoint_url = "{endpoint}"
account = "123456789012"
site = "aws:123456789012:us-east-1"
credentials = {{ access_key_id_env = "DRILL_KEY", secret_access_key_env = "DRILL_SECRET" }}

[[targets]]
name = "locked"
type = "s3"
bucket = "locked"
region = "us-east-1"
endpoint_url = "{endpoint}"
sts_endpoint_url = "{endpoint}"
iam_endpoint_url = "{endpoint}"
account = "123456789012"
site = "aws:123456789012:us-east-1"
credentials = {{ access_key_id_env = "DRILL_KEY", secret_access_key_env = "DRILL_SECRET" }}

# Two databases, one copy each: nothing else survives if the plain bucket's backups are destroyed.
[[databases]]
name = "orders"
site = "prod"
targets = ["plain"]
snapshot_pattern = "pg/orders/*.dump"

[[databases]]
name = "ledger"
site = "prod"
targets = ["locked"]
snapshot_pattern = "pg/orders/*.dump"

[[agents]]
name = "deployer"
credentials = {{ access_key_id_env = "DEPLOYER_KEY", secret_access_key_env = "DEPLOYER_SECRET" }}

[[agents]]
name = "auditor"
credentials = {{ access_key_id_env = "AUDITOR_KEY", secret_access_key_env = "AUDITOR_SECRET" }}

[[agents]]
name = "coder"
paths = ["{workspace}"]
"""


@pytest.fixture
def estate(
    s3_endpoint: str,
    s3_admin: S3Client,
    iam_admin: IAMClient,
    tmp_path: Path,
    enforce_iam: Callable[[], None],
) -> tuple[Path, dict[str, str]]:
    s3_admin.create_bucket(Bucket="plain")
    s3_admin.put_object(Bucket="plain", Key=KEY, Body=b"PGDMP" + b"\0" * 4096)
    s3_admin.create_bucket(Bucket="locked", ObjectLockEnabledForBucket=True)
    s3_admin.put_object_lock_configuration(
        Bucket="locked",
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 30}},
        },
    )
    s3_admin.put_object(
        Bucket="locked",
        Key=KEY,
        Body=b"PGDMP" + b"\0" * 4096,
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=datetime.now(UTC) + timedelta(days=31),
    )
    drill_key, drill_secret = iam_user_keys(iam_admin, "drill", EVERYTHING)  # over-privileged on purpose
    deployer_key, deployer_secret = iam_user_keys(iam_admin, "deployer", EVERYTHING)
    auditor_key, auditor_secret = iam_user_keys(
        other_account_iam(s3_endpoint, OTHER_ACCOUNT), "auditor", READ_ONLY
    )

    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / ".env").write_text(f"APP_ENV=staging\nDEBUG=1\nBACKUP_SECRET={drill_secret}\n")
    config = tmp_path / "drill.toml"
    config.write_text(CONFIG.format(endpoint=s3_endpoint, workspace=workspace))
    environ = {
        "DRILL_KEY": drill_key,
        "DRILL_SECRET": drill_secret,
        "DEPLOYER_KEY": deployer_key,
        "DEPLOYER_SECRET": deployer_secret,
        "AUDITOR_KEY": auditor_key,
        "AUDITOR_SECRET": auditor_secret,
    }
    enforce_iam()
    return config, environ


def _run(config: Path, environ: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    json_path = config.parent / "run.json"
    # The coder names no credentials: drill judges the default chain, which must find nothing here
    # and must not ask an instance metadata server.
    nothing = {
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_SHARED_CREDENTIALS_FILE": str(config.parent / "no-credentials"),
        "AWS_CONFIG_FILE": str(config.parent / "no-config"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "drill", "check", "-c", str(config), "--json", str(json_path)],
        cwd=config.parent,
        env={"PATH": "/usr/bin:/bin", **nothing, **environ},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert json_path.exists(), result.stderr
    return result, json.loads(json_path.read_text())


def _finding(run: dict[str, Any], check: str, **subject: str) -> dict[str, Any]:
    [found] = [
        finding
        for finding in run["findings"]
        if finding["check"] == check and all(finding.get(key) == value for key, value in subject.items())
    ]
    return found


def test_agents_are_judged_on_identity_policies_probes_and_the_bucket_policy(
    estate: tuple[Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, environ = estate
    # moto (in this process) refuses another account only when told to; AWS refuses it unless the
    # bucket grants it something, which neither bucket does.
    monkeypatch.setenv("MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS", "false")
    result, run = _run(config, environ)
    assert result.returncode == 3, result.stderr

    # s3:* on a bucket with no versions and no lock: one call destroys the backups.
    destroy = _finding(run, "trust_separation", agent="deployer", target="plain")
    assert destroy["status"] == "fail" and destroy["severity"] == "critical", destroy["message"]
    assert "could destroy" in destroy["message"] and "granted by user deployer" in destroy["message"]
    assert "policies" in destroy["evidence"]["evidence"]

    # The same agent against the COMPLIANCE-locked bucket can hide versions, not destroy them.
    hide = _finding(run, "trust_separation", agent="deployer", target="locked")
    assert hide["status"] == "warn", hide["message"]
    assert "cannot destroy" in hide["message"]

    # Another account, read-only, and no bucket policy granting it anything.
    for target in ("plain", "locked"):
        separated = _finding(run, "trust_separation", agent="auditor", target=target)
        assert separated["status"] == "pass", separated["message"]
        assert OTHER_ACCOUNT in separated["message"]
        assert separated["evidence"]["agent_identity"]["account"] == OTHER_ACCOUNT

    # The coder's workspace holds drill's own backup secret: found, with file and line, masked.
    exposed = _finding(run, "credential_exposure", agent="coder")
    assert exposed["status"] == "fail" and exposed["severity"] == "critical"
    assert ".env:3" in exposed["message"]

    # The coder names no credentials: the default chain finds none here, and drill says it cannot judge.
    for target in ("plain", "locked"):
        default = _finding(run, "trust_separation", agent="coder", target=target)
        assert default["status"] == "error" and "default chain" in default["message"], default["message"]

    # drill's own credentials could delete and change IAM: drill only reads, so it fails and names them.
    for target in ("plain", "locked"):
        verifier = _finding(run, "verifier_least_privilege", target=target)
        assert verifier["status"] == "fail", verifier["message"]
        assert "s3:DeleteObjectVersion" in verifier["message"] and "iam:" in verifier["message"]

    # No secret value reaches any output.
    everything = result.stdout + result.stderr + (config.parent / "run.json").read_text()
    for name in ("DRILL_SECRET", "DEPLOYER_SECRET", "AUDITOR_SECRET"):
        assert environ[name] not in everything
