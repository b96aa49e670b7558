"""The estate the report end-to-end tests drill: its config (moto, the GCS emulator, a filesystem copy), its snapshots, and `drill run` as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.pg_dumps import Dumps, throwaway_cluster

HERE = Path(__file__).resolve().parent
# Hostile names: a snapshot key and an integrity query that would run script if not escaped.
HOSTILE_KEY = "orders/orders-<img src=x onerror=alert(1)>-{n}.dump"
HOSTILE_QUERY = '<script>alert("query")</script>'
EVERYTHING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:*", "sts:*", "iam:*"], "Resource": "*"}],
}
RED = (0xB9, 0x1C, 0x1C)  # the fail banner, --fail in _style.css
GREEN = (0x15, 0x80, 0x3D)  # the pass banner

CONFIG = """
[report]
dir = "reports"

[policy]
copies = 3
media = 2
offsite = 1
immutable = 1
max_age = "3d"
min_retention = "30d"

[restore]
work_dir = "{work_dir}"
run_as = "postgres"

[[targets]]
name = "vault"
type = "s3"
bucket = "vault"
region = "us-east-1"
endpoint_url = "{s3}"
site = "aws:111111111111:eu-west-1"
credentials = {{ access_key_id_env = "DRILL_KEY", secret_access_key_env = "DRILL_SECRET" }}

[[targets]]
name = "locked"
type = "s3"
bucket = "locked"
region = "us-east-1"
endpoint_url = "{s3}"
site = "aws:222222222222:eu-central-1"
credentials = {{ access_key_id_env = "DRILL_KEY", secret_access_key_env = "DRILL_SECRET" }}

[[targets]]
name = "archive"
type = "gcs"
bucket = "archive"
endpoint_url = "{gcs}"
site = "gcp:backups:europe-west4"
credentials = {{ anonymous = true }}

[[targets]]
name = "nas"
type = "filesystem"
path = "nas"
site = "office"
media = "disk"

[[databases]]
name = "orders"
site = "aws:111111111111:eu-west-1"
targets = ["vault", "locked", "archive", "nas"]
snapshot_pattern = "orders/*.dump"
restore_from = "vault"
rto = "10m"
recovery_point_columns = ["orders.placed_at"]
[[databases.checks]]
name = '{query}'
sql = "SELECT count(*) FROM orders"
expect = ">= 1"

[[databases]]
name = "billing"
site = "office-db"
targets = ["nas"]
snapshot_pattern = "billing/*.sql.gz"
copies = 1
media = 1
offsite = 1
immutable = 0

[[agents]]
name = "deployer"
credentials = {{ access_key_id_env = "DEPLOYER_KEY", secret_access_key_env = "DEPLOYER_SECRET" }}
"""


@dataclass(frozen=True)
class Estate:
    root: Path
    config: Path
    reports: Path
    environ: dict[str, str]
    results: tuple[subprocess.CompletedProcess[str], ...]  # one per drill run, oldest first

    @property
    def runs(self) -> list[Path]:
        return sorted((self.reports / "runs").iterdir())

    @property
    def secrets(self) -> dict[str, str]:
        """Every secret value and full access key id the config's environment holds."""
        return {name: value for name, value in self.environ.items() if name.endswith(("_SECRET", "_KEY"))}


def shrunk_dump(dumps: Dumps, out: Path) -> Path:
    """The shop database with nine in ten orders gone: what a broken backup job would upload."""
    with throwaway_cluster(dumps.bin_dir) as socket_dir:
        environ = {**os.environ, "PGHOST": str(socket_dir), "PGUSER": "postgres"}
        for command in (
            ["createdb", "shop"],
            ["pg_restore", "--no-owner", "-d", "shop", str(dumps.custom)],
            ["psql", "-q", "-d", "shop", "-c", "DELETE FROM orders WHERE id > 300"],
            ["pg_dump", "-Fc", "-Z", "9", "-f", str(out), "shop"],
        ):
            subprocess.run(
                [dumps.tool(command[0]), *command[1:]], env=environ, check=True, capture_output=True
            )
    return out


def upload(s3: Any, gcs_bucket: Any, nas: Path, key: str, body: bytes) -> None:
    s3.put_object(Bucket="vault", Key=key, Body=body)
    s3.put_object(Bucket="locked", Key=key, Body=body)  # the default COMPLIANCE retention applies
    gcs_bucket.blob(key).upload_from_string(body)
    path = nas / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)


def run_drill(
    estate_root: Path, config: Path, environ: dict[str, str], *extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "drill", "run", "-c", str(config), *extra],
        cwd=estate_root,
        env={"PATH": os.environ["PATH"], "CI": os.environ.get("CI", ""), **environ},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
