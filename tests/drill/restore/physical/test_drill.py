"""The physical restore drill end to end: real pgBackRest 2.45 repositories (tests/pgbackrest_estate.py),
real PostgreSQL 15, the checks judging what it measured."""

from __future__ import annotations

import os
import pwd
import subprocess
from collections.abc import Mapping
from pathlib import Path

import psycopg
import pytest

from drill.checks.integrity import integrity
from drill.checks.page_checksums import page_checksums
from drill.checks.restore import restore
from drill.checks.wal_replay import wal_replay
from drill.config import Database, IntegrityQuery, Policy, RestoreSettings, Target, TargetType
from drill.engine import evaluate
from drill.facts import DrillOutcome, RestoreFacts
from drill.facts.pgbackrest import StanzaRepo
from drill.model import Finding, Status, Unavailable
from drill.restore.binaries import RestoreSetupError
from drill.restore.physical.drill import binaries_for, drill_stanza
from drill.storage.pgbackrest.stanza import read_stanza
from tests.drill.restore.conftest import processes_mentioning, wait_until
from tests.pgbackrest_estate import DATABASE, TABLE, Stanza, StanzaFactory

ROOT = os.geteuid() == 0


def database(stanza: Stanza, expect_rows: int) -> Database:
    """The stanza's database, with a check that counts the rows only WAL replay brings back."""
    count = f"SELECT count(*) FROM public.{TABLE}"  # noqa: S608 (a constant)
    query = IntegrityQuery(name="rows", sql=count, expect=f"== {expect_rows}")
    return Database(name=DATABASE, site="dc1", targets=(stanza.name,), checks=(query,))


def stanza_repo(stanza: Stanza, environ: Mapping[str, str] | None = None) -> StanzaRepo:
    target = Target(
        name=stanza.name,
        type=TargetType.PGBACKREST,
        stanza=stanza.name,
        config=str(stanza.config),
        site="dc1",
    )
    [copy] = read_stanza(target, environ or os.environ, timeout=60)
    assert not isinstance(copy.repo, Unavailable), copy.repo
    return copy.repo


def drilled(
    stanza: Stanza, work_dir: Path, environ: Mapping[str, str] | None = None, **options: bool
) -> DrillOutcome:
    settings = RestoreSettings(work_dir=str(work_dir))
    return drill_stanza(
        database(stanza, stanza.rows_replayable),
        stanza.name,
        stanza_repo(stanza),
        settings,
        environ or os.environ,
        **options,
    )


def findings(outcome: DrillOutcome, stanza: Stanza, expect_rows: int | None = None) -> dict[str, Finding]:
    assert outcome.snapshot is not None
    facts = RestoreFacts(
        database(stanza, expect_rows or stanza.rows_replayable),
        Policy(),
        outcome.snapshot.created_at,
        outcome,
    )
    found = {}
    for function in (restore, integrity, wal_replay, page_checksums):
        [finding] = evaluate(function.__drill_check__, facts)  # type: ignore[attr-defined]
        found[finding.check] = finding
    return found


def repository_files(repo: Path) -> dict[Path, tuple[int, int]]:
    return {
        path.relative_to(repo): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in repo.rglob("*")
        if path.is_file()
    }


def assert_clean(work_dir: Path) -> None:
    assert list(work_dir.iterdir()) == [], "the drill left files behind"
    assert processes_mentioning(str(work_dir)) == []


def test_a_posix_stanza_restores_replays_the_archive_and_passes(
    pgbackrest_stanza: Stanza, work_dir: Path
) -> None:
    stanza = pgbackrest_stanza
    assert stanza.repo_path is not None
    before = repository_files(stanza.repo_path)
    outcome = drilled(stanza, work_dir)

    assert outcome.failure is None, outcome.failure
    # The repository is only read: every file it held is as it was, and no backup file was added.
    after = repository_files(stanza.repo_path)
    assert {path: after.get(path) for path in before} == before
    assert {path for path in after if path.parts[0] == "backup"} <= set(before)
    assert outcome.verification is not None and outcome.replay is not None
    # The rows written after the backup came back only through WAL replay; the configured check counts them.
    assert stanza.rows_replayable > stanza.rows_in_backup
    assert outcome.verification.queries[0].value == stanza.rows_replayable
    assert outcome.replay.missing is None and outcome.replay.last_segment == outcome.replay.archive_newest
    assert outcome.replay.last_transaction_at is not None
    assert outcome.replay.last_transaction_at >= outcome.replay.backup_stopped_at
    assert outcome.checksums is not None and outcome.checksums.enabled and outcome.checksums.status == 0
    assert (
        min(outcome.timings.restore_seconds, outcome.timings.replay_seconds, outcome.timings.verify_seconds)
        > 0
    )
    verdicts = findings(outcome, stanza)
    assert {check: finding.status for check, finding in verdicts.items()} == dict.fromkeys(
        verdicts, Status.PASS
    )
    assert "WAL replay" in verdicts["restore"].message
    assert stanza.labels[-1] in verdicts["wal_replay"].message
    assert_clean(work_dir)


