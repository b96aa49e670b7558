"""Names from storage are data, end to end: `drill check` over a filesystem name that is not UTF-8 and
an S3 key with control characters finishes, writes its record, and every output carries the names
escaped: the console, the JSON record, the HTML report and index, JUnit, the history line, the
metrics textfile and the webhook. No output holds a raw control character or a surrogate, and no
name is read as markup (rich), HTML or XML.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree

from prometheus_client.parser import text_string_to_metric_families

from tests.reports.servers import receiver

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Not UTF-8, a terminal escape, a rich closing tag (across a directory named "["), HTML and a CDATA
# end: each broke or could break an output.
FILESYSTEM_NAME = b"orders/[/b]orders-\xff\x1b[2J<script>]]>.dump"
FILESYSTEM_KEY = "pg/orders/[/b]orders-\\xff\\u001b[2J<script>]]>.dump"
S3_NAME = "pg/orders/orders-\x1b]8;;https://evil.example\x07\u202e\r.dump"
S3_KEY = "pg/orders/orders-\\u001b]8;;https://evil.example\\u0007\\u202e\\u000d.dump"
ENVIRON = {"DRILL_E2E_KEY_ID": "testing", "DRILL_E2E_SECRET": "e2e-secret-value-never-printed"}

CONFIG = """
[report]
dir = "reports"

[metrics]
textfile = "drill.prom"

[notify]
webhook_env = "DRILL_E2E_WEBHOOK"
on = ["failure"]
timeout = "5s"
retries = 0

[[targets]]
name = "nas"
type = "filesystem"
path = "nas"
prefix = "pg"
site = "office"
media = "disk"

[[targets]]
name = "vault"
type = "s3"
bucket = "vault"
prefix = "pg"
region = "us-east-1"
endpoint_url = "{s3}"
site = "aws:222:eu-central-1"
credentials = {{ access_key_id_env = "DRILL_E2E_KEY_ID", secret_access_key_env = "DRILL_E2E_SECRET" }}

[[databases]]
name = "orders"
site = "office"
targets = ["nas", "vault"]
snapshot_pattern = "orders/*.dump"

[[agents]]
name = "ci"
paths = ["workspace"]
"""


def _raw_control_characters(text: str) -> list[str]:
    """Control characters (newlines and tabs of the format itself aside) and surrogates in ``text``."""
    return [
        f"U+{ord(character):04X}"
        for character in text
        if (ord(character) < 0x20 and character not in "\n\t\r")
        or 0x7F <= ord(character) <= 0x9F
        or 0xD800 <= ord(character) <= 0xDFFF
        or character in "\u202e\u2028"
    ]


def test_hostile_names_reach_every_output_escaped_and_the_run_is_recorded(
    tmp_path: Path, s3_admin: S3Client, s3_endpoint: str
) -> None:
    (tmp_path / "nas" / "pg" / "orders" / "[").mkdir(parents=True)
    # Empty: snapshot_sanity fails, so the name is quoted in a failing finding and in the webhook too.
    (tmp_path / "nas" / "pg" / os.fsdecode(FILESYSTEM_NAME)).write_bytes(b"")
    # An agent's workspace holding the vault's secret, in a file whose name is the same kind of hostile.
    (tmp_path / "workspace").mkdir()
    (tmp_path / "workspace" / os.fsdecode(b"deploy-\xfe\x1b[1m.env")).write_text(
        f"AWS_SECRET_ACCESS_KEY={ENVIRON['DRILL_E2E_SECRET']}\n"
    )
    s3_admin.create_bucket(Bucket="vault")
    s3_admin.put_object(Bucket="vault", Key=S3_NAME, Body=b"")
    (tmp_path / "drill.toml").write_text(CONFIG.format(s3=s3_endpoint))

    with receiver() as webhook:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "drill",
                "check",
                "-c",
                "drill.toml",
                "--json",
                "run.json",
                "--junit",
                "junit.xml",
            ],
            cwd=tmp_path,
            env={**os.environ, **ENVIRON, "DRILL_E2E_WEBHOOK": webhook.url("/hook")},
            capture_output=True,
            timeout=120,
            check=False,
        )

    stdout, stderr = result.stdout.decode(), result.stderr.decode()  # strict: both are UTF-8
    assert result.returncode == 3, stderr  # the empty snapshots fail; nothing crashed
    assert "internal error" not in stderr
    run = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    sanity = {f["target"]: f for f in run["findings"] if f["check"] == "snapshot_sanity"}
    assert sanity["nas"]["status"] == "fail" and sanity["nas"]["evidence"]["snapshot"] == FILESYSTEM_KEY
    assert sanity["vault"]["status"] == "fail" and sanity["vault"]["evidence"]["snapshot"] == S3_KEY
    [exposure] = [f for f in run["findings"] if f["check"] == "credential_exposure"]
    assert exposure["status"] == "fail" and "deploy-\\xfe\\u001b[1m.env:1" in exposure["message"]

    [run_dir] = (tmp_path / "reports" / "runs").iterdir()
    outputs = {
        "console": stdout + stderr,
        "run.json": (tmp_path / "run.json").read_text(encoding="utf-8"),
        "record": (run_dir / "run.json").read_text(encoding="utf-8"),
        "report": (run_dir / "report.html").read_text(encoding="utf-8"),
        "index": (tmp_path / "reports" / "index.html").read_text(encoding="utf-8"),
        "history": (tmp_path / "reports" / "history.jsonl").read_text(encoding="utf-8"),
        "junit": (tmp_path / "junit.xml").read_text(encoding="utf-8"),
        "metrics": (tmp_path / "drill.prom").read_text(encoding="utf-8"),
        "webhook": webhook.to("/hook")[0].body.decode("utf-8"),
    }
    for name, text in outputs.items():
        assert _raw_control_characters(text) == [], name
        assert "<script>" not in text or name in ("console", "run.json", "record", "history"), name
    for name in ("console", "run.json", "record", "junit"):
        assert "\\u001b" in outputs[name], name
    assert "[/b]orders-\\xff\\u001b[2J&lt;script&gt;" in outputs["report"]
    webhook_text = json.loads(outputs["webhook"])["text"]
    assert "\\u001b]8;;https://evil.example\\u0007" in webhook_text and "&lt;script&gt;" in webhook_text
    ElementTree.fromstring(outputs["junit"].encode())  # noqa: S314 - drill's own output: well-formed XML 1.0
    assert list(text_string_to_metric_families(outputs["metrics"]))
    assert ENVIRON["DRILL_E2E_SECRET"] not in "".join(outputs.values())
