"""The drill config the demo runs: its estate's targets, databases and agent, credentials named only."""

from __future__ import annotations

import json
import os
from pathlib import Path

from drill.demo.estate import (
    AGENT,
    LOCKED_BUCKET,
    MAIN_ACCOUNT,
    PLAIN_BUCKET,
    REGION,
    VAULT_ACCOUNT,
    VAULT_BUCKET,
)
from drill.restore.binaries import PgBinaries

_CONFIG = """\
# The config `drill demo` ran. Its endpoint (moto on 127.0.0.1) and its sandbox paths went away
# when the demo ended; start your own from config.example.toml. Credentials are named, never written:
# the demo handed drill the variables' values in memory.

[report]
dir = {out}

# The estate partly meets this: shop has three copies in distinct failure domains (the two
# buckets of one account are one), two of them immutable; billing has two copies, none immutable.
[policy]
copies = 3
media = 2
offsite = 1
immutable = 1
max_age = "26h"
min_retention = "30d"

[restore]
bin_dir = {bin_dir}
work_dir = {work_dir}
{run_as}jobs = 2

[[targets]]
name = "s3-locked"
type = "s3"
bucket = "{locked}"
prefix = "pg/"
region = "{region}"
endpoint_url = {endpoint}
sts_endpoint_url = {endpoint}
iam_endpoint_url = {endpoint}
site = "aws:{main}:{region}"
[targets.credentials]
access_key_id_env = "DEMO_DRILL_ACCESS_KEY_ID"
secret_access_key_env = "DEMO_DRILL_SECRET_ACCESS_KEY"

[[targets]]
name = "s3-plain"
type = "s3"
bucket = "{plain}"
prefix = "pg/"
region = "{region}"
endpoint_url = {endpoint}
sts_endpoint_url = {endpoint}
iam_endpoint_url = {endpoint}
site = "aws:{main}:{region}"
[targets.credentials]
access_key_id_env = "DEMO_DRILL_ACCESS_KEY_ID"
secret_access_key_env = "DEMO_DRILL_SECRET_ACCESS_KEY"

# A vault in a second account, read with a reader user of that account.
[[targets]]
name = "s3-vault"
type = "s3"
bucket = "{vault}"
prefix = "pg/"
region = "{region}"
endpoint_url = {endpoint}
sts_endpoint_url = {endpoint}
iam_endpoint_url = {endpoint}
site = "aws:{vault_account}:{region}"
account = "{vault_account}"
[targets.credentials]
access_key_id_env = "DEMO_VAULT_ACCESS_KEY_ID"
secret_access_key_env = "DEMO_VAULT_SECRET_ACCESS_KEY"

[[targets]]
name = "nas"
type = "filesystem"
path = {nas}
site = "office"
media = "disk"

[[databases]]
name = "shop"
site = "aws:{main}:{region}"
targets = ["s3-locked", "s3-plain", "s3-vault", "nas"]
snapshot_pattern = "shop/shop-*.dump"
restore_from = "s3-locked"
rto = "10m"
recovery_point_columns = ["orders.placed_at"]
[[databases.checks]]
name = "customers exist"
sql = "SELECT count(*) FROM customers"
expect = ">= 500"
[[databases.checks]]
name = "no orphaned order lines"
sql = "SELECT count(*) FROM order_lines l LEFT JOIN orders o ON o.id = l.order_id WHERE o.id IS NULL"
expect = "== 0"
[[databases.checks]]
name = "every order has a line"
sql = "SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id)"
expect = "== 0"

[[databases]]
name = "billing"
site = "aws:{main}:{region}"
targets = ["s3-plain", "nas"]
snapshot_pattern = "billing/billing-*.sql.gz"
rto = "10m"
recovery_point_columns = ["payments.paid_at"]
[[databases.checks]]
name = "invoices exist"
sql = "SELECT count(*) FROM invoices"
expect = ">= 2000"
[[databases.checks]]
name = "no payment exceeds its invoice"
sql = "SELECT count(*) FROM payments p JOIN invoices i ON i.id = p.invoice_id WHERE p.amount > i.amount"
expect = "== 0"

# The CI job's keys: s3:* on {plain}, nothing on the other buckets.
[[agents]]
name = "{agent}"
paths = [{workspace}]
[agents.credentials]
access_key_id_env = "DEMO_AGENT_ACCESS_KEY_ID"
secret_access_key_env = "DEMO_AGENT_SECRET_ACCESS_KEY"
"""


def write_config(sandbox: Path, out: Path, endpoint: str, binaries: PgBinaries, run_as: str) -> Path:
    work_dir = sandbox / "restore"
    work_dir.mkdir(mode=0o755)
    work_dir.chmod(0o755)
    text = _CONFIG.format(
        out=_quoted(out),
        bin_dir=_quoted(binaries.bin_dir),  # the programs that made the dumps restore them
        work_dir=_quoted(work_dir),
        run_as=f"run_as = {_quoted(run_as)}\n" if os.geteuid() == 0 else "",
        endpoint=_quoted(endpoint),
        nas=_quoted(sandbox / "nas"),
        workspace=_quoted(sandbox / "ci-workspace"),
        locked=LOCKED_BUCKET,
        plain=PLAIN_BUCKET,
        vault=VAULT_BUCKET,
        main=MAIN_ACCOUNT,
        vault_account=VAULT_ACCOUNT,
        region=REGION,
        agent=AGENT,
    )
    path = sandbox / "drill.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _quoted(value: object) -> str:
    """A TOML basic string: JSON's escapes are TOML's."""
    return json.dumps(str(value))