def test_a_wal_gap_fails_naming_the_missing_segment(pgbackrest_gap_stanza: Stanza, work_dir: Path) -> None:
    stanza = pgbackrest_gap_stanza
    assert stanza.deleted is not None
    outcome = drilled(stanza, work_dir)

    assert outcome.replay is not None and outcome.replay.missing == stanza.deleted
    verdicts = findings(outcome, stanza, expect_rows=stanza.rows)
    assert verdicts["wal_replay"].status is Status.FAIL
    assert (
        stanza.deleted in verdicts["wal_replay"].message and "stopped early" in verdicts["wal_replay"].message
    )
    # The copy starts and answers queries, without the rows after the hole: the configured check sees it.
    assert verdicts["restore"].status is Status.PASS
    assert (
        outcome.verification is not None and outcome.verification.queries[0].value == stanza.rows_replayable
    )
    assert verdicts["integrity"].status is Status.FAIL
    assert_clean(work_dir)


def test_an_encrypted_repository_restores_and_its_passphrase_is_never_shown(
    pgbackrest_encrypted_stanza: Stanza, work_dir: Path
) -> None:
    stanza = pgbackrest_encrypted_stanza
    assert stanza.cipher_pass is not None
    outcome = drilled(stanza, work_dir)

    assert outcome.failure is None, outcome.failure
    verdicts = findings(outcome, stanza)
    assert all(finding.status is Status.PASS for finding in verdicts.values()), verdicts
    assert stanza.cipher_pass not in repr(outcome) + repr(verdicts)
    assert_clean(work_dir)


def test_a_wrong_passphrase_fails_the_restore_without_showing_either(
    pgbackrest_encrypted_stanza: Stanza, work_dir: Path
) -> None:
    stanza = pgbackrest_encrypted_stanza
    wrong = "not-the-passphrase-0123456789"
    outcome = drilled(stanza, work_dir, {**os.environ, "PGBACKREST_REPO1_CIPHER_PASS": wrong})

    assert outcome.failed_stage == "restore" and outcome.failure is not None
    assert "pgbackrest restore" in outcome.failure
    assert wrong not in repr(outcome) and str(stanza.cipher_pass) not in repr(outcome)
    assert findings(outcome, stanza)["restore"].status is Status.FAIL
    assert_clean(work_dir)


def test_an_s3_repository_restores(pgbackrest_s3_stanza: Stanza, work_dir: Path) -> None:
    stanza = pgbackrest_s3_stanza
    outcome = drilled(stanza, work_dir)

    assert outcome.failure is None, outcome.failure
    assert (
        outcome.verification is not None and outcome.verification.queries[0].value == stanza.rows_replayable
    )
    assert all(finding.status is Status.PASS for finding in findings(outcome, stanza).values())
    assert_clean(work_dir)


def test_a_corrupt_page_fails_page_checksums(make_stanza: StanzaFactory, work_dir: Path) -> None:
    stanza = make_stanza("torn", corrupt_page=True)
    outcome = drilled(stanza, work_dir)

    assert outcome.checksums is not None and outcome.checksums.status not in (0, None)
    verdict = findings(outcome, stanza)["page_checksums"]
    assert verdict.status is Status.FAIL and "checksum verification failed" in verdict.message
    assert_clean(work_dir)


