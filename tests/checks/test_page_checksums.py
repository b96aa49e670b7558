from drill.checks.page_checksums import page_checksums
from drill.config import Policy
from drill.engine import evaluate
from drill.facts import DrillOutcome, PageChecksums, RestoreFacts
from drill.model import Finding, Status
from tests import factories

SPEC = page_checksums.__drill_check__  # type: ignore[attr-defined]
# pg_checksums 15's own words (the end-to-end tests in tests/drill/restore/physical run the real one).
CLEAN = "Checksum operation completed\nFiles scanned:   949\nBlocks scanned:  2823\nBad checksums:  0\nData checksum version: 1"
TORN = 'pg_checksums: error: checksum verification failed in file "./base/16384/16392", block 0: calculated checksum 9C2A but block contains 1F3B'


def judged(checksums: PageChecksums | None, dump_format: str = "pgbackrest") -> Finding:
    outcome = DrillOutcome("main", None, dump_format=dump_format, checksums=checksums)
    [finding] = evaluate(SPEC, RestoreFacts(factories.database(), Policy(), factories.NOW, outcome))
    return finding


def test_clean_pages_pass_with_what_was_scanned() -> None:
    finding = judged(PageChecksums(enabled=True, status=0, report=CLEAN))
    assert finding.status is Status.PASS and "2823 blocks in 949 files" in finding.message


def test_a_torn_page_fails_naming_the_file() -> None:
    finding = judged(PageChecksums(enabled=True, status=1, report=TORN))
    assert finding.status is Status.FAIL and "base/16384/16392" in finding.message


def test_a_check_that_did_not_finish_is_an_error() -> None:
    finding = judged(PageChecksums(enabled=True, status=None, report="ran longer than 60s and was stopped."))
    assert finding.status is Status.ERROR


def test_a_kept_server_is_not_checked_and_says_why() -> None:
    finding = judged(PageChecksums(enabled=True, not_run="--keep leaves the server running"))
    assert finding.status is Status.SKIPPED and "--keep" in finding.message


def test_checksums_turned_off_warn() -> None:
    assert judged(PageChecksums(enabled=False)).status is Status.WARN


def test_a_dump_has_no_pages_to_check() -> None:
    assert judged(None, dump_format="custom").status is Status.SKIPPED
