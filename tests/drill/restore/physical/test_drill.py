"""The physical restore drill end to end: real pgBackRest 2.45 repositories, real PostgreSQL 15."""

from __future__ import annotations

import os
import pwd
import time
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from drill.checks.integrity import integrity
from drill.checks.page_checksums import page_checksums
from drill.checks.restore import restore
from drill.checks.wal_replay import wal_replay
from drill.config import Database, IntegrityQuery, Policy, RestoreSettings
from drill.engine import evaluate
from drill.facts import DrillOutcome, RestoreFacts
from drill.model import Finding, Status
from drill.restore.binaries import RestoreSetupError
from drill.restore.physical.drill import binaries_for, drill_stanza
from tests.drill.restore.conftest import processes_mentioning
from tests.drill.restore.physical.conftest import PASSPHRASE, ROOT, SourceStanza

ROWS_AFTER_REPLAY = IntegrityQuery(name="orders", sql="SELECT count(*) FROM public.orders", expect="== 1600")
SHOP = Database(name="shop", site="dc1", targets=("main",), checks=(ROWS_AFTER_REPLAY,))


def findings(outcome: DrillOutcome, database: Database = SHOP) -> dict[str, Finding]:
    facts = RestoreFacts(
        database, Policy(), outcome.snapshot.created_at if outcome.snapshot else None, outcome
    )  # type: ignore[arg-type]
    found = {}
    for function in (restore, integrity, wal_replay, page_checksums):
        [finding] = evaluate(function.__drill_check__, facts)  # type: ignore[attr-defined]
        found[finding.check] = finding
    return found


def assert_clean(work_dir: Path) -> None:
    assert list(work_dir.iterdir()) == [], "the drill left files behind"
    assert processes_mentioning(str(work_dir)) == []


def test_a_posix_stanza_restores_replays_the_archive_and_passes(stanza: SourceStanza, work_dir: Path) -> None:
    before = sorted((path, path.stat().st_mtime_ns) for path in stanza.tablespace.rglob("*"))
    outcome = drill_stanza(
        SHOP, "main", stanza.stanza_repo(), RestoreSettings(work_dir=str(work_dir)), os.environ
    )

    assert outcome.failure is None, outcome.failure
    assert outcome.verification is not None and outcome.replay is not None
    # 1,000 rows were in the backup; the other 600 came back only through WAL replay.
    [query] = outcome.verification.queries
    assert query.value == 1600
    rows = {table.table: table.rows for table in outcome.verification.tables}
    assert rows == {"public.orders": 1600, "public.archive_orders": 300}  # the tablespace's table too
    assert outcome.replay.missing is None and outcome.replay.last_segment == outcome.replay.archive_newest
    assert outcome.replay.last_transaction_at is not None
    assert outcome.replay.last_transaction_at >= outcome.replay.backup_stopped_at
    assert outcome.checksums is not None and outcome.checksums.enabled and outcome.checksums.status == 0
    assert outcome.timings.restore_seconds > 0 and outcome.timings.replay_seconds > 0
    assert outcome.timings.verify_seconds > 0
    verdicts = findings(outcome)
    assert {check: finding.status for check, finding in verdicts.items()} == dict.fromkeys(
        verdicts, Status.PASS
    )
    assert "WAL replay" in verdicts["restore"].message
    # The original tablespace directory was never written to: the restore mapped it into scratch.
    assert sorted((path, path.stat().st_mtime_ns) for path in stanza.tablespace.rglob("*")) == before
    assert_clean(work_dir)


def test_the_recovered_server_runs_drills_config_not_the_backups(
    stanza: SourceStanza, work_dir: Path
) -> None:
    outcome = drill_stanza(
        SHOP, "main", stanza.stanza_repo(), RestoreSettings(work_dir=str(work_dir)), os.environ, keep=True
    )
    assert outcome.kept is not None, outcome.failure
    [root] = work_dir.iterdir()
    try:
        socket = root / "socket"
        port = next(path.name.rsplit(".", 1)[1] for path in socket.iterdir() if path.is_socket())
        with psycopg.connect(
            host=str(socket),
            port=port,
            user="postgres",
            dbname="shop",
            client_encoding="UTF8",
            autocommit=True,
        ) as connection:
            settings = dict(
                connection.execute(
                    "SELECT name, setting FROM pg_settings WHERE name IN "
                    "('shared_preload_libraries', 'archive_mode', 'archive_command', 'listen_addresses', 'config_file')"
                ).fetchall()
            )
            location = connection.execute(
                "SELECT pg_tablespace_location(oid) FROM pg_tablespace WHERE spcname = 'spare'"
            ).fetchone()
            postmaster = connection.execute("SELECT pg_backend_pid()").fetchone()
        assert settings["shared_preload_libraries"] == "" and settings["archive_mode"] == "off"
        assert settings["listen_addresses"] == ""
        assert settings["config_file"] == str(root / "config" / "postgresql.conf")
        assert location is not None and location[0].startswith(str(root / "tablespaces"))
        assert not (root / "data" / "postgresql.auto.conf").read_text().count("restore_command")
        if ROOT:
            assert postmaster is not None
            uid = int(
                next(
                    line
                    for line in Path(f"/proc/{postmaster[0]}/status").read_text().splitlines()
                    if line.startswith("Uid:")
                ).split()[1]
            )
            assert uid == pwd.getpwnam("postgres").pw_uid
    finally:
        pid = int((root / "data" / "postmaster.pid").read_text().split("\n", 1)[0])
        os.kill(pid, 2)
        for _ in range(500):
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.01)


