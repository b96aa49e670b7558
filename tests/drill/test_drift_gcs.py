"""Drift on a GCS target, against gcp-storage-emulator: it stores a bucket's retentionPolicy (a raw
PATCH sets it, REFERENCE.md), so a shortened retention period is a real round trip. The emulator
answers getIamPolicy with no bindings (measured), and grants every permission asked of it, so the
IAM digest and the holders' powers are compared but cannot change here; their logic is tested on
hand-built records in tests/checks/test_drift.py."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import requests

from drill.baseline import codec
from drill.config import load_config
from drill.engine import approve_baseline, execute
from drill.model import Phase, Status

if TYPE_CHECKING:
    from google.cloud import storage

CONFIG = """
[report]
dir = "reports"

[policy]
copies = 1
media = 1
offsite = 0
immutable = 0

[[targets]]
name = "archive"
type = "gcs"
bucket = "archive"
prefix = "pg"
endpoint_url = "{gcs}"
site = "gcp:backups:europe-west4"
credentials = {{ anonymous = true }}

[[databases]]
name = "orders"
site = "prod"
targets = ["archive"]
snapshot_pattern = "*.dump"
"""


def _retention(endpoint: str, days: int) -> None:
    requests.patch(
        f"{endpoint}/storage/v1/b/archive",
        json={"retentionPolicy": {"retentionPeriod": str(days * 86400)}},
        timeout=10,
    ).raise_for_status()


def test_a_shortened_gcs_retention_period_fails_and_a_longer_one_warns(
    tmp_path: Path, gcs_admin: storage.Client, gcs_endpoint: str
) -> None:
    gcs_admin.create_bucket("archive").blob("pg/orders-2026-12-05.dump").upload_from_string(b"PGDMP")
    _retention(gcs_endpoint, 90)
    path = tmp_path / "drill.toml"
    path.write_text(CONFIG.format(gcs=gcs_endpoint))
    loaded = load_config(path)
    approved = approve_baseline(loaded, by="alice", environ={}, now=datetime.now(UTC))
    Path(loaded.config.baseline_path).parent.mkdir()
    Path(loaded.config.baseline_path).write_text(codec.render(approved))

    def judged() -> list[tuple[Status, str]]:
        run = execute(
            loaded, command="check", phases=frozenset({Phase.POSTURE}), environ={}, only=frozenset({"drift"})
        )
        return [(finding.status, finding.message) for finding in run.findings if finding.target == "archive"]

    [(status, message)] = judged()
    assert status is Status.PASS, message

    _retention(gcs_endpoint, 30)
    [(status, message)] = judged()
    assert status is Status.FAIL
    assert "retention period weakened from 90d to 30d" in message

    _retention(gcs_endpoint, 365)
    [(status, message)] = judged()
    assert status is Status.WARN and "strengthened from 90d to 365d" in message