def test_the_recovered_server_reads_drills_config_never_the_backups(
    make_stanza: StanzaFactory, work_dir: Path
) -> None:
    stanza = make_stanza("foreign", rows_after=0)
    original = stanza.root / "tablespace"
    original.mkdir()
    os.chown(original, pwd.getpwnam("postgres").pw_uid, pwd.getpwnam("postgres").pw_gid) if ROOT else None
    stanza.cluster.psql(f"CREATE TABLESPACE spare LOCATION '{original}'", "postgres")
    stanza.cluster.psql(
        "CREATE TABLE spare_rows TABLESPACE spare AS SELECT g AS id FROM generate_series(1, 30) g"
    )
    # Settings that would stop a server reading them: a library that does not exist, an include of a
    # file that does not exist, TLS without its keys. They are in the backup's files only.
    with (stanza.cluster.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write("shared_preload_libraries = 'no_such_library'\ninclude 'no_such_file.conf'\nssl = on\n")
    # Commands the backup's postgresql.auto.conf would run during recovery: drill's configuration
    # replaces it. (pgBackRest leaves a standby.signal out of its backups; drill removes one all the same.)
    ran = stanza.root / "the-backups-command-ran"
    stanza.cluster.psql(f"ALTER SYSTEM SET restore_command = 'touch {ran}'", "postgres")
    stanza.cluster.psql(f"ALTER SYSTEM SET recovery_end_command = 'touch {ran}'", "postgres")
    label = stanza.backup()
    assert stanza.repo_path is not None
    manifest = (stanza.repo_path / "backup" / stanza.name / label / "backup.manifest").read_text()
    assert "pg_data/postgresql.auto.conf" in manifest
    assert "restore_command" in (stanza.cluster.data / "postgresql.auto.conf").read_text()
    stanza.write_rows(10)
    before = sorted((path, path.stat().st_mtime_ns) for path in original.rglob("*"))

    outcome = drilled(stanza, work_dir, keep=True)
    assert outcome.kept is not None, outcome.failure
    [root] = work_dir.iterdir()
    try:
        socket = next(path for path in (root / "socket").iterdir() if path.is_socket())
        with psycopg.connect(
            host=str(socket.parent), port=socket.name.rsplit(".", 1)[1], user="postgres", dbname=DATABASE,
            client_encoding="UTF8", autocommit=True,
        ) as connection:  # fmt: skip
            names = ("shared_preload_libraries", "archive_mode", "ssl", "listen_addresses", "config_file")
            settings = dict(
                connection.execute(
                    "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", (list(names),)
                ).fetchall()
            )
            location = connection.execute(
                "SELECT pg_tablespace_location(oid) FROM pg_tablespace WHERE spcname = 'spare'"
            ).fetchone()
            spare = connection.execute("SELECT count(*) FROM spare_rows").fetchone()
            backend = connection.execute("SELECT pg_backend_pid()").fetchone()
            # Read while the session is open: its backend exits with it.
            assert backend is not None
            status = Path(f"/proc/{backend[0]}/status").read_text().splitlines()
        assert settings == {
            "shared_preload_libraries": "", "archive_mode": "off", "ssl": "off", "listen_addresses": "",
            "config_file": str(root / "config" / "postgresql.conf"),
        }  # fmt: skip
        assert location is not None and location[0].startswith(str(root / "tablespaces"))
        assert spare == (30,)
        assert not ran.exists()
        # The tablespace's original directory, where production keeps it, was never written to.
        assert sorted((path, path.stat().st_mtime_ns) for path in original.rglob("*")) == before
        if ROOT:
            uid = int(next(line for line in status if line.startswith("Uid:")).split()[1])
            assert uid == pwd.getpwnam("postgres").pw_uid
    finally:
        pid = int((root / "data" / "postmaster.pid").read_text().split("\n", 1)[0])
        os.kill(pid, 2)
        assert wait_until(lambda: not Path(f"/proc/{pid}").exists())


def test_a_backup_of_a_version_without_its_server_is_a_clear_setup_error(
    pgbackrest_stanza: Stanza, work_dir: Path
) -> None:
    repo = stanza_repo(pgbackrest_stanza)
    assert repo.latest is not None
    from dataclasses import replace  # noqa: PLC0415

    older = replace(repo, backups=(replace(repo.latest, pg_version="11"),))
    with pytest.raises(RestoreSetupError, match=r"PostgreSQL 11.*apt-get install postgresql-11"):
        drill_stanza(
            database(pgbackrest_stanza, 0), "main", older, RestoreSettings(work_dir=str(work_dir)), os.environ
        )
    assert_clean(work_dir)


def test_the_server_of_the_backups_version_is_found() -> None:
    found = binaries_for("15", RestoreSettings(), os.environ)
    assert found.major == 15 and found.has("pg_checksums")
    with pytest.raises(RestoreSetupError, match=r"PostgreSQL 16 server.*found only"):
        binaries_for("16", RestoreSettings(), os.environ)
    with pytest.raises(RestoreSetupError, match="version as '15; DROP'"):
        binaries_for("15; DROP", RestoreSettings(), os.environ)


def test_an_older_backup_set_restores_and_replays_to_the_archives_end(
    make_stanza: StanzaFactory, work_dir: Path
) -> None:
    stanza = make_stanza("sets", backups=("full", "incr"))
    older = stanza.labels[0]
    settings = RestoreSettings(work_dir=str(work_dir))
    database_ = database(stanza, stanza.rows_replayable)
    outcome = drill_stanza(
        database_, stanza.name, stanza_repo(stanza), settings, os.environ, backup_set=older
    )
    assert outcome.failure is None, outcome.failure
    assert outcome.snapshot is not None and outcome.snapshot.key == f"{stanza.name}/{older}"
    assert outcome.replay is not None and outcome.replay.backup == older and outcome.replay.missing is None
    assert (
        outcome.verification is not None and outcome.verification.queries[0].value == stanza.rows_replayable
    )
    unknown = drill_stanza(
        database_, stanza.name, stanza_repo(stanza), settings, os.environ, backup_set="20990101-000000F"
    )
    assert unknown.failed_stage == "fetch" and "20990101-000000F" in str(unknown.failure)
    assert_clean(work_dir)


def test_a_linked_pg_wal_is_restored_as_a_directory_in_scratch(
    make_stanza: StanzaFactory, work_dir: Path
) -> None:
    stanza = make_stanza("linked", rows_after=0)
    elsewhere = stanza.root / "wal-on-another-disk"
    pg_ctl = (str(stanza.cluster.bin_dir / "pg_ctl"), "-D", str(stanza.cluster.data), "-w")
    log = ("-l", str(stanza.root / "log" / "postgresql.log"))
    subprocess.run((*pg_ctl, "-m", "fast", "stop"), user="postgres", check=True, capture_output=True)
    (stanza.cluster.data / "pg_wal").rename(elsewhere)
    (stanza.cluster.data / "pg_wal").symlink_to(elsewhere)
    subprocess.run((*pg_ctl, *log, "start"), user="postgres", check=True, capture_output=True)
    stanza.backup()
    stanza.write_rows(10)

    outcome = drilled(stanza, work_dir, keep=True)
    assert outcome.kept is not None, outcome.failure
    [root] = work_dir.iterdir()
    try:
        restored = root / "data" / "pg_wal"
        assert restored.is_dir() and not restored.is_symlink()
        assert (
            outcome.verification is not None
            and outcome.verification.queries[0].value == stanza.rows_replayable
        )
    finally:
        pid = int((root / "data" / "postmaster.pid").read_text().split("\n", 1)[0])
        os.kill(pid, 2)
        assert wait_until(lambda: not Path(f"/proc/{pid}").exists())


def test_the_backups_database_and_role_settings_never_reach_drills_sessions(
    make_stanza: StanzaFactory, work_dir: Path
) -> None:
    # A backup's ALTER DATABASE ... SET applies to every role that connects, drill's restore role
    # included, and a non-superuser cannot override a superuser-only setting from its startup packet:
    # a library preloaded there would run in the verification's backend. The library does not exist,
    # so a session that loaded it could not even start.
    stanza = make_stanza("settings", rows_after=0)
    stanza.cluster.psql(
        f"ALTER DATABASE {DATABASE} SET session_preload_libraries = 'no_such_library'", "postgres"
    )
    stanza.cluster.psql("ALTER ROLE ALL SET search_path = 'nowhere'", "postgres")
    stanza.backup()

    outcome = drilled(stanza, work_dir)

    assert outcome.failure is None, outcome.failure
    assert outcome.verification is not None
    assert outcome.verification.queries[0].value == stanza.rows_replayable
    assert_clean(work_dir)
