from drill.checks.pgbackrest_backups import pgbackrest_backups
from drill.engine import evaluate
from drill.facts import Unavailable
from drill.model import Severity, Status
from tests import stanza_facts as stanza

SPEC = pgbackrest_backups.__drill_check__  # type: ignore[attr-defined]


def test_backups_without_checksum_errors_pass() -> None:
    [finding] = evaluate(SPEC, stanza.facts())
    assert finding.status is Status.PASS
    assert finding.evidence.latest == "20261122-100000F" and finding.evidence.with_errors == ()


def test_latest_backup_flagged_with_checksum_errors_fails_critical() -> None:
    # The shape pgBackRest 2.45's info prints ("error": true); tests/drill/storage/pgbackrest provokes it for real.
    flagged = stanza.repo(backups=(stanza.backup(error=True),))
    [finding] = evaluate(SPEC, stanza.facts(flagged))
    assert finding.status is Status.FAIL and finding.severity is Severity.CRITICAL
    assert "20261122-100000F" in finding.message and "checksum" in finding.message


def test_an_older_flagged_backup_fails_too() -> None:
    backups = (stanza.backup("20261120-100000F", error=True), stanza.backup())
    [finding] = evaluate(SPEC, stanza.facts(stanza.repo(backups=backups)))
    assert finding.status is Status.FAIL and finding.severity is Severity.HIGH
    assert finding.evidence.with_errors == ("20261120-100000F",)


def test_a_repository_without_backups_fails() -> None:
    empty = stanza.repo(backups=(), status_code=2, status="no valid backups")
    [finding] = evaluate(SPEC, stanza.facts(empty))
    assert finding.status is Status.FAIL and "no valid backups" in finding.message


def test_a_backup_info_says_nothing_about_is_not_verified() -> None:
    [finding] = evaluate(SPEC, stanza.facts(stanza.repo(backups=(stanza.backup(error=None),))))
    assert finding.status is Status.ERROR


def test_an_unreadable_stanza_is_an_error() -> None:
    [finding] = evaluate(SPEC, stanza.facts(Unavailable("pgbackrest info exited with status 56.")))
    assert finding.status is Status.ERROR and "status 56" in finding.message


def test_a_repository_pgbackrest_calls_unhealthy_fails_with_its_words() -> None:
    unhealthy = stanza.repo(status_code=4, status="different across stanza repositories")
    [finding] = evaluate(SPEC, stanza.facts(unhealthy))
    assert finding.status is Status.FAIL and "different across stanza repositories" in finding.message