def test_a_wal_gap_fails_naming_the_missing_segment(
    gap_stanza: tuple[SourceStanza, str], work_dir: Path
) -> None:
    source, lost = gap_stanza
    database = SHOP.model_copy(update={"targets": (source.name,)})
    outcome = drill_stanza(
        database, source.name, source.stanza_repo(), RestoreSettings(work_dir=str(work_dir)), os.environ
    )

    assert outcome.replay is not None and outcome.replay.missing == lost
    verdicts = findings(outcome, database)
    assert verdicts["wal_replay"].status is Status.FAIL
    assert lost in verdicts["wal_replay"].message and "stopped early" in verdicts["wal_replay"].message
    # The copy starts and answers, without the rows after the hole: the configured check sees it.
    assert verdicts["restore"].status is Status.PASS
    assert verdicts["integrity"].status is Status.FAIL and "expected == 1600" in verdicts["integrity"].message
    assert_clean(work_dir)


def test_an_encrypted_repository_restores_and_its_passphrase_is_never_shown(
    encrypted_stanza: SourceStanza, work_dir: Path
) -> None:
    repo = encrypted_stanza.stanza_repo()
    assert repo.cipher == "aes-256-cbc"
    database = SHOP.model_copy(update={"targets": (encrypted_stanza.name,)})
    outcome = drill_stanza(
        database, encrypted_stanza.name, repo, RestoreSettings(work_dir=str(work_dir)), os.environ
    )
    assert outcome.failure is None, outcome.failure
    assert outcome.verification is not None and outcome.verification.queries[0].value == 1600
    verdicts = findings(outcome, database)
    assert all(finding.status is Status.PASS for finding in verdicts.values())
    assert PASSPHRASE not in repr(outcome) + repr(verdicts)
    assert_clean(work_dir)


def test_a_wrong_passphrase_fails_the_restore_without_showing_it(
    encrypted_stanza: SourceStanza, work_dir: Path
) -> None:
    wrong = "not-the-passphrase-0123456789"
    environ = {**os.environ, "PGBACKREST_REPO1_CIPHER_PASS": wrong}
    database = SHOP.model_copy(update={"targets": (encrypted_stanza.name,)})
    outcome = drill_stanza(
        database,
        encrypted_stanza.name,
        encrypted_stanza.stanza_repo(),
        RestoreSettings(work_dir=str(work_dir)),
        environ,
    )
    assert outcome.failed_stage == "restore" and outcome.failure is not None
    assert "pgbackrest restore" in outcome.failure
    assert wrong not in repr(outcome) and PASSPHRASE not in repr(outcome)
    assert findings(outcome, database)["restore"].status is Status.FAIL
    assert_clean(work_dir)


def test_a_backup_of_a_version_without_its_server_is_a_clear_setup_error(
    stanza: SourceStanza, work_dir: Path
) -> None:
    repo = stanza.stanza_repo()
    assert repo.latest is not None
    older = replace(repo, backups=(replace(repo.latest, pg_version="11"),))
    with pytest.raises(RestoreSetupError, match=r"PostgreSQL 11.*apt-get install postgresql-11"):
        drill_stanza(SHOP, "main", older, RestoreSettings(work_dir=str(work_dir)), os.environ)
    assert_clean(work_dir)


def test_the_server_of_the_backups_version_is_found(stanza: SourceStanza) -> None:
    found = binaries_for("15", RestoreSettings(), os.environ)
    assert found.major == 15 and found.has("pg_checksums")
    with pytest.raises(RestoreSetupError, match="found only"):
        binaries_for("16", RestoreSettings(), os.environ)
