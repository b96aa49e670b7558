from drill.checks.pgbackrest_wal import pgbackrest_wal
from drill.engine import evaluate
from drill.facts import Unavailable
from drill.model import Severity, Status
from tests import stanza_facts as stanza

SPEC = pgbackrest_wal.__drill_check__  # type: ignore[attr-defined]


def test_an_archive_without_holes_passes() -> None:
    [finding] = evaluate(SPEC, stanza.facts())
    assert finding.status is Status.PASS
    assert "000000010000000000000004" in finding.message and "000000010000000000000009" in finding.message


def test_a_hole_after_the_latest_backup_fails_naming_the_segment() -> None:
    holed = stanza.archive(missing=("000000010000000000000006",), missing_count=1)
    [finding] = evaluate(SPEC, stanza.facts(stanza.repo(wal=holed)))
    assert finding.status is Status.FAIL
    assert "000000010000000000000006" in finding.message and "silently lost" in finding.message


def test_a_segment_the_backup_itself_needs_fails_critical() -> None:
    holed = stanza.archive(
        missing=("000000010000000000000004",),
        missing_count=1,
        backup_range_missing=("000000010000000000000004",),
    )
    [finding] = evaluate(SPEC, stanza.facts(stanza.repo(wal=holed)))
    assert finding.status is Status.FAIL and finding.severity is Severity.CRITICAL
    assert "000000010000000000000004" in finding.message and "cannot be restored" in finding.message


def test_an_empty_archive_fails() -> None:
    empty = stanza.archive(oldest=None, newest=None, listed_from=None)
    [finding] = evaluate(SPEC, stanza.facts(stanza.repo(wal=empty)))
    assert finding.status is Status.FAIL


def test_an_unlisted_archive_is_an_error_not_a_pass() -> None:
    unlisted = Unavailable("The WAL archive of repo1 could not be listed: timed out.")
    [finding] = evaluate(SPEC, stanza.facts(stanza.repo(wal=unlisted)))
    assert finding.status is Status.ERROR and "timed out" in finding.message


def test_an_unknown_segment_size_is_an_error() -> None:
    [finding] = evaluate(
        SPEC, stanza.facts(stanza.repo(wal=stanza.archive(segment_size=None, listed_from=None)))
    )
    assert finding.status is Status.ERROR
