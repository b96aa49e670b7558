"""An encrypted stanza is judged like any other, and its cipher passphrase appears in no output:
console (with DRILL_DEBUG), the JSON run record, JUnit, the HTML report and index, the history, the
evidence pack and ``drill validate``; the credential scan finds the passphrase in an agent's files
and names it masked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.pgbackrest_estate import CIPHER_PASS, Stanza

pytestmark = pytest.mark.slow

CONFIG = """
[policy]
copies = 1
media = 1
offsite = 0
immutable = 0

[report]
dir = "reports"

[[targets]]
name = "secret"
type = "pgbackrest"
stanza = "{stanza}"
config = "{config}"
site = "dc-1"

[[targets]]
name = "missing"
type = "pgbackrest"
stanza = "{stanza}"
config = "{config}"
repo = 7
site = "dc-1"

[[databases]]
name = "app"
site = "dc-1"
targets = ["secret", "missing"]

[[agents]]
name = "ci"
paths = ["{workspace}"]
"""


def drill(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environ = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd), "DRILL_DEBUG": "1"}
    return subprocess.run(
        [sys.executable, "-m", "drill", *arguments],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def every_output(root: Path) -> dict[str, bytes]:
    """Every file drill wrote under ``root``, an evidence pack's members included."""
    found: dict[str, bytes] = {}
    for path in root.rglob("*"):
        if path.is_file() and path.name not in ("drill.toml",) and "workspace" not in path.parts:
            found[str(path)] = path.read_bytes()
            if path.suffix == ".zip":
                with zipfile.ZipFile(path) as pack:
                    found |= {f"{path}:{name}": pack.read(name) for name in pack.namelist()}
    return found


def test_the_cipher_pass_appears_in_no_output(tmp_path: Path, pgbackrest_encrypted_stanza: Stanza) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    # An agent that holds the passphrase can read the repository: the scan must find it.
    (workspace / ".env").write_text(f"PGBACKREST_REPO1_CIPHER_PASS={CIPHER_PASS}\n")
    config = tmp_path / "drill.toml"
    config.write_text(
        CONFIG.format(
            stanza=pgbackrest_encrypted_stanza.name,
            config=pgbackrest_encrypted_stanza.config,
            workspace=workspace,
        )
    )
    validated = drill("validate", "-c", str(config), cwd=tmp_path)
    ran = drill("run", "-c", str(config), "--json", "run.json", "--junit", "junit.xml", cwd=tmp_path)
    today = f"{datetime.now(UTC):%Y-%m-%d}"
    packed = drill("report", "-c", str(config), "--since", today, "--out", "pack.zip", cwd=tmp_path)
    assert (tmp_path / "pack.zip").is_file(), packed.stderr  # it exits 3: the period holds failed findings

    # What the run judged: the encrypted repository like any other, and the missing repository as an error.
    assert "repo1: posix directory" in validated.stdout and "cipher aes-256-cbc" in validated.stdout
    assert "has no repo7" in validated.stderr and validated.returncode == 2
    run = json.loads((tmp_path / "run.json").read_text())
    findings = {(f["check"], f["target"]): f for f in run["findings"]}
    assert findings[("pgbackrest_cipher", "secret.repo1")]["status"] == "pass"
    assert "aes-256-cbc" in findings[("pgbackrest_cipher", "secret.repo1")]["message"]
    assert findings[("pgbackrest_backups", "secret.repo1")]["status"] == "pass"
    assert findings[("pgbackrest_wal", "secret.repo1")]["status"] == "pass"
    assert findings[("freshness", "missing")]["status"] == "error"
    exposure = findings[("credential_exposure", None)]
    assert exposure["status"] == "fail" and "repo1-cipher-pass" in exposure["message"]

    outputs = every_output(tmp_path) | {
        "validate stdout": validated.stdout.encode(),
        "validate stderr": validated.stderr.encode(),
        "run stdout": ran.stdout.encode(),
        "run stderr": ran.stderr.encode(),
        "report stdout": packed.stdout.encode(),
        "report stderr": packed.stderr.encode(),
    }
    assert {"run.json", "junit.xml", "report.html", "index.html"} <= {Path(name).name for name in outputs}
    leaked = sorted(name for name, content in outputs.items() if CIPHER_PASS.encode() in content)
    assert leaked == []
