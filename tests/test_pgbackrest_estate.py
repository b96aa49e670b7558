"""The shared pgBackRest stanzas are what their docstring promises (tests/pgbackrest_estate.py)."""

from __future__ import annotations

import pytest

from tests.pgbackrest_estate import CIPHER_PASS, ROWS_AFTER, ROWS_BEFORE, TABLE, Stanza, StanzaFactory

pytestmark = pytest.mark.slow


def test_posix_stanza_has_a_full_backup_and_rows_only_in_the_wal(pgbackrest_stanza: Stanza) -> None:
    info = pgbackrest_stanza.info()
    assert info["status"]["code"] == 0
    assert [backup["type"] for backup in info["backup"]] == ["full"]
    assert pgbackrest_stanza.rows_in_backup == ROWS_BEFORE
    assert pgbackrest_stanza.rows == pgbackrest_stanza.rows_replayable == ROWS_BEFORE + ROWS_AFTER
    counted = pgbackrest_stanza.cluster.psql(f"SELECT count(*) FROM {TABLE}")  # noqa: S608 (a constant)
    assert counted == str(ROWS_BEFORE + ROWS_AFTER)
    newest = max(pgbackrest_stanza.archived())
    assert newest > info["backup"][-1]["archive"]["stop"]  # the rows after it were archived
    assert pgbackrest_stanza.repo_path is not None and pgbackrest_stanza.repo_path.is_dir()


def test_encrypted_stanza_reports_its_cipher(pgbackrest_encrypted_stanza: Stanza) -> None:
    info = pgbackrest_encrypted_stanza.info()
    assert info["repo"][0]["cipher"] == "aes-256-cbc"
    assert pgbackrest_encrypted_stanza.cipher_pass == CIPHER_PASS
    assert CIPHER_PASS in pgbackrest_encrypted_stanza.config.read_text()


def test_gap_stanza_lacks_the_deleted_segment_while_info_says_ok(pgbackrest_gap_stanza: Stanza) -> None:
    stanza = pgbackrest_gap_stanza
    archived = stanza.archived()
    assert stanza.deleted is not None and stanza.deleted not in archived
    assert max(archived) > stanza.deleted > stanza.info()["backup"][-1]["archive"]["stop"]
    assert stanza.info()["status"]["code"] == 0
    assert stanza.rows_in_backup < stanza.rows_replayable < stanza.rows


def test_corrupt_page_sets_the_backup_error_flag(make_stanza: StanzaFactory) -> None:
    stanza = make_stanza("corrupt", corrupt_page=True, rows_after=0)
    assert stanza.info()["backup"][-1]["error"] is True


def test_s3_stanza_backs_up_into_moto_through_tls(pgbackrest_s3_stanza: Stanza) -> None:
    info = pgbackrest_s3_stanza.info()
    assert info["status"]["code"] == 0 and len(info["backup"]) == 1
    assert pgbackrest_s3_stanza.archived()
