"""`drill run` over a pgbackrest target, as a user runs it: the stanza's repository is the copy the
database is restored from, the physical drill's findings land in the run record, and the
repository's cipher passphrase appears in no output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.drill.restore.conftest import REPO, processes_mentioning
from tests.pgbackrest_estate import DATABASE, TABLE, Stanza, StanzaFactory

CONFIG = """
[report]
dir = "{reports}"

[policy]
copies = 1
media = 1
offsite = 0
immutable = 0
max_age = "3d"

[restore]
work_dir = "{work_dir}"

[[targets]]
name = "stanza"
type = "pgbackrest"
stanza = "{stanza}"
config = "{config}"
site = "dc1"

[[databases]]
name = "{database}"
site = "dc1"
targets = ["stanza"]
[[databases.checks]]
name = "rows after the backup"
sql = "SELECT count(*) FROM public.{table}"
expect = "== {rows}"
"""
PHYSICAL_CHECKS = ("restore", "integrity", "wal_replay", "page_checksums")


def drill_run(
    stanza: Stanza, tmp_path: Path, work_dir: Path, *arguments: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    config = tmp_path / "drill.toml"
    config.write_text(
        CONFIG.format(
            reports=tmp_path / "reports", work_dir=work_dir, stanza=stanza.name, config=stanza.config,
            database=DATABASE, table=TABLE, rows=stanza.rows_replayable,
        )
    )  # fmt: skip
    result = subprocess.run(
        (sys.executable, "-m", "drill", "run", "-c", str(config), "--json", str(tmp_path / "run.json"), *arguments),
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    return result, json.loads((tmp_path / "run.json").read_text())


def test_drill_run_restores_a_stanza_and_reports_the_physical_findings(
    pgbackrest_stanza: Stanza, tmp_path: Path, work_dir: Path
) -> None:
    result, run = drill_run(pgbackrest_stanza, tmp_path, work_dir)
    restore_findings = {f["check"]: f for f in run["findings"] if f["check"] in PHYSICAL_CHECKS}
    assert {check: f["status"] for check, f in restore_findings.items()} == dict.fromkeys(
        PHYSICAL_CHECKS, "pass"
    ), result.stdout + result.stderr
    evidence = restore_findings["restore"]["evidence"]
    assert evidence["dump_format"] == "pgbackrest" and evidence["replay_seconds"] > 0
    assert restore_findings["wal_replay"]["evidence"]["last_transaction_at"] is not None
    assert list(work_dir.iterdir()) == [] and processes_mentioning(str(work_dir)) == []


def test_the_cipher_passphrase_appears_in_no_output(
    pgbackrest_encrypted_stanza: Stanza, tmp_path: Path, work_dir: Path
) -> None:
    result, run = drill_run(pgbackrest_encrypted_stanza, tmp_path, work_dir)
    restore = next(f for f in run["findings"] if f["check"] == "restore")
    assert restore["status"] == "pass", restore["message"]
    passphrase = str(pgbackrest_encrypted_stanza.cipher_pass)
    written = [
        result.stdout,
        result.stderr,
        *(
            path.read_text(errors="replace")
            for path in tmp_path.rglob("*")
            if path.is_file() and path.name != "drill.toml"
        ),
    ]
    assert not [text for text in written if passphrase in text]
    assert list(work_dir.iterdir()) == []


def test_backup_set_drills_the_named_backup_and_an_unknown_one_is_an_error(
    make_stanza: StanzaFactory, tmp_path: Path, work_dir: Path
) -> None:
    stanza = make_stanza("chosen", backups=("full", "incr"))
    older, newest = stanza.labels[0], stanza.labels[-1]

    result, run = drill_run(stanza, tmp_path, work_dir, "--database", DATABASE, "--backup-set", older)

    restore = next(f for f in run["findings"] if f["check"] == "restore")
    assert restore["status"] == "pass", result.stdout + result.stderr
    assert older in restore["message"] and newest not in restore["message"]
    replay = next(f for f in run["findings"] if f["check"] == "wal_replay")
    assert replay["status"] == "pass" and older in replay["message"]

    result, run = drill_run(
        stanza, tmp_path, work_dir, "--database", DATABASE, "--backup-set", "20990101-000000F"
    )

    restore = next(f for f in run["findings"] if f["check"] == "restore")
    assert result.returncode == 3 and restore["status"] == "error"
    assert "20990101-000000F" in restore["message"] and newest in restore["message"]
    assert list(work_dir.iterdir()) == [] and processes_mentioning(str(work_dir)) == []


def test_backup_set_needs_one_database_and_a_label(tmp_path: Path) -> None:
    config = tmp_path / "drill.toml"
    config.write_text('[[targets]]\nname = "t"\ntype = "filesystem"\npath = "/nonexistent"\n')
    for arguments, reason in (
        (("--backup-set", "20261201-020000F"), "exactly one --database"),
        (("--database", "app", "--backup-set", "../../etc"), "not a pgBackRest backup label"),
    ):
        result = subprocess.run(
            (sys.executable, "-m", "drill", "run", "-c", str(config), *arguments),
            cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 2 and reason in result.stderr, result.stderr
