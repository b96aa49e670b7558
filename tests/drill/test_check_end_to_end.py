"""`drill check` as a user runs it, over real S3 (moto), GCS (emulator) and filesystem targets."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from google.cloud import storage
    from mypy_boto3_s3 import S3Client

DUMP = b"PGDMP" + os.urandom(4096)
KEY = "pg/orders/orders-2026-11-22.dump"
ENVIRON = {"DRILL_E2E_KEY_ID": "testing", "DRILL_E2E_SECRET": "e2e-secret-value-never-printed"}

CONFIG = """
[policy]
copies = 3
media = 2
offsite = 1
immutable = 1
min_retention = "30d"

[[targets]]
name = "vault"
type = "s3"
bucket = "vault"
prefix = "pg"
region = "us-east-1"
endpoint_url = "{s3}"
site = "aws:222:eu-central-1"
credentials = {{ access_key_id_env = "DRILL_E2E_KEY_ID", secret_access_key_env = "DRILL_E2E_SECRET" }}

[[targets]]
name = "primary"
type = "s3"
bucket = "primary"
prefix = "pg"
region = "us-east-1"
endpoint_url = "{s3}"
site = "aws:111:eu-west-1"
credentials = {{ access_key_id_env = "DRILL_E2E_KEY_ID", secret_access_key_env = "DRILL_E2E_SECRET" }}

[[targets]]
name = "archive"
type = "gcs"
bucket = "archive"
prefix = "pg"
endpoint_url = "{gcs}"
site = "gcp:backups:europe-west4"
credentials = {{ anonymous = true }}

[[targets]]
name = "nas"
type = "filesystem"
path = "nas"
prefix = "pg"
site = "office"
media = "disk"

[[databases]]
name = "orders"
site = "aws:111:eu-west-1"
targets = ["vault", "primary", "archive", "nas"]
snapshot_pattern = "orders/*.dump"
"""


def _arrange_s3(s3: S3Client) -> None:
    s3.create_bucket(Bucket="vault", ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(
        Bucket="vault",
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 30}},
        },
    )
    s3.put_object(Bucket="vault", Key=KEY, Body=DUMP)
    s3.create_bucket(Bucket="primary")
    s3.put_object(Bucket="primary", Key=KEY, Body=DUMP)
    s3.put_bucket_lifecycle_configuration(
        Bucket="primary",
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "purge-weekly",
                    "Status": "Enabled",
                    "Filter": {"Prefix": "pg/"},
                    "Expiration": {"Days": 7},
                }
            ]
        },
    )


def _arrange_gcs(gcs: storage.Client, endpoint: str) -> None:
    bucket = gcs.create_bucket("archive")
    bucket.blob(KEY).upload_from_string(DUMP)
    # The emulator cannot lock a policy (REFERENCE.md: 501), but stores a raw PATCH of the resource.
    requests.patch(
        f"{endpoint}/storage/v1/b/archive",
        json={"retentionPolicy": {"retentionPeriod": str(90 * 86400), "isLocked": True}},
        timeout=10,
    ).raise_for_status()


def _arrange_filesystem(root: Path) -> None:
    dump = root / "nas" / KEY
    dump.parent.mkdir(parents=True)
    dump.write_bytes(DUMP)
    (root / "nas" / f"{KEY}.sha256").write_text(
        f"{hashlib.sha256(DUMP).hexdigest()}  orders-2026-11-22.dump\n"
    )


def _findings(run: dict[str, Any], check: str) -> dict[str | None, dict[str, Any]]:
    return {finding["target"]: finding for finding in run["findings"] if finding["check"] == check}


def test_check_over_s3_gcs_and_filesystem_judges_each_copy(
    tmp_path: Path, s3_admin: S3Client, s3_endpoint: str, gcs_admin: storage.Client, gcs_endpoint: str
) -> None:
    _arrange_s3(s3_admin)
    _arrange_gcs(gcs_admin, gcs_endpoint)
    _arrange_filesystem(tmp_path)
    config = tmp_path / "drill.toml"
    config.write_text(CONFIG.format(s3=s3_endpoint, gcs=gcs_endpoint))

    result = subprocess.run(
        [sys.executable, "-m", "drill", "check", "-c", str(config), "--json", "run.json"],
        cwd=tmp_path,
        env={**os.environ, **ENVIRON},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 3, result.stderr  # the primary bucket fails; so does the whole run
    run = json.loads((tmp_path / "run.json").read_text())
    for check in ("freshness", "snapshot_sanity"):
        statuses = {target: finding["status"] for target, finding in _findings(run, check).items()}
        assert statuses == dict.fromkeys(("vault", "primary", "archive", "nas"), "pass"), (check, statuses)

    immutability = _findings(run, "immutability")
    assert immutability["vault"]["status"] == "pass"
    assert immutability["archive"]["status"] == "pass"
    assert immutability["primary"]["status"] == "fail"
    assert immutability["nas"]["status"] == "warn"

    lifecycle = _findings(run, "retention_lifecycle")
    assert lifecycle["primary"]["status"] == "fail"
    assert "purge-weekly" in lifecycle["primary"]["message"]
    assert lifecycle["vault"]["status"] == "pass"

    [scorecard, zero] = [f for f in run["findings"] if f["check"] == "copies_3_2_1"]
    assert scorecard["status"] == "pass", scorecard["message"]
    assert scorecard["evidence"]["score"] == {"copies": 4, "media": 3, "offsite": 3, "immutable": 2}
    # No restore drill has run in this workspace: the "0" of 3-2-1-1-0 is not met.
    assert zero["status"] == "fail" and zero["evidence"]["last_passing_drill"] is None

    sidecar = _findings(run, "snapshot_sanity")["nas"]["evidence"]
    assert sidecar["sidecar"] == f"{KEY}.sha256"

    # The table names every check, and no secret reaches any output.
    for check in ("copies_3_2_1", "freshness", "immutability", "retention_lifecycle", "snapshot_sanity"):
        assert check in result.stdout
    everything = result.stdout + result.stderr + (tmp_path / "run.json").read_text()
    assert ENVIRON["DRILL_E2E_SECRET"] not in everything
